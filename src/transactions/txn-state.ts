/**
 * The transaction coordinator's state for one transactional id, and the rules that move it (KIP-98):
 *
 *   Empty --AddPartitions--> Ongoing --EndTxn(commit|abort)--> PrepareCommit | PrepareAbort
 *     ^                                                               | markers written on every
 *     +----------- CompleteCommit | CompleteAbort <-------------------+ partition of the transaction
 *
 * InitProducerId gives a transactional id its producer id and bumps the epoch on every call, which
 * fences older producers of the same id (PRODUCER_FENCED); an id with a transaction under way has it
 * aborted first (the client retries on CONCURRENT_TRANSACTIONS until that is done). A transaction
 * older than its timeout is aborted the same way, by the coordinator.
 * Pure: each operation takes the current record (or none) and answers the Kafka error, or the record
 * to store (the coordinator appends it to `__transaction_state` before it answers) and, when the
 * transaction ends, the partitions whose markers must be written.
 */
import type { TxnLogValue, TxnStatusName, TxnTopicPartitions } from './txn-log-records.ts';

/** Kafka's largest producer epoch; past it, a transactional id gets a new producer id. */
export const MAX_PRODUCER_EPOCH = 32766;

/** Kafka errors these rules answer. */
export type TxnError =
  | 'CONCURRENT_TRANSACTIONS'
  | 'INVALID_TRANSACTION_TIMEOUT'
  | 'INVALID_PRODUCER_ID_MAPPING'
  | 'PRODUCER_FENCED'
  | 'INVALID_PRODUCER_EPOCH'
  | 'INVALID_TXN_STATE';

export type TxnOutcome =
  | { readonly error: TxnError }
  | {
      readonly error: null;
      /** The record to store. */
      readonly next: TxnLogValue;
      /** Partitions whose commit or abort markers must now be written (the transaction ended). */
      readonly markers?: { readonly commit: boolean; readonly partitions: readonly TxnTopicPartitions[] };
    };

/** The producer as a request names it: its id and epoch. */
export interface ProducerRef {
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

const ongoing = (s: TxnStatusName) => s === 'Ongoing';
const preparing = (s: TxnStatusName) => s === 'PrepareCommit' || s === 'PrepareAbort' || s === 'PrepareEpochFence';

/**
 * InitProducerId with a transactional id. `maxTimeoutMs` is the broker's transaction.max.timeout.ms;
 * `newProducerId` draws a never-used id (for a new transactional id, or when the epoch is exhausted).
 * `expected` (InitProducerId v3+, KIP-360) is the producer the client had, or null.
 */
export function initProducer(current: TxnLogValue | undefined, timeoutMs: number, maxTimeoutMs: number, nowMs: number, newProducerId: () => bigint, expected: ProducerRef | null = null): TxnOutcome {
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > maxTimeoutMs) return { error: 'INVALID_TRANSACTION_TIMEOUT' };
  if (current === undefined || current.status === 'Dead') {
    return { error: null, next: { producerId: newProducerId(), producerEpoch: 0, timeoutMs, status: 'Empty', partitions: [], lastUpdateMs: nowMs, startMs: -1 } };
  }
  if (expected !== null && (expected.producerId !== current.producerId || expected.producerEpoch !== current.producerEpoch)) {
    // KIP-360: a client that retries with the producer it had may only bump that one.
    return { error: expected.producerId !== current.producerId ? 'INVALID_PRODUCER_ID_MAPPING' : 'PRODUCER_FENCED' };
  }
  if (preparing(current.status)) return { error: 'CONCURRENT_TRANSACTIONS' };
  if (ongoing(current.status)) {
    // Fence the producer of the transaction under way (epoch + 1) and abort it; the client retries.
    return { error: null, next: { ...current, ...bumped(current, newProducerId), status: 'PrepareAbort', lastUpdateMs: nowMs }, markers: { commit: false, partitions: current.partitions } };
  }
  return { error: null, next: { ...current, ...bumped(current, newProducerId), timeoutMs, status: 'Empty', partitions: [], lastUpdateMs: nowMs, startMs: -1 } };
}

/** The producer id and epoch after a bump: epoch + 1, or a new producer id at epoch 0 once exhausted. */
function bumped(current: TxnLogValue, newProducerId: () => bigint): Pick<TxnLogValue, 'producerId' | 'producerEpoch'> {
  return current.producerEpoch >= MAX_PRODUCER_EPOCH ? { producerId: newProducerId(), producerEpoch: 0 } : { producerId: current.producerId, producerEpoch: current.producerEpoch + 1 };
}

