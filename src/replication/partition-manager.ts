/**
 * Every partition hosted by this broker, keyed by topic and index. Opens logs through an injected
 * factory (the storage engine in production), creates them when topics are created or grow, and
 * removes them when topics are deleted. A partition whose log cannot be opened (corruption in a sealed
 * segment, a failed directory) is kept as offline with its reason; the rest of the broker runs on.
 */
import type { PartitionLog } from './partition-log.ts';
import { Partition } from './partition.ts';

export interface LogSettings {
  segmentBytes: number;
  segmentMs: number;
  retentionMs: number;
  retentionBytes: number;
  compact: boolean;
  deleteRetentionMs: number;
  maxMessageBytes: number;
}

export interface LogFactory {
  /** Opens (recovering if needed) or creates the log of a partition. */
  open(topic: string, partition: number, settings: LogSettings): Promise<PartitionLog>;
  /** Applies changed topic configs (retention, segment size, ...) to an open log. */
  reconfigure(log: PartitionLog, settings: LogSettings): void;
  /** Removes a partition's files for good. */
  remove(topic: string, partition: number): Promise<void>;
  /** Closes every log (cleanly when the storage is healthy). */
  close(): Promise<void>;
}

/** Makes partitions replicas of their Raft groups (a broker in a cluster; partition-replicas.ts). */
export interface PartitionReplication {
  /** Turns a just-opened partition into a replica of its group, before it serves anything. */
  attach(partition: Partition): Promise<void>;
  /** Leaves the group and closes its Raft files, before the log is closed or removed. */
  detach(partition: Partition): Promise<void>;
  /** After every partition was detached (the broker stops): releases what the replicas shared. */
  close?(): Promise<void>;
}

/** How much of each log's tail is scanned at start-up to rebuild idempotent-producer state. */
export const PRODUCER_STATE_TAIL_BYTES = 64 * 1024 * 1024;
/** Partitions openIndexes() opens at once (bounds open files and fsyncs in flight). */
const OPEN_PARALLELISM = 16;

export class PartitionManager {
  private readonly partitions = new Map<string, Partition[]>();
  private readonly offline = new Map<string, string>();
  /**
   * Opens under way, by partition: a second open of the same partition (a topic growing while it is
   * still being created) waits for the first rather than opening, or wiping, the same files twice.
   */
  private readonly opening = new Map<string, Promise<void>>();
  private replication: PartitionReplication | null = null;

  constructor(
    private readonly logs: LogFactory,
    private readonly strictDurability: boolean,
  ) {}

  /** From now on every partition opened is a replica of its Raft group; set before any is opened. */
  replicateWith(replication: PartitionReplication): void {
    this.replication = replication;
  }

  get(topic: string, index: number): Partition | undefined {
    return this.partitions.get(topic)?.[index];
  }

  /** Null when the partition serves; otherwise why not. */
  offlineReason(topic: string, index: number): string | null {
    return this.offline.get(key(topic, index)) ?? null;
  }

  all(): Partition[] {
    return [...this.partitions.values()].flat().filter((p): p is Partition => p !== undefined);
  }

  /** Opens partitions [0, count) of a topic not open yet (fresh: wiping leftovers first); a failure marks that partition offline and is returned. */
  open(topic: string, count: number, settings: LogSettings, fresh: boolean): Promise<{ index: number; error: unknown }[]> {
    return this.openIndexes(topic, Array.from({ length: count }, (_, i) => i), settings, fresh);
  }

  /** Names of the topics with partitions open or offline here. */
  topicNames(): string[] {
    return [...this.partitions.keys()];
  }

  /** Indexes of a topic's partitions open or offline here (the list may have holes). */
  indexesOf(topic: string): number[] {
    const list = this.partitions.get(topic) ?? [];
    const indexes: number[] = [];
    for (let i = 0; i < list.length; i++) if (list[i] !== undefined || this.offline.has(key(topic, i))) indexes.push(i);
    return indexes;
  }

  /**
   * open() for the given partition indexes only (a broker of a cluster hosts some of a topic's
   * partitions). Up to OPEN_PARALLELISM partitions open at once: each costs a few fsyncs (its
   * directory, its files, its Raft state), so thousands of new partitions one by one would take
   * minutes. Failures are returned in index order.
   */
  async openIndexes(topic: string, indexes: readonly number[], settings: LogSettings, fresh: boolean): Promise<{ index: number; error: unknown }[]> {
    const list = this.partitions.get(topic) ?? [];
    this.partitions.set(topic, list);
    const failures: { index: number; error: unknown }[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < indexes.length) {
        const index = indexes[next++]!;
        if (list[index]) continue;
        const k = key(topic, index);
        const inFlight = this.opening.get(k);
        if (inFlight !== undefined) {
          await inFlight;
          continue;
        }
        const run = (async () => {
          try {
            if (fresh) await this.logs.remove(topic, index);
            const log = await this.logs.open(topic, index, settings);
            const partition = new Partition(topic, index, log, { strictDurability: this.strictDurability, leaderEpoch: 0 });
            // A replica rebuilds its producer state when it becomes leader (partition-replica.ts), its
            // transactions as it attaches (partition-replicas.ts).
            if (this.replication !== null) await this.replication.attach(partition);
            else if (!fresh) {
              await partition.rebuildProducerState(PRODUCER_STATE_TAIL_BYTES);
              await partition.rebuildTransactions();
            }
            list[index] = partition;
            this.offline.delete(k);
          } catch (error) {
            this.offline.set(k, error instanceof Error ? error.message : String(error));
            failures.push({ index, error });
          }
        })();
        this.opening.set(k, run);
        await run;
        this.opening.delete(k);
      }
    };
    await Promise.all(Array.from({ length: Math.min(OPEN_PARALLELISM, indexes.length) }, worker));
    return failures.sort((a, b) => a.index - b.index);
  }

  /** Applies a topic's changed configs to its open partitions. */
  reconfigure(topic: string, settings: LogSettings): void {
    for (const p of this.partitions.get(topic) ?? []) if (p) this.logs.reconfigure(p.log, settings);
  }

  /** Closes and removes every partition of a topic that had `count` partitions. */
  async removeTopic(topic: string, count: number): Promise<void> {
    const list = this.partitions.get(topic) ?? [];
    this.partitions.delete(topic);
    for (let index = 0; index < Math.max(count, list.length); index++) {
      const p = list[index];
      p?.wakeAll();
      if (p !== undefined) await this.replication?.detach(p);
      await p?.stopCheckpoints();
      this.offline.delete(key(topic, index));
      await this.logs.remove(topic, index);
    }
  }

  /** Closes and removes one partition of a topic (its replica moved to other brokers). */
  async removePartition(topic: string, index: number): Promise<void> {
    const list = this.partitions.get(topic) ?? [];
    const p = list[index];
    delete list[index];
    this.offline.delete(key(topic, index));
    p?.wakeAll();
    if (p !== undefined) await this.replication?.detach(p);
    await p?.stopCheckpoints();
    await this.logs.remove(topic, index);
  }

  async closeAll(): Promise<void> {
    for (const p of this.all()) p.wakeAll();
    for (const p of this.all()) await this.replication?.detach(p);
    await this.replication?.close?.();
    // Nothing appends any more: a checkpoint at the end, so the next open scans nothing. One that
    // cannot be written (the log failed) only means the next open scans from the newest periodic one.
    for (const p of this.all()) await p.saveTransactions().catch(() => undefined);
    for (const p of this.all()) await p.stopCheckpoints();
    this.partitions.clear();
    await this.logs.close();
  }
}

function key(topic: string, index: number): string {
  return `${topic}\u0000${index}`;
}
