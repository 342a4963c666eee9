/**
 * Consumer groups on a broker of a cluster. `__consumer_offsets` gets Kafka's defaults (50 partitions,
 * min(3, cluster.nodes) replicas); it is created once that many brokers registered, by whichever broker
 * gets there first (the controller refuses the others' attempts as TOPIC_ALREADY_EXISTS). For every
 * offsets partition this broker leads (its replica ready for writes), a group coordinator loads from it
 * and joins the router; groups of the other partitions are answered NOT_COORDINATOR, and FindCoordinator
 * sends clients to the leader of their partition. When leadership moves, the coordinator is dropped here
 * and loaded on the new leader. Checked after each metadata change, each leadership change of an
 * offsets partition, and once a second.
 */
import type { Clock } from '../io/clock.ts';
import { every, type PeriodicTimer } from '../io/periodic-timer.ts';
import type { Logger } from '../observability/logger.ts';
import type { GroupCoordinator } from '../groups/group-coordinator.ts';
import { GroupRouter } from '../groups/group-router.ts';
import type { Partition } from '../replication/partition.ts';
import type { PartitionManager } from '../replication/partition-manager.ts';
import type { TopicService } from '../broker/topic-service.ts';
import type { ClusterNode } from './cluster-node.ts';

const CHECK_MS = 1_000;
/** Kafka's offsets.topic.num.partitions default. */
export const OFFSETS_PARTITIONS = 50;

export interface ClusterGroupsOptions {
  readonly node: ClusterNode;
  readonly topics: TopicService;
  readonly partitions: PartitionManager;
  readonly offsetsTopic: string;
  /** Voters in cluster.nodes: the offsets topic gets min(3, voters) replicas. */
  readonly voters: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly standby: () => GroupCoordinator;
  readonly coordinatorOn: (partition: Partition) => GroupCoordinator;
}

export class ClusterGroups {
  readonly router: GroupRouter;
  private checking = false;
  private timer: PeriodicTimer | null = null;
  private stopped = false;
  /** The leader epoch each loaded coordinator was loaded at. */
  private readonly loadedEpochs = new Map<number, number>();

  constructor(private readonly options: ClusterGroupsOptions) {
    this.router = new GroupRouter(() => options.node.metadata.state.topic(options.offsetsTopic)?.partitions ?? 0, options.standby());
  }

  start(): void {
    this.options.node.metadata.onChange(() => this.check());
    this.options.node.onPartitionLeadership((replica) => {
      if (replica.partition.topic === this.options.offsetsTopic) this.check();
    });
    this.timer = every(this.options.clock, CHECK_MS, () => this.check());
    this.check();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.router.close();
  }

  private check(): void {
    if (this.checking || this.stopped) return;
    this.checking = true;
    void this.step()
      .catch((err: unknown) => this.options.log.error({ err }, 'consumer group coordinator placement failed; retrying'))
      .finally(() => {
        this.checking = false;
      });
  }

  private async step(): Promise<void> {
    const { node, topics, partitions, offsetsTopic, log } = this.options;
    const state = node.metadata.state;
    const topic = state.topic(offsetsTopic);
    if (topic === undefined) {
      const factor = Math.min(3, this.options.voters);
      if (state.brokers().length < factor) return;
      const created = await topics.create(offsetsTopic, OFFSETS_PARTITIONS, factor, { 'cleanup.policy': 'compact' });
      if (created.error !== null && created.error !== 'TOPIC_ALREADY_EXISTS') log.warn({ error: created.error, message: created.message }, `${offsetsTopic} not created yet`);
      return;
    }
    const loads: Promise<void>[] = [];
    for (let index = 0; index < topic.partitions; index++) {
      // The coordinator lives with the partition's ready leader; it moves when leadership does.
      const partition = partitions.get(offsetsTopic, index);
      const loadedAt = this.loadedEpochs.get(index);
      if (partition === undefined || !partition.writable || (loadedAt !== undefined && loadedAt !== partition.leaderEpoch)) {
        // Another leader may have written groups in between: a coordinator is loaded per leadership.
        if (this.router.has(index)) this.router.remove(index);
        this.loadedEpochs.delete(index);
        if (partition === undefined || !partition.writable) continue;
      }
      if (this.router.has(index)) continue;
      this.loadedEpochs.set(index, partition.leaderEpoch);
      const coordinator = this.options.coordinatorOn(partition);
      // In the router while loading, so its groups answer COORDINATOR_LOAD_IN_PROGRESS meanwhile.
      this.router.add(index, coordinator);
      loads.push(
        coordinator.load().then(
          (summary) => log.info({ partition: index, ...summary }, 'consumer groups loaded'),
          (err: unknown) => {
            log.error({ err, partition: index }, 'consumer groups could not be loaded; retrying');
            this.router.remove(index);
            this.loadedEpochs.delete(index);
          },
        ),
      );
    }
    await Promise.all(loads);
    if (this.stopped) this.router.close();
  }
}
