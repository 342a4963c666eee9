/**
 * OffsetForLeaderEpoch (23), versions 0-4 (OffsetForLeaderEpochRequest.json). librdkafka >= 2.1 uses it
 * to validate positions after leader changes (KIP-320). Each partition has had one leader epoch so far,
 * so the end offset of any epoch up to the current one is the log end offset; a later epoch is unknown.
 * With authorization each topic needs DESCRIBE.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { leaderPartition } from '../partition-access.ts';
import { allowed, Op, Resource } from '../access.ts';

export const offsetForLeaderEpoch: Handler<23> = (ctx, request, info) => ({
  throttleTimeMs: 0,
  topics: request.topics.map((t) => {
    const describable = allowed(ctx, info, Op.DESCRIBE, Resource.TOPIC, t.topic);
    return {
      topic: t.topic,
      partitions: t.partitions.map((p) => {
        const none = { partition: p.partition, leaderEpoch: -1, endOffset: -1n };
        if (!describable) return { ...none, errorCode: KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED };
        const topic = ctx.metadata.state.topic(t.topic);
        if (!topic || p.partition < 0 || p.partition >= topic.partitions) return { ...none, errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        const { partition, errorCode } = leaderPartition(ctx, topic, p.partition, p.currentLeaderEpoch);
        if (!partition) return { ...none, errorCode };
        if (p.leaderEpoch > partition.leaderEpoch) return { ...none, errorCode: 0 };
        return { partition: p.partition, errorCode: 0, leaderEpoch: partition.leaderEpoch, endOffset: BigInt(partition.highWatermark) };
      }),
    };
  }),
});
