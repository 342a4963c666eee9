/**
 * Consumer groups on a broker of a cluster. `__consumer_offsets` (one partition in this step) is
 * created once enough brokers registered to give it min(3, cluster.nodes) replicas, by whichever broker
 * gets there first (the controller refuses the others' attempts as TOPIC_ALREADY_EXISTS). The broker
 * that leads its partition loads the group coordinator from it; every other broker answers group
 * requests NOT_COORDINATOR, and FindCoordinator sends clients to the leader. Checked after each metadata
 * change and once a second until loaded, because the partition opens a little after its creation
 * applies.
 */
import type { Clock } from '../io/clock.ts';
import { every, type PeriodicTimer } from '../io/periodic-timer.ts';
import type { Logger } from '../observability/logger.ts';
import { GroupCoordinator } from '../groups/group-coordinator.ts';
import type { Partition } from '../replication/partition.ts';
import type { PartitionManager } from '../replication/partition-manager.ts';
import type { TopicService } from '../broker/topic-service.ts';
import type { ClusterNode } from './cluster-node.ts';

const CHECK_MS = 1_000;

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
  private currentCoordinator: GroupCoordinator;
  private loaded = false;
  private checking = false;
  private timer: PeriodicTimer | null = null;
  private stopped = false;

  constructor(private readonly options: ClusterGroupsOptions) {
    this.currentCoordinator = options.standby();
  }

  /** The coordinator the Kafka handlers use: the loaded one here, or the standby. */
  get coordinator(): GroupCoordinator {
    return this.currentCoordinator;
  }

  start(): void {
    this.options.node.metadata.onChange(() => this.check());
    this.timer = every(this.options.clock, CHECK_MS, () => this.check());
    this.check();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.currentCoordinator.close();
  }

  private check(): void {
    if (this.checking || this.loaded || this.stopped) return;
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
      const created = await topics.create(offsetsTopic, 1, factor, { 'cleanup.policy': 'compact' });
      if (created.error !== null && created.error !== 'TOPIC_ALREADY_EXISTS') log.warn({ error: created.error, message: created.message }, `${offsetsTopic} not created yet`);
      return;
    }
    if (node.view.groupCoordinator()?.id !== node.view.brokerId) return;
    const partition = partitions.get(offsetsTopic, 0);
    if (partition === undefined) return;
    const coordinator = this.options.coordinatorOn(partition);
    const summary = await coordinator.load();
    if (this.stopped) {
      coordinator.close();
      return;
    }
    this.currentCoordinator.close();
    this.currentCoordinator = coordinator;
    this.loaded = true;
    log.info(summary, 'consumer groups loaded; this broker coordinates them');
  }
}