/** Why `producer` may not act for this transactional id, or null. */
function producerError(current: TxnLogValue | undefined, producer: ProducerRef, fencedError: TxnError): TxnError | null {
  if (current === undefined || current.status === 'Dead' || current.producerId !== producer.producerId) return 'INVALID_PRODUCER_ID_MAPPING';
  if (producer.producerEpoch < current.producerEpoch) return fencedError;
  if (producer.producerEpoch > current.producerEpoch) return 'INVALID_PRODUCER_EPOCH';
  return null;
}

/** AddPartitionsToTxn (and AddOffsetsToTxn, with the offsets partition): the transaction starts or grows. */
export function addPartitions(current: TxnLogValue | undefined, producer: ProducerRef, added: readonly TxnTopicPartitions[], nowMs: number, fencedError: TxnError = 'PRODUCER_FENCED'): TxnOutcome {
  const refused = producerError(current, producer, fencedError);
  if (refused !== null) return { error: refused };
  const c = current!;
  if (preparing(c.status)) return { error: 'CONCURRENT_TRANSACTIONS' };
  const starting = !ongoing(c.status);
  return { error: null, next: { ...c, status: 'Ongoing', partitions: mergePartitions(starting ? [] : c.partitions, added), lastUpdateMs: nowMs, startMs: starting ? nowMs : c.startMs } };
}

/** EndTxn: commit or abort the transaction under way; a retry of a finished one is answered again. */
export function endTransaction(current: TxnLogValue | undefined, producer: ProducerRef, commit: boolean, nowMs: number, fencedError: TxnError = 'PRODUCER_FENCED'): TxnOutcome {
  const refused = producerError(current, producer, fencedError);
  if (refused !== null) return { error: refused };
  const c = current!;
  switch (c.status) {
    case 'Ongoing':
      return { error: null, next: { ...c, status: commit ? 'PrepareCommit' : 'PrepareAbort', lastUpdateMs: nowMs }, markers: { commit, partitions: c.partitions } };
    case 'PrepareCommit':
    case 'PrepareAbort':
      // The markers of this very end are being written: the client retries until they are.
      return (c.status === 'PrepareCommit') === commit ? { error: 'CONCURRENT_TRANSACTIONS' } : { error: 'INVALID_TXN_STATE' };
    case 'CompleteCommit':
    case 'CompleteAbort':
      // A retried EndTxn whose first attempt completed: the same answer; the other ending is a mistake.
      return (c.status === 'CompleteCommit') === commit ? { error: null, next: c } : { error: 'INVALID_TXN_STATE' };
    default:
      return { error: 'INVALID_TXN_STATE' };
  }
}

/** Every marker of the ending transaction is written: it is complete, and the id ready for the next. */
export function markersWritten(current: TxnLogValue, nowMs: number): TxnLogValue {
  const status = current.status === 'PrepareCommit' ? 'CompleteCommit' : 'CompleteAbort';
  return { ...current, status, partitions: [], lastUpdateMs: nowMs, startMs: -1 };
}

/** A transaction under way past its timeout: the coordinator fences its producer and aborts it. */
export function expire(current: TxnLogValue, nowMs: number, newProducerId: () => bigint): TxnOutcome | null {
  if (!ongoing(current.status) || current.startMs < 0 || nowMs - current.startMs <= current.timeoutMs) return null;
  return { error: null, next: { ...current, ...bumped(current, newProducerId), status: 'PrepareAbort', lastUpdateMs: nowMs }, markers: { commit: false, partitions: current.partitions } };
}

/** `a` with the partitions of `b` added, topics and partitions in order, each once. */
export function mergePartitions(a: readonly TxnTopicPartitions[], b: readonly TxnTopicPartitions[]): TxnTopicPartitions[] {
  const byTopic = new Map<string, Set<number>>();
  for (const t of [...a, ...b]) {
    const set = byTopic.get(t.topic) ?? byTopic.set(t.topic, new Set()).get(t.topic)!;
    for (const p of t.partitions) set.add(p);
  }
  return [...byTopic.keys()].sort().map((topic) => ({ topic, partitions: [...byTopic.get(topic)!].sort((x, y) => x - y) }));
}
