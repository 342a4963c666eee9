/**
 * Turns group and offset changes into `__consumer_offsets` records and back. Writing goes through
 * the injected OffsetsLog; loading replays it into the last value of every key, holding the records
 * of transactional batches per producer until that producer's marker decides them
 * (pending-txn-offsets.ts).
 */
import { assert } from '../util/assert.ts';
import type { ClassicGroup, CommittedOffset, OffsetValue } from './group.ts';
import { EMPTY_BYTES } from './member.ts';
import type { OffsetsLog, OffsetsLogProducer, OffsetsLogRecord } from './offsets-log.ts';
import { PendingTxnOffsets, replacesCommitted } from './pending-txn-offsets.ts';
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
  readonly committed: OffsetValue;
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
  /** Offsets of transactions no marker decided yet in the log (their marker may still come). */
  readonly pending: PendingTxnOffsets;
  /** The newest producer epoch seen per producer id in transactional batches and markers. */
  readonly producerEpochs: Map<bigint, number>;
  readonly records: number;
  /** Records with key versions that are not ours (newer Kafka record types); left alone. */
  readonly skipped: number;
}

export class GroupStore {
  /** The appendOrder the next append (or replayed entry) gets: it only grows, in log order. */
  private nextAppendOrder = 0;

  constructor(private readonly log: OffsetsLog) {}

  /** Appends in call order, which is log order (the OffsetsLog contract); resolves with the append's appendOrder once durable. */
  private async append(records: readonly OffsetsLogRecord[], transaction?: OffsetsLogProducer): Promise<number> {
    const appendOrder = this.nextAppendOrder++;
    await this.log.append(records, transaction);
    return appendOrder;
  }

  /**
   * Writes the group's metadata: generation, protocol, leader and members with their subscription
   * for the selected protocol and their assignment (`assignments` overrides the members' current one,
   * for the leader's SyncGroup whose assignment is applied only once it is durable).
   */
  storeGroup(group: ClassicGroup, assignments?: ReadonlyMap<string, Buffer>): Promise<void> {
    return this.append([{ key: encodeGroupMetadataKey(group.groupId), value: encodeGroupMetadataValue(groupRecord(group, assignments)) }]).then(() => undefined);
  }

  /**
   * Writes the offsets as one batch, transactional with `transaction` (TxnOffsetCommit). Resolves
   * with the batch's appendOrder once durable.
   */
  storeOffsets(groupId: string, offsets: readonly TopicPartitionOffset[], transaction?: OffsetsLogProducer): Promise<number> {
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
    return this.append(records, transaction);
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
    return this.append(records).then(() => undefined);
  }

  /**
   * Replays the whole log. Records of a transactional batch are held per producer and applied when
   * its commit marker follows (replacing a committed offset only if they lie later in the log),
   * dropped on its abort marker; those no marker decided come back in `pending`. A plain tombstone
   * also drops every pending offset of its partition. Throws SB_ERR_CORRUPT on a record that does
   * not parse.
   */
  async replay(): Promise<ReplayedState> {
    const groups = new Map<string, GroupMetadataValue>();
    const offsets = new Map<string, Map<string, Map<number, CommittedOffset>>>();
    const pending = new PendingTxnOffsets();
    const producerEpochs = new Map<bigint, number>();
    const sawEpoch = (producerId: bigint, epoch: number): void => {
      producerEpochs.set(producerId, Math.max(epoch, producerEpochs.get(producerId) ?? epoch));
    };
    let records = 0;
    let skipped = 0;
    for await (const entry of this.log.replay()) {
      const appendOrder = this.nextAppendOrder++;
      if (entry.kind === 'marker') {
        sawEpoch(entry.producerId, entry.producerEpoch);
        const decided = pending.take(entry.producerId);
        if (!entry.commit) continue;
        for (const [groupId, topics] of decided) {
          for (const [topic, partitions] of topics) {
            for (const [partition, committed] of partitions) {
              if (replacesCommitted(offsets.get(groupId)?.get(topic)?.get(partition), committed)) setReplayed(offsets, groupId, topic, partition, committed);
            }
          }
        }
        continue;
      }
      const transaction = entry.transaction;
      if (transaction !== null) sawEpoch(transaction.producerId, transaction.producerEpoch);
      for (const record of entry.records) {
        records++;
        const key = decodeKey(record.key);
        if (key.kind === 'unknown') {
          skipped++;
        } else if (key.kind === 'group') {
          if (record.value === null) groups.delete(key.group);
          else groups.set(key.group, decodeGroupMetadataValue(record.value));
        } else if (record.value === null) {
          if (transaction !== null) {
            pending.drop(key.group, key.topic, key.partition, transaction.producerId);
            continue;
          }
          pending.drop(key.group, key.topic, key.partition);
          const topics = offsets.get(key.group);
          const partitions = topics?.get(key.topic);
          partitions?.delete(key.partition);
          if (partitions !== undefined && partitions.size === 0) topics!.delete(key.topic);
          if (topics !== undefined && topics.size === 0) offsets.delete(key.group);
        } else {
          const v = decodeOffsetCommitValue(record.value);
          const committed = { offset: v.offset, leaderEpoch: v.leaderEpoch, metadata: v.metadata, commitTimestampMs: v.commitTimestampMs, appendOrder };
          if (transaction !== null) pending.add(transaction.producerId, key.group, key.topic, key.partition, committed);
          else setReplayed(offsets, key.group, key.topic, key.partition, committed);
        }
      }
    }
    return { groups, offsets, pending, producerEpochs, records, skipped };
  }
}

function setReplayed(offsets: Map<string, Map<string, Map<number, CommittedOffset>>>, groupId: string, topic: string, partition: number, committed: CommittedOffset): void {
  let topics = offsets.get(groupId);
  if (topics === undefined) offsets.set(groupId, (topics = new Map()));
  let partitions = topics.get(topic);
  if (partitions === undefined) topics.set(topic, (partitions = new Map()));
  partitions.set(partition, committed);
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
