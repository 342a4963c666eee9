/**
 * DescribeTransactions (65), version 0 (KIP-664): the state of each named transactional id, answered by
 * its coordinator (NOT_COORDINATOR when that is another broker: admin clients send each id to its
 * coordinator, found with FindCoordinator). DESCRIBE on the transactional id when authorization is on.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { allowed, Op, Resource } from '../access.ts';

export const describeTransactions: Handler<65> = (ctx, request, info) => ({
  throttleTimeMs: 0,
  transactionStates: request.transactionalIds.map((id) => {
    const none = (errorCode: number) => ({ errorCode, transactionalId: id, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1n, producerId: -1n, producerEpoch: -1, topics: [] });
    if (!allowed(ctx, info, Op.DESCRIBE, Resource.TRANSACTIONAL_ID, id)) return none(KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const d = ctx.transactions.router.coordinatorOf(id).describe(id);
    if (typeof d === 'number') return none(d);
    return {
      errorCode: 0,
      transactionalId: id,
      transactionState: d.state,
      transactionTimeoutMs: d.timeoutMs,
      transactionStartTimeMs: BigInt(d.startMs),
      producerId: d.producerId,
      producerEpoch: d.producerEpoch,
      topics: d.partitions.map((t) => ({ topic: t.topic, partitions: [...t.partitions] })),
    };
  }),
});
