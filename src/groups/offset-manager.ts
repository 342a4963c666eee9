/**
 * Committed offsets: storing commits durably before applying them, answering fetches, resetting
 * offsets of inactive groups, expiring offsets of long-empty groups, and computing lag. Offsets
 * committed in a transaction (TxnOffsetCommit) are stored at once but held pending per producer until
 * the transaction ends (completeTransaction; pending-txn-offsets.ts). Membership checks happen in the
 * coordinator before it calls in here.
 */
import { assert } from '../util/assert.ts';
import type { GroupCoordinatorConfig } from './coordinator-config.ts';
import { KafkaErrorCode } from './error-codes.ts';
import type {
  GroupPartitionLag,
  OffsetCommitRequestTopic,
  OffsetCommitResponseTopic,
  OffsetFetchRequestTopic,
  OffsetFetchResponsePartition,
  OffsetFetchResponseTopic,
} from './group-api.ts';
import type { ClassicGroup, CommittedOffset } from './group.ts';
import type { GroupStore, TopicPartitionOffset, TopicPartitionRef } from './group-store.ts';
import type { OffsetsLogProducer } from './offsets-log.ts';
import { fitsRecordString } from './offsets-records.ts';
import { PendingTxnOffsets, replacesCommitted } from './pending-txn-offsets.ts';
import type { Clock } from '../io/clock.ts';

export interface ExpiredOffsets {
  readonly offsetsRemoved: number;
  readonly groupsRemoved: number;
}

export class OffsetManager {
  private pending = new PendingTxnOffsets();
  /**
   * The newest epoch each transactional producer wrote with here, and when: a TxnOffsetCommit with
   * an older epoch is a zombie's (INVALID_PRODUCER_EPOCH). Forgotten by the retention check once the
   * producer has nothing pending and was not seen for the offsets retention time.
   */
  private readonly producerEpochs = new Map<bigint, { epoch: number; seenMs: number }>();

  constructor(
    private readonly groups: Map<string, ClassicGroup>,
    private readonly store: GroupStore,
    private readonly clock: Clock,
    private readonly config: GroupCoordinatorConfig,
  ) {}

  /** Takes the pending transactional offsets and producer epochs a replay of the log found. */
  restorePending(pending: PendingTxnOffsets, producerEpochs: ReadonlyMap<bigint, number>): void {
    this.pending = pending;
    const nowMs = this.clock.now();
    for (const [producerId, epoch] of producerEpochs) this.producerEpochs.set(producerId, { epoch, seenMs: nowMs });
  }

  /** The group's partitions with a pending transactional offset (DeleteGroups tombstones them too). */
  pendingPartitionsOf(groupId: string): TopicPartitionRef[] {
    return this.pending.partitionsOf(groupId);
  }

  /** Forgets the pending offsets of those partitions of the group (their plain tombstones were written). */
  dropPending(groupId: string, partitions: readonly TopicPartitionRef[]): void {
    for (const p of partitions) this.pending.drop(groupId, p.topic, p.partition);
  }

  /**
   * Validates each partition, writes the valid commits as one append, and applies them once the
   * append is durable. Resolves with a code per partition in request order; never rejects.
   */
  async commit(group: ClassicGroup, topics: readonly OffsetCommitRequestTopic[]): Promise<OffsetCommitResponseTopic[]> {
    return this.write(group, topics, null);
  }

