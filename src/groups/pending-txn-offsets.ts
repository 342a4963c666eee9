/**
 * Offsets committed in a transaction (TxnOffsetCommit) that its producer has not committed or aborted
 * yet, per producer id and group, as Kafka's group coordinator keeps them: written to the log at once
 * (one transactional batch), invisible to OffsetFetch until the commit marker of that producer
 * follows on the same `__consumer_offsets` partition, dropped on its abort marker. The same rules
 * serve the live coordinator and the replay of the log, so both end in the same state.
 *
 * Which offset wins on commit (Kafka 3.9's GroupMetadata.completePendingTxnOffsetCommit and its load):
 * a pending offset replaces the committed one only if its record is later in the log. A plain
 * OffsetCommit for the same partition written after the TxnOffsetCommit, while the transaction was
 * open, therefore stays: "later in the log" is what replay (and compaction) can see, so live and
 * replayed answers agree. Positions are `appendOrder`s (GroupStore), increasing in log order.
 */
import { assert } from '../util/assert.ts';
import type { CommittedOffset } from './group.ts';

/** topic -> partition -> offset */
export type TopicOffsets = Map<string, Map<number, CommittedOffset>>;

/** Whether a committed transactional offset `pending` replaces `current` (Kafka's olderThan rule). */
export function replacesCommitted(current: CommittedOffset | undefined, pending: CommittedOffset): boolean {
  return current === undefined || current.appendOrder < pending.appendOrder;
}

export class PendingTxnOffsets {
  /** producer id -> group -> topic -> partition -> offset */
  private readonly byProducer = new Map<bigint, Map<string, TopicOffsets>>();

  get producerCount(): number {
    return this.byProducer.size;
  }

  /** Adds (or replaces: a later TxnOffsetCommit of the same transaction) one pending offset. */
  add(producerId: bigint, groupId: string, topic: string, partition: number, committed: CommittedOffset): void {
    assert(producerId >= 0n, 'pending offsets belong to a producer id');
    let groups = this.byProducer.get(producerId);
    if (groups === undefined) this.byProducer.set(producerId, (groups = new Map()));
    let topics = groups.get(groupId);
    if (topics === undefined) groups.set(groupId, (topics = new Map()));
    let partitions = topics.get(topic);
    if (partitions === undefined) topics.set(topic, (partitions = new Map()));
    partitions.set(partition, committed);
  }

  /** Removes and returns the producer's pending offsets, by group (its transaction ended). */
  take(producerId: bigint): Map<string, TopicOffsets> {
    const groups = this.byProducer.get(producerId) ?? new Map<string, TopicOffsets>();
    this.byProducer.delete(producerId);
    return groups;
  }

  has(producerId: bigint): boolean {
    return this.byProducer.has(producerId);
  }

  /** Whether some producer holds a pending offset for the partition (OffsetFetch require_stable). */
  hasPartition(groupId: string, topic: string, partition: number): boolean {
    for (const groups of this.byProducer.values()) if (groups.get(groupId)?.get(topic)?.has(partition)) return true;
    return false;
  }

  /** Every group with a pending offset, each once. */
  groupIds(): Set<string> {
    const out = new Set<string>();
    for (const groups of this.byProducer.values()) for (const groupId of groups.keys()) out.add(groupId);
    return out;
  }

  hasGroup(groupId: string): boolean {
    for (const groups of this.byProducer.values()) if (groups.has(groupId)) return true;
    return false;
  }

  /** The partitions of the group with a pending offset, each once. */
  partitionsOf(groupId: string): { topic: string; partition: number }[] {
    const seen = new Map<string, Set<number>>();
    for (const groups of this.byProducer.values()) {
      for (const [topic, partitions] of groups.get(groupId) ?? []) {
        let set = seen.get(topic);
        if (set === undefined) seen.set(topic, (set = new Set()));
        for (const p of partitions.keys()) set.add(p);
      }
    }
    return [...seen].flatMap(([topic, set]) => [...set].map((partition) => ({ topic, partition })));
  }

  /**
   * Drops every producer's pending offset of the partition: a plain tombstone for it was written
   * (DeleteGroups, deleted topics), so a commit marker that comes later cannot bring the offset back.
   * With `producerId`, only that producer's (a tombstone inside its own transaction).
   */
  drop(groupId: string, topic: string, partition: number, producerId?: bigint): void {
    for (const [pid, groups] of this.byProducer) {
      if (producerId !== undefined && pid !== producerId) continue;
      const topics = groups.get(groupId);
      const partitions = topics?.get(topic);
      if (partitions === undefined || !partitions.delete(partition)) continue;
      if (partitions.size === 0) topics!.delete(topic);
      if (topics!.size === 0) groups.delete(groupId);
      if (groups.size === 0) this.byProducer.delete(pid);
    }
  }
}
