/**
 * InitProducerId (22), versions 0-5 (InitProducerIdRequest.json).
 * - Without a transactional id (idempotent producers): a fresh producer id (never reused: ids come from
 *   blocks recorded in metadata before use) and epoch 0, ignoring the v3+ producer_id/epoch fields, as
 *   Kafka does. With authorization it needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic
 *   (KIP-679), else CLUSTER_AUTHORIZATION_FAILED.
 * - With a transactional id: the id's transaction coordinator (this broker must be it, else
 *   NOT_COORDINATOR) gives its producer id and bumps the epoch, fencing older producers of the id
 *   (transactions/txn-coordinator.ts). v3+ may name the producer the client had (KIP-360). With
 *   authorization it needs WRITE on the transactional id, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { allowed, allowedOnAny, clusterAllowed, Op, Resource } from '../access.ts';

export const initProducerId: Handler<22> = async (ctx, request, info) => {
  const none = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 });
  const transactionalId = request.transactionalId;
  if (transactionalId !== null) {
    if (!allowed(ctx, info, Op.WRITE, Resource.TRANSACTIONAL_ID, transactionalId)) return none(KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (transactionalId.length === 0) return none(KafkaErrorCode.INVALID_REQUEST); // as Kafka answers it
    const expected = request.producerId >= 0n && request.producerEpoch >= 0 ? { producerId: request.producerId, producerEpoch: request.producerEpoch } : null;
    const answer = await ctx.transactions.router.coordinatorOf(transactionalId).initProducerId(transactionalId, request.transactionTimeoutMs, expected);
    return { throttleTimeMs: 0, ...answer };
  }
  if (!allowedOnAny(ctx, info, Op.WRITE, Resource.TOPIC) && !clusterAllowed(ctx, info, Op.IDEMPOTENT_WRITE)) {
    return none(KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  }
  try {
    const producerId = await ctx.metadata.nextProducerId();
    return { throttleTimeMs: 0, errorCode: 0, producerId, producerEpoch: 0 };
  } catch (err) {
    // No block of ids now (the controller is electing a leader, say): retriable, as Kafka answers it.
    ctx.log.warn({ err }, 'producer id allocation failed; the client retries');
    return none(KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  }
};
