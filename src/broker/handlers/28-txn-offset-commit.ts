/**
 * TxnOffsetCommit (28), versions 0-4 (TxnOffsetCommitRequest.json; v3 adds generation, member and
 * instance id (KIP-447), v3+ flexible, v4 is v3 with the transaction verification of KIP-890, which
 * is the transaction coordinator's business). Commits offsets inside the producer's transaction: the
 * group coordinator writes them as one transactional batch of the producer to the group's
 * `__consumer_offsets` partition and answers once durable; they stay invisible to OffsetFetch until
 * the producer's commit marker is written there (WriteTxnMarkers, txn-marker-write.ts), and are
 * dropped by its abort marker. Authorization as Kafka's KafkaApis.handleTxnOffsetCommitRequest: WRITE
 * on the transactional id (else every partition TRANSACTIONAL_ID_AUTHORIZATION_FAILED), READ on the
 * group (else GROUP_AUTHORIZATION_FAILED), READ on each topic (TOPIC_AUTHORIZATION_FAILED) and known
 * partitions (UNKNOWN_TOPIC_OR_PARTITION). Coordinator answers: NOT_COORDINATOR,
 * COORDINATOR_LOAD_IN_PROGRESS, INVALID_GROUP_ID, member fencing (FENCED_INSTANCE_ID,
 * UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION), INVALID_PRODUCER_EPOCH for a producer epoch older than one
 * this coordinator saw, OFFSET_METADATA_TOO_LARGE.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { allowed, Op, Resource } from '../access.ts';
import { checkCommitPartitions, withRefused } from '../commit-partitions.ts';
import { everyPartition } from '../../groups/offset-manager.ts';

export const txnOffsetCommit: Handler<28> = async (ctx, request, info) => {
  if (!allowed(ctx, info, Op.WRITE, Resource.TRANSACTIONAL_ID, request.transactionalId)) {
    return { throttleTimeMs: 0, topics: everyPartition(request.topics, KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED) };
  }
  if (!allowed(ctx, info, Op.READ, Resource.GROUP, request.groupId)) {
    return { throttleTimeMs: 0, topics: everyPartition(request.topics, KafkaErrorCode.GROUP_AUTHORIZATION_FAILED) };
  }
  const { topics, refused } = checkCommitPartitions(ctx, info, request.topics, info.apiVersion >= 2);
  // Nothing left to commit: no transactional batch, no group created (Kafka answers the same way).
  if (topics.length === 0) return { throttleTimeMs: 0, topics: withRefused([], refused) };
  const v3 = info.apiVersion >= 3;
  const r = await ctx.groups.txnOffsetCommit({
    transactionalId: request.transactionalId,
    groupId: request.groupId,
    producerId: request.producerId,
    producerEpoch: request.producerEpoch,
    generationId: v3 ? request.generationId : -1,
    memberId: v3 ? request.memberId : '',
    groupInstanceId: v3 ? request.groupInstanceId : null,
    topics,
  });
  return { throttleTimeMs: 0, topics: withRefused(r.topics, refused) };
};
