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
import { checkCommitPartitions, withRefused } from '../commit-partitions.ts';
import { everyPartition } from '../../groups/offset-manager.ts';

export const offsetCommit: Handler<8> = async (ctx, request, info) => {
  // Authorization (READ on the group, then on each topic) before anything else, as Kafka.
  if (!allowed(ctx, info, Op.READ, Resource.GROUP, request.groupId)) {
    return { throttleTimeMs: 0, topics: everyPartition(request.topics, KafkaErrorCode.GROUP_AUTHORIZATION_FAILED) };
  }
  const { topics, refused } = checkCommitPartitions(ctx, info, request.topics, info.apiVersion >= 6);
  const r = await ctx.groups.offsetCommit({
    apiVersion: info.apiVersion,
    groupId: request.groupId,
    generationId: request.generationIdOrMemberEpoch,
    memberId: request.memberId,
    groupInstanceId: info.apiVersion >= 7 ? request.groupInstanceId : null,
    topics,
  });
  return { throttleTimeMs: 0, topics: withRefused(r.topics, refused) };
};
