/**
 * ListOffsets (2), versions 0-9 (ListOffsetsRequest.json). Timestamps: -1 latest (the high watermark,
 * or with isolation_level 1, read_committed (v2+), the last stable offset), -2 earliest (log
 * start), -3 (v7+) the record with the greatest timestamp, -4 (v8+) earliest local (the log start:
 * every segment is local), -5 (v9+) latest tiered (-1: nothing is tiered), >= 0 the first record whose
 * timestamp is at or after it, with that record's timestamp (the time index finds the batch; its
 * records are then read), or -1 with timestamp -1 when none is; found offsets lie below the latest
 * offset of the isolation level, as in Kafka. Leader epoch (v4+) is this leader's.
 * Version 0 answers in old_style_offsets: one offset (the same answer), or none when there is none.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { readRecords } from '../../protocol/kafka/record-batch/index.ts';
import type { Partition } from '../../replication/partition.ts';
import type { Handler } from '../handler.ts';
import { leaderPartition } from '../partition-access.ts';
import { allowed, Op, Resource } from '../access.ts';

const LATEST = -1n;
const EARLIEST = -2n;
const MAX_TIMESTAMP = -3n;
const EARLIEST_LOCAL = -4n;
const LATEST_TIERED = -5n;
/** isolation_level 1 (KIP-98). */
const READ_COMMITTED = 1;

/** The first version that accepts each special timestamp (others below it are refused). */
const SPECIAL_SINCE = new Map<bigint, number>([
  [LATEST, 0],
  [EARLIEST, 0],
  [MAX_TIMESTAMP, 7],
  [EARLIEST_LOCAL, 8],
  [LATEST_TIERED, 9],
]);

type Answer = { partitionIndex: number; errorCode: number; timestamp: bigint; offset: bigint; leaderEpoch: number; oldStyleOffsets: bigint[] };

export const listOffsets: Handler<2> = async (ctx, request, info) => ({
  throttleTimeMs: 0,
  topics: await Promise.all(
    request.topics.map(async (t) => {
      const topic = ctx.metadata.state.topic(t.name);
      const describable = allowed(ctx, info, Op.DESCRIBE, Resource.TOPIC, t.name);
      return {
        name: t.name,
        partitions: await Promise.all(
          t.partitions.map(async (p) => {
            const answer: Answer = { partitionIndex: p.partitionIndex, errorCode: 0, timestamp: -1n, offset: -1n, leaderEpoch: -1, oldStyleOffsets: [] };
            if (!describable) return { ...answer, errorCode: KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED };
            if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions) {
              return { ...answer, errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
            }
            const { partition, errorCode } = leaderPartition(ctx, topic, p.partitionIndex, p.currentLeaderEpoch);
            if (!partition) return { ...answer, errorCode };
            // leader_epoch exists from v4; earlier versions must carry the default.
            const leaderEpoch = info.apiVersion >= 4 ? partition.leaderEpoch : -1;
            const since = SPECIAL_SINCE.get(p.timestamp);
            if (p.timestamp < 0n && (since === undefined || info.apiVersion < since)) {
              return { ...answer, errorCode: KafkaErrorCode.UNSUPPORTED_VERSION };
            }
            // isolation_level is 0 below v2 (the generated decoder's default).
            const readable = request.isolationLevel === READ_COMMITTED ? partition.lastStableOffset : partition.highWatermark;
            const found = await lookup(partition, p.timestamp, readable);
            // v0 has only old_style_offsets; timestamp and offset must keep their defaults there.
            if (info.apiVersion === 0) return { ...answer, oldStyleOffsets: found.offset >= 0 ? [BigInt(found.offset)] : [] };
            return { ...answer, leaderEpoch, offset: BigInt(found.offset), timestamp: BigInt(found.timestamp) };
          }),
        ),
      };
    }),
  ),
});

/**
 * The offset (and record timestamp, -1 for the special positions) a timestamp asks for; -1 when none.
 * `readable`: one past the last offset the isolation level reads.
 */
async function lookup(partition: Partition, timestamp: bigint, readable: number): Promise<{ offset: number; timestamp: number }> {
  const none = { offset: -1, timestamp: -1 };
  switch (timestamp) {
    case LATEST:
      return { offset: readable, timestamp: -1 };
    case EARLIEST:
    case EARLIEST_LOCAL:
      return { offset: partition.logStartOffset, timestamp: -1 };
    case LATEST_TIERED:
      return none;
    case MAX_TIMESTAMP: {
      const max = partition.log.maxTimestamp;
      return max < 0 ? none : ((await firstRecordAtOrAfter(partition, max, readable)) ?? none);
    }
    default:
      return (await firstRecordAtOrAfter(partition, Number(timestamp), readable)) ?? none;
  }
}

/** The first record at or after `timestamp` below `readable`, with its offset and timestamp. */
async function firstRecordAtOrAfter(partition: Partition, timestamp: number, readable: number): Promise<{ offset: number; timestamp: number } | null> {
  const batchOffset = await partition.log.offsetForTimestamp(timestamp);
  if (batchOffset === undefined || batchOffset >= readable) return null;
  const from = Math.max(batchOffset, partition.logStartOffset);
  // Normally the first batch holds the record; later batches cover records whose own timestamps are
  // older than their batch's maximum. Bounded: stop at `readable` or after 1000 batches.
  let batches = 0;
  for await (const { batch, header } of partition.batches(from, readable)) {
    if (++batches > 1000) break;
    if (Number(header.maxTimestamp) < timestamp) continue;
    const base = Number(header.baseOffset);
    for (const record of readRecords(batch)) {
      const at = base + record.offsetDelta;
      const ts = Number(header.baseTimestamp) + record.timestampDelta;
      if (at >= from && ts >= timestamp) return { offset: at, timestamp: ts };
    }
  }
  return null;
}
