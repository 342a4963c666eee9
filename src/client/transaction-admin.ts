/**
 * Transaction administration (KIP-664): ListTransactions from every broker (each lists the ids it
 * coordinates) and DescribeTransactions from each id's coordinator.
 */
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import type { ClientCore } from './client-core.ts';
import { throwIfError } from './kafka-error.ts';

export interface ListedTransaction {
  transactionalId: string;
  producerId: bigint;
  state: string;
  coordinator: number;
}

export interface DescribedTransaction {
  transactionalId: string;
  state: string;
  producerId: bigint;
  producerEpoch: number;
  timeoutMs: number;
  /** -1 when no transaction is open. */
  startTimeMs: number;
  partitions: { topic: string; partitions: number[] }[];
  coordinator: number;
}

export interface TransactionFilter {
  states?: readonly string[];
  producerIds?: readonly bigint[];
  /** Only transactions open longer than this (ms). */
  longerThanMs?: number;
}

export async function listTransactions(core: ClientCore, filter: TransactionFilter = {}): Promise<ListedTransaction[]> {
  const md = await core.metadata([]);
  const lists = await Promise.all(
    md.brokers.map((b) =>
      core.retry(async () => {
        const { body } = await core.request({ node: b.nodeId }, API_KEYS.ListTransactions, () => ({
          stateFilters: [...(filter.states ?? [])],
          producerIdFilters: [...(filter.producerIds ?? [])],
          durationFilter: BigInt(filter.longerThanMs ?? -1),
        }));
        throwIfError(body.errorCode, `list transactions on broker ${b.nodeId}`);
        return body.transactionStates.map((t) => ({ transactionalId: t.transactionalId, producerId: t.producerId, state: t.transactionState, coordinator: b.nodeId }));
      }),
    ),
  );
  return lists.flat().sort((a, b) => a.transactionalId.localeCompare(b.transactionalId));
}

export async function describeTransaction(core: ClientCore, transactionalId: string): Promise<DescribedTransaction> {
  return core.retry(async () => {
    const target = { coordinator: transactionalId, keyType: 1 as const };
    const coordinator = (await core.findCoordinator(transactionalId, 1)).nodeId;
    const { body } = await core.request(target, API_KEYS.DescribeTransactions, () => ({ transactionalIds: [transactionalId] }));
    const s = body.transactionStates[0];
    if (s === undefined) throw new Error(`DescribeTransactions answered without ${transactionalId}`);
    throwIfError(s.errorCode, `describe transaction ${transactionalId}`);
    return {
      transactionalId,
      state: s.transactionState,
      producerId: s.producerId,
      producerEpoch: s.producerEpoch,
      timeoutMs: s.transactionTimeoutMs,
      startTimeMs: Number(s.transactionStartTimeMs),
      partitions: s.topics.map((t) => ({ topic: t.topic, partitions: t.partitions })),
      coordinator,
    };
  });
}
