/**
 * ListTransactions (66), versions 0-1 (KIP-664): the transactional ids this broker coordinates, filtered
 * by state names, producer ids and (v1, KIP-994) running longer than duration_filter ms. Admin clients
 * ask every broker and merge. State names this broker does not know come back in
 * unknown_state_filters (and match nothing). Ids the requester may not DESCRIBE are left out.
 */
import { TxnStatus } from '../../transactions/txn-log-records.ts';
import type { Handler } from '../handler.ts';
import { visible, Op, Resource } from '../access.ts';

export const listTransactions: Handler<66> = (ctx, request, info) => {
  const known = new Set(Object.keys(TxnStatus));
  const states = new Set(request.stateFilters);
  const producers = new Set(request.producerIdFilters);
  const { errorCode, transactions } = ctx.transactions.router.list();
  const nowMs = ctx.now();
  const durationMs = info.apiVersion >= 1 ? Number(request.durationFilter) : -1;
  return {
    throttleTimeMs: 0,
    errorCode,
    unknownStateFilters: request.stateFilters.filter((s) => !known.has(s)),
    transactionStates: transactions
      .filter((t) => states.size === 0 || states.has(t.state))
      .filter((t) => producers.size === 0 || producers.has(t.producerId))
      .filter((t) => durationMs < 0 || (t.startMs >= 0 && nowMs - t.startMs > durationMs))
      .filter((t) => visible(ctx, info, Op.DESCRIBE, Resource.TRANSACTIONAL_ID, t.transactionalId))
      .map((t) => ({ transactionalId: t.transactionalId, producerId: t.producerId, transactionState: t.state })),
  };
};
