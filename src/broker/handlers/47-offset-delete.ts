/**
 * OffsetDelete (47), version 0 (OffsetDeleteRequest.json): deletes a group's committed offsets of
 * some partitions (kafka-consumer-groups --delete-offsets, admin clients' deleteConsumerGroupOffsets).
 * An Empty group loses any of them; a consumer group with members only those of topics no member
 * subscribes to (GROUP_SUBSCRIBED_TO_TOPIC for the others); other groups with members answer
 * NON_EMPTY_GROUP, unknown ones GROUP_ID_NOT_FOUND. With authorization the group needs DELETE (else
 * GROUP_AUTHORIZATION_FAILED) and each topic READ (else TOPIC_AUTHORIZATION_FAILED); partitions that
 * do not exist are UNKNOWN_TOPIC_OR_PARTITION, as Kafka answers.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { allowed, Op, Resource } from '../access.ts';
import { partitionRefusal } from '../commit-partitions.ts';

export const offsetDelete: Handler<47> = async (ctx, request, info) => {
  if (!allowed(ctx, info, Op.DELETE, Resource.GROUP, request.groupId)) return { errorCode: KafkaErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
  const refusal = partitionRefusal(ctx, info, request.topics.map((t) => t.name));
  const asked = request.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, errorCode: refusal(t.name, p.partitionIndex) })));
  const passed = asked.filter((a) => a.errorCode === 0);
  const { errorCode, partitionErrors } = await ctx.groups.deleteOffsets(request.groupId, passed);
  if (errorCode !== KafkaErrorCode.NONE) return { errorCode, throttleTimeMs: 0, topics: [] };
  passed.forEach((a, i) => (a.errorCode = partitionErrors[i]!));
  return {
    errorCode: KafkaErrorCode.NONE,
    throttleTimeMs: 0,
    topics: request.topics.map((t) => ({
      name: t.name,
      partitions: asked.filter((a) => a.topic === t.name).map((a) => ({ partitionIndex: a.partition, errorCode: a.errorCode })),
    })),
  };
};
