/**
 * Committed offsets: storing commits durably before applying them, answering fetches, resetting
 * offsets of inactive groups, expiring offsets of long-empty groups, and computing lag. Membership
 * checks happen in the coordinator before it calls in here.
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
import { fitsRecordString } from './offsets-records.ts';
import type { Clock } from '../io/clock.ts';

export interface ExpiredOffsets {
  readonly offsetsRemoved: number;
  readonly groupsRemoved: number;
}

export class OffsetManager {
  constructor(
    private readonly groups: Map<string, ClassicGroup>,
    private readonly store: GroupStore,
    private readonly clock: Clock,
    private readonly config: GroupCoordinatorConfig,
  ) {}

  /**
   * Validates each partition, writes the valid commits as one append, and applies them once the
   * append is durable. Resolves with a code per partition in request order; never rejects.
   */
  async commit(group: ClassicGroup, topics: readonly OffsetCommitRequestTopic[]): Promise<OffsetCommitResponseTopic[]> {
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
        await this.store.storeOffsets(group.groupId, entries);
        // A group deleted while the append was in flight stays deleted: its tombstones follow this
        // commit in the log, so replay agrees.
        if (this.groups.get(group.groupId) === group && !group.is('Dead')) {
          for (const e of entries) group.setOffset(e.topic, e.partition, e.committed);
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

  /** Committed offsets; partitions without a commit answer offset -1, metadata '' and error 0. */
  fetch(group: ClassicGroup | undefined, topics: readonly OffsetFetchRequestTopic[] | null): OffsetFetchResponseTopic[] {
    if (topics === null) {
      if (group === undefined) return [];
      const out: OffsetFetchResponseTopic[] = [];
      for (const topic of [...group.offsets.keys()].sort()) {
        const partitions = group.offsets.get(topic)!;
        out.push({
          name: topic,
          partitions: [...partitions.keys()].sort((a, b) => a - b).map((p) => fetched(p, partitions.get(p)!)),
        });
      }
      return out;
    }
    return topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => fetched(p, group?.getOffset(t.name, p))),
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
    try {
      await this.store.storeOffsets(group.groupId, entries);
    } catch {
      return KafkaErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    if (this.groups.get(group.groupId) === group && !group.is('Dead')) {
      for (const e of entries) group.setOffset(e.topic, e.partition, e.committed);
    }
    return KafkaErrorCode.NONE;
  }

  /**
   * Offset retention (KIP-211): offsets of a group that has been Empty for the retention time are
   * deleted; for a group that never had members (simple commits only), each offset expires on its
   * own commit time. Groups left Empty with no offsets and no pending member are deleted. Groups with
   * members keep their offsets. Memory is updated at once; the tombstones are appended as one unit.
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
          if (nowMs - baseMs >= retentionMs) expired.push({ topic, partition });
        }
      }
      for (const e of expired) group.removeOffset(e.topic, e.partition);
      offsetsRemoved += expired.length;
      const deleteGroup = !group.hasOffsets() && group.pendingMembers.size === 0;
      if (deleteGroup) {
        group.transitionTo('Dead', nowMs);
        this.groups.delete(group.groupId);
        groupsRemoved++;
      }
      if (expired.length > 0 || deleteGroup) tombstones.push({ groupId: group.groupId, offsets: expired, deleteGroup });
    }
    if (tombstones.length > 0) await this.store.storeTombstoneSets(tombstones);
    return { offsetsRemoved, groupsRemoved };
  }

  /**
   * Deletes every group's committed offsets of the given topics (they were deleted), with
   * tombstones as one append; resolves once durable. Empty groups left without offsets are kept
   * until the next retention check, as Kafka does.
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