  /**
   * TxnOffsetCommit: as commit, but the offsets are written as one transactional batch of the
   * producer and held pending until completeTransaction. A producer epoch older than the newest this
   * coordinator saw for the producer id answers INVALID_PRODUCER_EPOCH for every partition.
   */
  async commitTransactional(group: ClassicGroup, producer: OffsetsLogProducer, topics: readonly OffsetCommitRequestTopic[]): Promise<OffsetCommitResponseTopic[]> {
    assert(producer.producerId >= 0n && producer.producerEpoch >= 0, 'a transactional commit has a producer id and epoch');
    const known = this.producerEpochs.get(producer.producerId);
    if (known !== undefined && producer.producerEpoch < known.epoch) return everyPartition(topics, KafkaErrorCode.INVALID_PRODUCER_EPOCH);
    // Taken at once, before the write: a zombie's request that arrives meanwhile is fenced already.
    this.producerEpochs.set(producer.producerId, { epoch: producer.producerEpoch, seenMs: this.clock.now() });
    return this.write(group, topics, producer);
  }

  /**
   * The producer's transaction ended on this offsets partition (its marker is visible): on commit its
   * pending offsets replace the committed ones they lie later than in the log, on abort they are
   * dropped. Resolves nothing: memory only (the marker is the durable record). Returns how many
   * offsets were applied.
   */
  completeTransaction(producerId: bigint, commit: boolean): number {
    const decided = this.pending.take(producerId);
    if (!commit) return 0;
    let applied = 0;
    for (const [groupId, topics] of decided) {
      const group = this.groups.get(groupId);
      // A group deleted meanwhile had its pending offsets dropped; this is only a safety net.
      if (group === undefined || group.is('Dead')) continue;
      for (const [topic, partitions] of topics) {
        for (const [partition, committed] of partitions) {
          if (!replacesCommitted(group.getOffset(topic, partition), committed)) continue;
          group.setOffset(topic, partition, committed);
          applied++;
        }
      }
    }
    return applied;
  }

