/**
 * Coordinators kept per partition of an internal topic (`__consumer_offsets` for groups,
 * `__transaction_state` for transactional ids): the ones this broker runs, each added when it starts
 * leading the partition and closed when it stops, and a standby that answers for keys coordinated
 * elsewhere (NOT_COORDINATOR). A key's partition is Kafka's rule (metadata/offsets-partition.ts).
 */
import { offsetsPartitionFor } from '../metadata/offsets-partition.ts';

export class PartitionCoordinators<C extends { close(): void }> {
  protected readonly byPartition = new Map<number, C>();

  /**
   * `partitions`: how many partitions the topic has (0 while it does not exist); `standby`: the
   * coordinator answering for keys coordinated elsewhere.
   */
  constructor(
    private readonly partitions: () => number,
    private readonly standby: C,
  ) {}

  /** Partitions coordinated here. */
  get coordinated(): number[] {
    return [...this.byPartition.keys()].sort((a, b) => a - b);
  }

  /** Adds the loaded (or loading) coordinator of `partition`. */
  add(partition: number, coordinator: C): void {
    this.byPartition.get(partition)?.close();
    this.byPartition.set(partition, coordinator);
  }

  /** Closes and forgets the coordinator of `partition` (leadership moved away). */
  remove(partition: number): void {
    this.byPartition.get(partition)?.close();
    this.byPartition.delete(partition);
  }

  has(partition: number): boolean {
    return this.byPartition.has(partition);
  }

  /** The partition holding `key`. */
  partitionOf(key: string): number {
    return offsetsPartitionFor(key, this.partitions());
  }

  /** The coordinator answering for `key` here: its partition's, or the standby. */
  coordinatorOf(key: string): C {
    return this.byPartition.get(this.partitionOf(key)) ?? this.standby;
  }

  close(): void {
    for (const c of this.byPartition.values()) c.close();
    this.standby.close();
  }
}
