/**
 * Turns group and offset changes into `__consumer_offsets` records and back. Writing goes through
 * the injected OffsetsLog; loading replays it into the last value of every key.
 */
import { assert } from '../util/assert.ts';
import type { ClassicGroup, CommittedOffset } from './group.ts';
import { EMPTY_BYTES } from './member.ts';
import type { OffsetsLog, OffsetsLogRecord } from './offsets-log.ts';
import {
  decodeGroupMetadataValue,
  decodeKey,
  decodeOffsetCommitValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  type GroupMetadataValue,
} from './offsets-records.ts';

export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly committed: CommittedOffset;
}

export interface TopicPartitionRef {
  readonly topic: string;
  readonly partition: number;
}

/** The state the log describes: the last group metadata and the last offset of every key. */
export interface ReplayedState {
  readonly groups: Map<string, GroupMetadataValue>;
  /** group -> topic -> partition -> offset */
  readonly offsets: Map<string, Map<string, Map<number, CommittedOffset>>>;
  readonly records: number;
  /** Records with key versions that are not ours (newer Kafka record types); left alone. */
  readonly skipped: number;
}

export class GroupStore {
  constructor(private readonly log: OffsetsLog) {}

  /**
   * Writes the group's metadata: generation, protocol, leader and members with their subscription
   * for the selected protocol and their assignment (`assignments` overrides the members' current one,
   * for the leader's SyncGroup whose assignment is applied only once it is durable).
   */
  storeGroup(group: ClassicGroup, assignments?: ReadonlyMap<string, Buffer>): Promise<void> {
    return this.log.append([{ key: encodeGroupMetadataKey(group.groupId), value: encodeGroupMetadataValue(groupRecord(group, assignments)) }]);
  }

  storeOffsets(groupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    assert(offsets.length > 0, 'nothing to store');
    const records: OffsetsLogRecord[] = offsets.map((o) => ({
      key: encodeOffsetCommitKey(groupId, o.topic, o.partition),
      value: encodeOffsetCommitValue({
        offset: o.committed.offset,
        leaderEpoch: o.committed.leaderEpoch,
        metadata: o.committed.metadata,
        commitTimestampMs: o.committed.commitTimestampMs,
        expireTimestampMs: -1,
      }),
    }));
    return this.log.append(records);
  }

  /**
   * Tombstones, as one append: for each group the given offsets and, with `deleteGroup`, the group
   * metadata itself.
   */
  storeTombstoneSets(sets: readonly { groupId: string; offsets: readonly TopicPartitionRef[]; deleteGroup: boolean }[]): Promise<void> {
    const records: OffsetsLogRecord[] = [];
    for (const s of sets) {
      for (const o of s.offsets) records.push({ key: encodeOffsetCommitKey(s.groupId, o.topic, o.partition), value: null });
      if (s.deleteGroup) records.push({ key: encodeGroupMetadataKey(s.groupId), value: null });
    }
    assert(records.length > 0, 'nothing to delete');
    return this.log.append(records);
  }

  /** Replays the whole log. Throws SB_ERR_CORRUPT on a record that does not parse. */
  async replay(): Promise<ReplayedState> {
    const groups = new Map<string, GroupMetadataValue>();
    const offsets = new Map<string, Map<string, Map<number, CommittedOffset>>>();
    let records = 0;
    let skipped = 0;
    for await (const record of this.log.replay()) {
      records++;
      const key = decodeKey(record.key);
      if (key.kind === 'unknown') {
        skipped++;
      } else if (key.kind === 'group') {
        if (record.value === null) groups.delete(key.group);
        else groups.set(key.group, decodeGroupMetadataValue(record.value));
      } else if (record.value === null) {
        const topics = offsets.get(key.group);
        const partitions = topics?.get(key.topic);
        partitions?.delete(key.partition);
        if (partitions !== undefined && partitions.size === 0) topics!.delete(key.topic);
        if (topics !== undefined && topics.size === 0) offsets.delete(key.group);
      } else {
        const v = decodeOffsetCommitValue(record.value);
        let topics = offsets.get(key.group);
        if (topics === undefined) offsets.set(key.group, (topics = new Map()));
        let partitions = topics.get(key.topic);
        if (partitions === undefined) topics.set(key.topic, (partitions = new Map()));
        partitions.set(key.partition, {
          offset: v.offset,
          leaderEpoch: v.leaderEpoch,
          metadata: v.metadata,
          commitTimestampMs: v.commitTimestampMs,
        });
      }
    }
    return { groups, offsets, records, skipped };
  }
}

function groupRecord(group: ClassicGroup, assignments?: ReadonlyMap<string, Buffer>): GroupMetadataValue {
  const protocol = group.protocolName;
  assert(protocol !== null || group.members.size === 0, 'a group with members has a protocol');
  return {
    protocolType: group.protocolType ?? '',
    generation: group.generationId,
    protocol,
    leader: group.leaderId,
    currentStateTimestampMs: group.stateTimestampMs ?? -1,
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      sessionTimeoutMs: m.sessionTimeoutMs,
      subscription: m.metadataFor(protocol!),
      assignment: assignments !== undefined ? (assignments.get(m.memberId) ?? EMPTY_BYTES) : m.assignment,
    })),
  };
}
