/**
 * ListOffsets (2), versions 1-5 (ListOffsetsRequest.json). Timestamps: -1 latest (the high watermark;
 * with no transactions it is also the last stable offset read_committed asks for), -2 earliest (log
 * start), >= 0 the first record whose timestamp is at or after it, with that record's timestamp (the
 * time index finds the batch; its records are then read), or -1 with timestamp -1 when none is. Leader
 * epoch (v4+) is this leader's.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { readRecords } from '../../protocol/kafka/record-batch/index.ts';
import type { Partition } from '../../replication/partition.ts';
import type { Handler } from '../handler.ts';

const LATEST = -1n;
const EARLIEST = -2n;

export const listOffsets: Handler<2> = async (ctx, request, info) => ({
  throttleTimeMs: 0,
  topics: await Promise.all(
    request.topics.map(async (t) => {
      const topic = ctx.metadata.state.topic(t.name);
      return {
        name: t.name,
        partitions: await Promise.all(
          t.partitions.map(async (p) => {
            const answer = { partitionIndex: p.partitionIndex, errorCode: 0, timestamp: -1n, offset: -1n, leaderEpoch: -1 };
            if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions) {
              return { ...answer, errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
            }
            const partition = ctx.partitions.get(t.name, p.partitionIndex);
            if (!partition) return { ...answer, errorCode: KafkaErrorCode.KAFKA_STORAGE_ERROR };
            if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch !== partition.leaderEpoch) {
              const errorCode = p.currentLeaderEpoch > partition.leaderEpoch ? KafkaErrorCode.UNKNOWN_LEADER_EPOCH : KafkaErrorCode.FENCED_LEADER_EPOCH;
              return { ...answer, errorCode };
            }
            // leader_epoch exists from v4; earlier versions must carry the default.
            const leaderEpoch = info.apiVersion >= 4 ? partition.leaderEpoch : -1;
            if (p.timestamp === LATEST) return { ...answer, offset: BigInt(partition.highWatermark), leaderEpoch };
            if (p.timestamp === EARLIEST) return { ...answer, offset: BigInt(partition.logStartOffset), leaderEpoch };
            if (p.timestamp < 0n) return { ...answer, errorCode: KafkaErrorCode.UNSUPPORTED_VERSION };
            const found = await firstRecordAtOrAfter(partition, Number(p.timestamp));
            if (!found) return { ...answer, leaderEpoch };
            return { ...answer, offset: BigInt(found.offset), timestamp: BigInt(found.timestamp), leaderEpoch };
          }),
        ),
      };
    }),
  ),
});

/** The first record at or after `timestamp` below the high watermark, with its offset and timestamp. */
async function firstRecordAtOrAfter(partition: Partition, timestamp: number): Promise<{ offset: number; timestamp: number } | null> {
  const batchOffset = await partition.log.offsetForTimestamp(timestamp);
  if (batchOffset === undefined || batchOffset >= partition.highWatermark) return null;
  const from = Math.max(batchOffset, partition.logStartOffset);
  // Normally the first batch holds the record; later batches cover records whose own timestamps are
  // older than their batch's maximum. Bounded: stop at the high watermark or after 1000 batches.
  let batches = 0;
  for await (const { batch, header } of partition.batches(from, partition.highWatermark)) {
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
