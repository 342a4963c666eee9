/**
 * OffsetCommit (8), versions 0-9 (OffsetCommitRequest.json). Answered only once the offsets are durable
 * in __consumer_offsets. Commits for unknown topics or partitions get UNKNOWN_TOPIC_OR_PARTITION, as
 * Kafka answers, and the rest of the request is still committed. v0 has no generation or member:
 * it commits like any generation -1 commit (allowed while the group has no members); v1's commit
 * timestamp is not kept (expiry follows offsets.retention as for later versions).
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';

export const offsetCommit: Handler<8> = async (ctx, request, info) => {
  const known = (topic: string, partition: number) => {
    const t = ctx.metadata.state.topic(topic);
    return t !== undefined && partition >= 0 && partition < t.partitions;
  };
  const unknown: { name: string; partitionIndex: number }[] = [];
  const topics = request.topics
    .map((t) => ({
      name: t.name,
      partitions: t.partitions
        .filter((p) => known(t.name, p.partitionIndex) || (unknown.push({ name: t.name, partitionIndex: p.partitionIndex }), false))
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
  for (const u of unknown) {
    let topic = out.find((t) => t.name === u.name);
    if (!topic) out.push((topic = { name: u.name, partitions: [] }));
    topic.partitions.push({ partitionIndex: u.partitionIndex, errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
  }
  return { throttleTimeMs: 0, topics: out };
};
