/**
 * EndTxn (26), versions 0-4 (EndTxnRequest.json): commit or abort the producer's transaction. Answered
 * once the coordinator stored the decision; it then writes the markers to every partition of the
 * transaction (read_committed consumers see the data once the marker is there). WRITE on the
 * transactional id when authorization is on; before v2 a fenced producer gets INVALID_PRODUCER_EPOCH.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { allowed, Op, Resource } from '../access.ts';

export const endTxn: Handler<26> = async (ctx, request, info) => {
  const id = request.transactionalId;
  if (!allowed(ctx, info, Op.WRITE, Resource.TRANSACTIONAL_ID, id)) return { throttleTimeMs: 0, errorCode: KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
  const producer = { producerId: request.producerId, producerEpoch: request.producerEpoch };
  const errorCode = await ctx.transactions.router.coordinatorOf(id).endTransaction(id, producer, request.committed, info.apiVersion >= 2 ? 'PRODUCER_FENCED' : 'INVALID_PRODUCER_EPOCH');
  return { throttleTimeMs: 0, errorCode };
};