  private async write(group: ClassicGroup, topics: readonly OffsetCommitRequestTopic[], producer: OffsetsLogProducer | null): Promise<OffsetCommitResponseTopic[]> {
    const nowMs = this.clock.now();
    const codes: number[][] = [];
    const entries: TopicPartitionOffset[] = [];
    for (const t of topics) {
      const topicCodes: number[] = [];
      for (const p of t.partitions) {
        const metadata = p.committedMetadata ?? '';
        if (t.name.length === 0 || p.partitionIndex < 0 || !fitsRecordString(t.name)) {
          topicCodes.push(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        } else if (metadata.length > this.config.offsetMetadataMaxBytes || !fitsRecordString(metadata)) {
          topicCodes.push(KafkaErrorCode.OFFSET_METADATA_TOO_LARGE);
        } else {
          topicCodes.push(KafkaErrorCode.NONE);
          entries.push({
            topic: t.name,
            partition: p.partitionIndex,
            committed: {
              offset: p.committedOffset,
              leaderEpoch: p.committedLeaderEpoch,
              metadata,
              // Only OffsetCommit v1 carries a client timestamp; -1 means "now".
              commitTimestampMs: p.commitTimestampMs >= 0 ? p.commitTimestampMs : nowMs,
            },
          });
        }
      }
      codes.push(topicCodes);
    }
    let storeError: number = KafkaErrorCode.NONE;
    if (entries.length > 0) {
      try {
        const appendOrder = await this.store.storeOffsets(group.groupId, entries, producer ?? undefined);
        // A group deleted while the append was in flight stays deleted: its tombstones follow this
        // commit in the log, so replay agrees.
        if (this.groups.get(group.groupId) === group && !group.is('Dead')) {
          for (const e of entries) {
            const committed = { ...e.committed, appendOrder };
            if (producer === null) group.setOffset(e.topic, e.partition, committed);
            else this.pending.add(producer.producerId, group.groupId, e.topic, e.partition, committed);
          }
        }
      } catch {
        // The log could not make the commit durable: the client retries on this retriable code.
        storeError = KafkaErrorCode.COORDINATOR_NOT_AVAILABLE;
      }
    }
    return topics.map((t, i) => ({
      name: t.name,
      partitions: t.partitions.map((p, j) => {
        const code = codes[i]![j]!;
        return { partitionIndex: p.partitionIndex, errorCode: code === KafkaErrorCode.NONE ? storeError : code };
      }),
    }));
  }

  /**
   * Committed offsets; partitions without a commit answer offset -1, metadata '' and error 0. With
   * `requireStable` (OffsetFetch v7+, KIP-447), a partition with a pending transactional offset
   * answers UNSTABLE_OFFSET_COMMIT (retriable: the client asks again once the transaction ended).
   */
  fetch(group: ClassicGroup | undefined, topics: readonly OffsetFetchRequestTopic[] | null, requireStable: boolean): OffsetFetchResponseTopic[] {
    const answer = (topic: string, partition: number, committed: CommittedOffset | undefined): OffsetFetchResponsePartition => {
      if (requireStable && group !== undefined && this.pending.hasPartition(group.groupId, topic, partition)) {
        return { ...fetched(partition, undefined), errorCode: KafkaErrorCode.UNSTABLE_OFFSET_COMMIT };
      }
      return fetched(partition, committed);
    };
    if (topics === null) {
      if (group === undefined) return [];
      const out: OffsetFetchResponseTopic[] = [];
      for (const topic of [...group.offsets.keys()].sort()) {
        const partitions = group.offsets.get(topic)!;
        out.push({
          name: topic,
          partitions: [...partitions.keys()].sort((a, b) => a - b).map((p) => answer(topic, p, partitions.get(p)!)),
        });
      }
      return out;
    }
    return topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => answer(t.name, p, group?.getOffset(t.name, p))),
    }));
  }

  /** Writes offsets for an inactive (Empty) group, as the CLI's reset does. Resolves with an error code. */
  async reset(group: ClassicGroup, topic: string, offsets: ReadonlyMap<number, bigint>): Promise<number> {
    assert(group.is('Empty'), 'offsets are reset only for empty groups');
    if (offsets.size === 0) return KafkaErrorCode.NONE;
    const nowMs = this.clock.now();
    const entries: TopicPartitionOffset[] = [];
    for (const [partition, offset] of offsets) {
      if (partition < 0 || topic.length === 0 || !fitsRecordString(topic)) return KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      entries.push({ topic, partition, committed: { offset, leaderEpoch: -1, metadata: '', commitTimestampMs: nowMs } });
    }
    let appendOrder: number;
    try {
      appendOrder = await this.store.storeOffsets(group.groupId, entries);
    } catch {
      return KafkaErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    if (this.groups.get(group.groupId) === group && !group.is('Dead')) {
      for (const e of entries) group.setOffset(e.topic, e.partition, { ...e.committed, appendOrder });
    }
    return KafkaErrorCode.NONE;
  }

  /**
   * Offset retention (KIP-211): offsets of a group that has been Empty for the retention time are
   * deleted; for a group that never had members (simple commits only), each offset expires on its
   * own commit time. Groups left Empty with no offsets and no pending member are deleted. Groups with
   * members keep their offsets. Offsets of transactions not ended yet never expire, nor does the
   * committed offset of a partition that has one (its tombstone would drop the pending offset), and
   * they keep their group. Memory is updated at once; the tombstones are appended as one unit.
   */
  async expire(): Promise<ExpiredOffsets> {
    const nowMs = this.clock.now();
    const retentionMs = this.config.offsetsRetentionMs;
    const tombstones: { groupId: string; offsets: TopicPartitionRef[]; deleteGroup: boolean }[] = [];
    let offsetsRemoved = 0;
    let groupsRemoved = 0;
    for (const group of [...this.groups.values()]) {
      if (!group.is('Empty')) continue;
      const expired: TopicPartitionRef[] = [];
      const emptySinceMs = group.protocolType !== null ? group.stateTimestampMs : null;
      for (const [topic, partitions] of group.offsets) {
        for (const [partition, committed] of partitions) {
          const baseMs = emptySinceMs ?? committed.commitTimestampMs;
          if (nowMs - baseMs >= retentionMs && !this.pending.hasPartition(group.groupId, topic, partition)) expired.push({ topic, partition });
        }
      }
      for (const e of expired) group.removeOffset(e.topic, e.partition);
      offsetsRemoved += expired.length;
      const deleteGroup = !group.hasOffsets() && group.pendingMembers.size === 0 && !this.pending.hasGroup(group.groupId);
      if (deleteGroup) {
        group.transitionTo('Dead', nowMs);
        this.groups.delete(group.groupId);
        groupsRemoved++;
      }
      if (expired.length > 0 || deleteGroup) tombstones.push({ groupId: group.groupId, offsets: expired, deleteGroup });
    }
    for (const [producerId, seen] of this.producerEpochs) {
      if (nowMs - seen.seenMs >= retentionMs && !this.pending.has(producerId)) this.producerEpochs.delete(producerId);
    }
    if (tombstones.length > 0) await this.store.storeTombstoneSets(tombstones);
    return { offsetsRemoved, groupsRemoved };
  }

  /**
   * Deletes every group's committed offsets of the given topics (they were deleted), and their
   * pending transactional ones, with tombstones as one append; resolves once durable. Empty groups
   * left without offsets are kept until the next retention check, as Kafka does.
   */
  async removeTopics(topics: ReadonlySet<string>): Promise<number> {
    const sets: { groupId: string; offsets: TopicPartitionRef[]; deleteGroup: boolean }[] = [];
    let removed = 0;
    for (const group of this.groups.values()) {
      const offsets: TopicPartitionRef[] = [];
      for (const topic of topics) {
        const partitions = group.offsets.get(topic);
        if (partitions === undefined) continue;
        for (const partition of [...partitions.keys()]) {
          group.removeOffset(topic, partition);
          offsets.push({ topic, partition });
        }
      }
      for (const p of this.pending.partitionsOf(group.groupId)) {
        if (!topics.has(p.topic)) continue;
        this.pending.drop(group.groupId, p.topic, p.partition);
        if (!offsets.some((o) => o.topic === p.topic && o.partition === p.partition)) offsets.push(p);
      }
      if (offsets.length > 0) sets.push({ groupId: group.groupId, offsets, deleteGroup: false });
      removed += offsets.length;
    }
    if (sets.length > 0) await this.store.storeTombstoneSets(sets);
    return removed;
  }

  /** Committed offset and lag of every group partition whose high watermark is known. */
  lag(highWatermark: (topic: string, partition: number) => bigint | number | undefined): GroupPartitionLag[] {
    const out: GroupPartitionLag[] = [];
    for (const group of this.groups.values()) {
      for (const [topic, partitions] of group.offsets) {
        for (const [partition, committed] of partitions) {
          const hw = highWatermark(topic, partition);
          // An unknown high watermark means the partition is gone: no lag to report.
          if (hw === undefined) continue;
          const hwBig = BigInt(hw);
          const from = committed.offset < 0n ? 0n : committed.offset;
          const lag = hwBig > from ? hwBig - from : 0n;
          out.push({ groupId: group.groupId, topic, partition, committedOffset: committed.offset, highWatermark: hwBig, lag });
        }
      }
    }
    return out;
  }
}

/** Every partition of a commit request answered with one error code (a refusal of the whole request). */
export function everyPartition(
  topics: readonly { readonly name: string; readonly partitions: readonly { readonly partitionIndex: number }[] }[],
  errorCode: number,
): { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] {
  return topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) }));
}

function fetched(partitionIndex: number, committed: CommittedOffset | undefined): OffsetFetchResponsePartition {
  if (committed === undefined) {
    return { partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: KafkaErrorCode.NONE };
  }
  return {
    partitionIndex,
    committedOffset: committed.offset,
    committedLeaderEpoch: committed.leaderEpoch,
    metadata: committed.metadata,
    errorCode: KafkaErrorCode.NONE,
  };
}
