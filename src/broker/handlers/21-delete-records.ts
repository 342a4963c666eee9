/**
 * DeleteRecords (21), versions 0-2 (DeleteRecordsRequest.json; v1 is v0, v2 is flexible): moves each
 * partition's log start offset (its low watermark) up to the given offset, -1 meaning the high
 * watermark, and answers the low watermark then. An offset past the high watermark (or negative) is
 * OFFSET_OUT_OF_RANGE; one below the current start changes nothing. Only the leader takes it
 * (NOT_LEADER_OR_FOLLOWER elsewhere). A single broker moves its log at once and deletes the segments
 * wholly below; a Raft group's leader commits the new start first, so every replica answers the same
 * one, and retention deletes the segments below (partition-log-start.ts). Reads below the new start
 * are OFFSET_OUT_OF_RANGE and ListOffsets earliest answers it. An answer later than timeout_ms is
 * REQUEST_TIMED_OUT (the command may still commit). With authorization each topic needs DELETE.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import type { BrokerContext } from '../context.ts';
import { leaderPartition } from '../partition-access.ts';
import { kafkaErrorForStorage } from '../storage-errors.ts';
import { allowed, Op, Resource } from '../access.ts';
import { raceDeadline, TIMED_OUT } from '../../io/clock-waits.ts';

const TO_HIGH_WATERMARK = -1n;
/** Used when the request's timeout_ms is 0 or negative: some bound is needed on a lost command. */
const WAIT_DEFAULT_MS = 30_000;

type Answer = { partitionIndex: number; lowWatermark: bigint; errorCode: number };

export const deleteRecords: Handler<21> = async (ctx, request, info) => {
  const waitMs = request.timeoutMs > 0 ? request.timeoutMs : WAIT_DEFAULT_MS;
  return {
    throttleTimeMs: 0,
    topics: await Promise.all(
      request.topics.map(async (t) => {
        const deletable = allowed(ctx, info, Op.DELETE, Resource.TOPIC, t.name);
        return {
          name: t.name,
          partitions: await Promise.all(
            t.partitions.map((p) =>
              deletable ? deleteIn(ctx, t.name, p.partitionIndex, p.offset, waitMs) : { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED },
            ),
          ),
        };
      }),
    ),
  };
};

async function deleteIn(ctx: BrokerContext, name: string, index: number, offset: bigint, waitMs: number): Promise<Answer> {
  const failed = (errorCode: number): Answer => ({ partitionIndex: index, lowWatermark: -1n, errorCode });
  const topic = ctx.metadata.state.topic(name);
  if (!topic || index < 0 || index >= topic.partitions) return failed(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const { partition, errorCode } = leaderPartition(ctx, topic, index);
  if (!partition) return failed(errorCode);
  const target = offset === TO_HIGH_WATERMARK ? partition.highWatermark : offset;
  if (target < 0n || target > BigInt(partition.highWatermark)) return failed(KafkaErrorCode.OFFSET_OUT_OF_RANGE);
  try {
    const start = await raceDeadline(ctx.clock, waitMs, partition.deleteRecords(Number(target)));
    if (start === TIMED_OUT) return failed(KafkaErrorCode.REQUEST_TIMED_OUT);
    return { partitionIndex: index, lowWatermark: BigInt(start), errorCode: 0 };
  } catch (err) {
    const mapped = kafkaErrorForStorage(err);
    if (mapped.errorCode === KafkaErrorCode.UNKNOWN_SERVER_ERROR) ctx.log.error({ err, topic: name, partition: index }, 'DeleteRecords failed');
    return failed(mapped.errorCode);
  }
}
