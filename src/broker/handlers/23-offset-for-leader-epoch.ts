/**
 * OffsetForLeaderEpoch (23), versions 0-4 (OffsetForLeaderEpochRequest.json). librdkafka >= 2.1 uses it
 * to validate positions after leader changes (KIP-320). Each partition has had one leader epoch so far,
 * so the end offset of any epoch up to the current one is the log end offset; a later epoch is unknown.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';

export const offsetForLeaderEpoch: Handler<23> = (ctx, request) => ({
  throttleTimeMs: 0,
  topics: request.topics.map((t) => ({
    topic: t.topic,
    partitions: t.partitions.map((p) => {
      const partition = ctx.partitions.get(t.topic, p.partition);
      const none = { partition: p.partition, leaderEpoch: -1, endOffset: -1n };
      if (!ctx.metadata.state.topic(t.topic) || !partition) {
        const known = ctx.metadata.state.topic(t.topic) && p.partition >= 0 && p.partition < ctx.metadata.state.topic(t.topic)!.partitions;
        return { ...none, errorCode: known ? KafkaErrorCode.KAFKA_STORAGE_ERROR : KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
      }
      if (p.currentLeaderEpoch >= 0 && p.currentLeaderEpoch !== partition.leaderEpoch) {
        const errorCode = p.currentLeaderEpoch > partition.leaderEpoch ? KafkaErrorCode.UNKNOWN_LEADER_EPOCH : KafkaErrorCode.FENCED_LEADER_EPOCH;
        return { ...none, errorCode };
      }
      if (p.leaderEpoch > partition.leaderEpoch) return { ...none, errorCode: 0 };
      return { partition: p.partition, errorCode: 0, leaderEpoch: partition.leaderEpoch, endOffset: BigInt(partition.highWatermark) };
    }),
  })),
});
