/**
 * ListOffsets (2), versions 1-5 (ListOffsetsRequest.json). Timestamps: -1 latest (the high watermark;
 * with no transactions it is also the last stable offset read_committed asks for), -2 earliest (log
 * start), >= 0 the first offset whose batch has a timestamp at or after it (batch granularity, as the
 * log indexes it), or -1 with timestamp -1 when none is. Leader epoch (v4+) is this leader's.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
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
            const found = await partition.log.offsetForTimestamp(Number(p.timestamp));
            if (found === undefined || found >= partition.highWatermark) return { ...answer, leaderEpoch };
            return { ...answer, offset: BigInt(Math.max(found, partition.logStartOffset)), timestamp: p.timestamp, leaderEpoch };
          }),
        ),
      };
    }),
  ),
});
