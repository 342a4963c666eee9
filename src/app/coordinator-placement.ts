/**
 * Coordinators that live with the leaders of an internal topic's partitions: the consumer group
 * coordinators on `__consumer_offsets`, the transaction coordinators on `__transaction_state` (Kafka's
 * model). The topic is created with Kafka's defaults (50 partitions on a cluster, compacted, min(3,
 * voters) replicas) once that many brokers registered, by whichever broker gets there first (the
 * controller refuses the others' attempts as TOPIC_ALREADY_EXISTS): at once for groups, on first use
 * for transactions (`want()`), as Kafka creates `__transaction_state` only when a transactional
 * producer asks for its coordinator. For every partition this broker leads (its replica ready for
 * writes), a coordinator loads from it and joins the slots; when leadership moves, it is dropped here
 * and loaded on the new leader. A lone broker leads every partition, so the same code serves it; only
 * its start-up differs (`startAlone`: it waits for every coordinator and fails without one).
 * Checked after each metadata change, each leadership change of the topic, and once a second.
 */
import type { Clock } from '../io/clock.ts';
import { every, type PeriodicTimer } from '../io/periodic-timer.ts';
import type { Logger } from '../observability/logger.ts';
import type { MetadataService } from '../replication/metadata-service.ts';
import type { Partition } from '../replication/partition.ts';
import type { PartitionManager } from '../replication/partition-manager.ts';
import type { TopicService } from '../broker/topic-service.ts';
import type { PartitionCoordinators } from '../groups/partition-coordinators.ts';

const CHECK_MS = 1_000;

export interface PlacementOptions<C extends { load(): Promise<object>; close(): void }> {
  /** What the coordinators are, for log lines ("consumer groups"). */
  readonly what: string;
  readonly topic: string;
  /** Partitions and replicas of the topic when this placement creates it. */
  readonly partitionCount: number;
  readonly replicationFactor: number;
  /** Brokers registered now: the topic is created once there are enough for its replicas. */
  readonly brokers: () => number;
  /** False: the topic is created only after `want()`. */
  readonly eager: boolean;
  readonly metadata: () => MetadataService;
  readonly topics: () => TopicService;
  readonly partitions: PartitionManager;
  /** Where loaded coordinators go (GroupRouter, TxnRouter). */
  readonly slots: Pick<PartitionCoordinators<C>, 'add' | 'remove' | 'has' | 'close'>;
  readonly coordinatorOn: (partition: Partition) => C;
  readonly clock: Clock;
  readonly log: Logger;
}

export class CoordinatorPlacement<C extends { load(): Promise<object>; close(): void }> {
  /** The check under way, and the one queued behind it for the calls made meanwhile. */
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private wanted: boolean;
  private timer: PeriodicTimer | null = null;
  private stopped = false;
  /** The leader epoch each loaded coordinator was loaded at. */
  private readonly loadedEpochs = new Map<number, number>();
  /** Why the last attempt failed: the topic's creation, and each partition's load (until one succeeds). */
  private createError: string | null = null;
  private readonly loadErrors = new Map<number, unknown>();

  constructor(private readonly options: PlacementOptions<C>) {
    this.wanted = options.eager;
  }

  /**
   * Starts the periodic check; callers also call check() on metadata and leadership changes. Resolves
   * once the first check has run.
   */
  start(): Promise<void> {
    this.timer = every(this.options.clock, CHECK_MS, () => void this.check());
    return this.check();
  }

  /**
   * A lone broker leads every partition of the topic: starts the checks and resolves once each
   * partition has its coordinator loaded here. Rejects, stopped, when one has not: with no other
   * broker to turn to, clients would be told NOT_COORDINATOR for its keys for as long as it runs.
   */
  async startAlone(): Promise<void> {
    await this.start();
    const { topic: name, partitions, slots } = this.options;
    const topic = this.options.metadata().state.topic(name);
    const problems: string[] = [];
    if (topic === undefined) problems.push(`${name} could not be created: ${this.createError ?? 'no attempt (too few brokers)'}`);
    for (let index = 0; index < (topic?.partitions ?? 0); index++) {
      if (slots.has(index)) continue;
      const failed = this.loadErrors.get(index);
      const reason = failed === undefined ? (partitions.offlineReason(name, index) ?? 'not writable here') : failed instanceof Error ? failed.message : String(failed);
      problems.push(`${name}-${index}: ${reason}`);
    }
    if (problems.length === 0) return;
    this.stop();
    throw new Error(`${this.options.what} not loaded: ${problems.join('; ')}`);
  }

  /** The topic is needed (a client asked for a coordinator): create it if it does not exist. */
  want(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.check();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.options.slots.close();
  }

  /**
   * Resolves once a check that starts now has run (never rejects: failures are logged and retried).
   * One check runs at a time; the calls made while one runs share a single check after it.
   */
  check(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running !== null) {
      this.queued ??= this.running.then(() => {
        this.queued = null;
        return this.check();
      });
      return this.queued;
    }
    this.running = this.step()
      .catch((err: unknown) => this.options.log.error({ err }, `${this.options.what} coordinator placement failed; retrying`))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  private async step(): Promise<void> {
    const { topic: name, partitions, slots, log, what } = this.options;
    const metadata = this.options.metadata();
    if (metadata.state.topic(name) === undefined) {
      if (!this.wanted || this.options.brokers() < this.options.replicationFactor) return;
      const created = await this.options.topics().create(name, this.options.partitionCount, this.options.replicationFactor, { 'cleanup.policy': 'compact' });
      this.createError = created.error === null || created.error === 'TOPIC_ALREADY_EXISTS' ? null : (created.message ?? created.error);
      if (this.createError !== null) log.warn({ error: created.error, message: created.message }, `${name} not created yet`);
    }
    // Created just now, a lone broker's partitions are open and led here: they load in this same check.
    const topic = metadata.state.topic(name);
    if (topic === undefined) return;
    const loads: Promise<void>[] = [];
    for (let index = 0; index < topic.partitions; index++) {
      // The coordinator lives with the partition's ready leader; it moves when leadership does.
      const partition = partitions.get(name, index);
      const loadedAt = this.loadedEpochs.get(index);
      if (partition === undefined || !partition.writable || (loadedAt !== undefined && loadedAt !== partition.leaderEpoch)) {
        // Another leader may have written in between: a coordinator is loaded per leadership.
        if (slots.has(index)) slots.remove(index);
        this.loadedEpochs.delete(index);
        if (partition === undefined || !partition.writable) continue;
      }
      if (slots.has(index)) continue;
      this.loadedEpochs.set(index, partition.leaderEpoch);
      const coordinator = this.options.coordinatorOn(partition);
      // In the slots while loading, so its keys answer COORDINATOR_LOAD_IN_PROGRESS meanwhile.
      slots.add(index, coordinator);
      loads.push(
        coordinator.load().then(
          (summary) => {
            this.loadErrors.delete(index);
            log.info({ partition: index, ...summary }, `${what} loaded`);
          },
          (err: unknown) => {
            log.error({ err, partition: index }, `${what} could not be loaded; retrying`);
            this.loadErrors.set(index, err);
            slots.remove(index);
            this.loadedEpochs.delete(index);
          },
        ),
      );
    }
    await Promise.all(loads);
    if (this.stopped) slots.close();
  }
}
