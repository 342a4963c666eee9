/**
 * OffsetCommit (8), versions 0-9 (OffsetCommitRequest.json). Answered only once the offsets are durable
 * in __consumer_offsets. Commits for unknown topics or partitions get UNKNOWN_TOPIC_OR_PARTITION, as
 * Kafka answers, and the rest of the request is still committed. With authorization the group needs
 * READ (else every partition is GROUP_AUTHORIZATION_FAILED) and each topic READ. v0 has no generation or member:
 * it commits like any generation -1 commit (allowed while the group has no members); v1's commit
 * timestamp is not kept (expiry follows offsets.retention as for later versions).
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { allowed, Op, Resource } from '../access.ts';

export const offsetCommit: Handler<8> = async (ctx, request, info) => {
  // Authorization (READ on the group, then on each topic) before anything else, as Kafka.
  if (!allowed(ctx, info, Op.READ, Resource.GROUP, request.groupId)) {
    const errorCode = KafkaErrorCode.GROUP_AUTHORIZATION_FAILED;
    return { throttleTimeMs: 0, topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) })) };
  }
  const readable = new Map(request.topics.map((t) => [t.name, allowed(ctx, info, Op.READ, Resource.TOPIC, t.name)]));
  const refusal = (topic: string, partition: number): number => {
    if (!readable.get(topic)) return KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED;
    const t = ctx.metadata.state.topic(topic);
    return t !== undefined && partition >= 0 && partition < t.partitions ? 0 : KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  };
  const refused: { name: string; partitionIndex: number; errorCode: number }[] = [];
  const topics = request.topics
    .map((t) => ({
      name: t.name,
      partitions: t.partitions
        .filter((p) => {
          const errorCode = refusal(t.name, p.partitionIndex);
          if (errorCode !== 0) refused.push({ name: t.name, partitionIndex: p.partitionIndex, errorCode });
          return errorCode === 0;
        })
        .map((p) => ({
          partitionIndex: p.partitionIndex,
          committedOffset: p.committedOffset,
          committedLeaderEpoch: info.apiVersion >= 6 ? p.committedLeaderEpoch : -1,
          commitTimestampMs: -1,
          committedMetadata: p.committedMetadata,
        })),
    }))
    .filter((t) => t.partitions.length > 0);
  const r = await ctx.groups.offsetCommit({
    apiVersion: info.apiVersion,
    groupId: request.groupId,
    generationId: request.generationIdOrMemberEpoch,
    memberId: request.memberId,
    groupInstanceId: info.apiVersion >= 7 ? request.groupInstanceId : null,
    topics,
  });
  const out = r.topics.map((t) => ({ name: t.name, partitions: [...t.partitions] }));
  for (const u of refused) {
    let topic = out.find((t) => t.name === u.name);
    if (!topic) out.push((topic = { name: u.name, partitions: [] }));
    topic.partitions.push({ partitionIndex: u.partitionIndex, errorCode: u.errorCode });
  }
  return { throttleTimeMs: 0, topics: out };
};
