/**
 * InitProducerId (22), versions 0-5 (InitProducerIdRequest.json), for idempotent producers only.
 * Each request without a transactional id gets a fresh producer id (never reused: ids come from blocks
 * recorded in metadata before use) and epoch 0, ignoring the v3+ producer_id/epoch fields, as Kafka
 * does. Transactional ids are refused: this broker has no transaction coordinator.
 * With authorization an idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some
 * topic (KIP-679), else CLUSTER_AUTHORIZATION_FAILED.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { allowedOnAny, clusterAllowed, Op, Resource } from '../access.ts';

export const initProducerId: Handler<22> = async (ctx, request, info) => {
  if (request.transactionalId !== null) {
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 };
  }
  if (!allowedOnAny(ctx, info, Op.WRITE, Resource.TOPIC) && !clusterAllowed(ctx, info, Op.IDEMPOTENT_WRITE)) {
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 };
  }
  try {
    const producerId = await ctx.metadata.nextProducerId();
    return { throttleTimeMs: 0, errorCode: 0, producerId, producerEpoch: 0 };
  } catch (err) {
    // No block of ids now (the controller is electing a leader, say): retriable, as Kafka answers it.
    ctx.log.warn({ err }, 'producer id allocation failed; the client retries');
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS, producerId: -1n, producerEpoch: -1 };
  }
};
