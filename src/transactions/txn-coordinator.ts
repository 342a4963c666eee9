/**
 * The transaction coordinator of one `__transaction_state` partition (Kafka's TransactionCoordinator):
 * it keeps the state of every transactional id whose partition this is, stores each change in that
 * partition (txn-log-records.ts) before it answers, and ends transactions by writing commit or abort
 * markers to their partitions (through the injected TxnMarkerWriter). The rules of each step are the
 * pure functions of txn-state.ts; this class adds the order, durability, timers and marker writing.
 *
 * Order: one change per transactional id at a time. A request for an id whose change is still being
 * stored, or whose markers are being written, is answered CONCURRENT_TRANSACTIONS (retriable; clients
 * back off and retry), as Kafka answers it.
 *
 * EndTxn: once PrepareCommit/PrepareAbort is stored the outcome is decided, and a new coordinator
 * (restart, failover) finishes writing the markers from the stored state; then CompleteCommit/
 * CompleteAbort is stored. The answer waits for the markers and the completion up to `endWaitMs`
 * (Redpanda's choice rather than Kafka's, which answers at once): the producer's next transaction then
 * starts without a CONCURRENT_TRANSACTIONS round trip and its backoff (300 ms in kafkajs), and a
 * consumer that reads after the commit is answered sees it. Past the wait it answers anyway: the
 * decision is stored.
 *
 * Timers: transactions open longer than their timeout are aborted (their producer fenced with epoch + 1),
 * and ids idle longer than transactional.id.expiration.ms are forgotten (a tombstone), checked every
 * `checkIntervalMs`.
 */
import type { Clock, TimerHandle } from '../io/clock.ts';
import { every, type PeriodicTimer } from '../io/periodic-timer.ts';
import { coordinatorPhaseError, type CoordinatorPhase } from '../groups/coordinator-phase.ts';
import type { OffsetsLog } from '../groups/offsets-log.ts';
import { KafkaErrorCode } from '../protocol/kafka/error-codes.ts';
import { decodeTxnLogKey, decodeTxnLogValue, encodeTxnLogKey, encodeTxnLogValue, type TxnLogValue, type TxnStatusName, type TxnTopicPartitions } from './txn-log-records.ts';
import { addPartitions, endTransaction, expire, initProducer, markersWritten, MAX_PRODUCER_EPOCH, type ProducerRef, type TxnError, type TxnOutcome } from './txn-state.ts';

/** What the coordinator asks of the partitions of a transaction when it ends. */
export interface TxnMarkerRequest {
  readonly transactionalId: string;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly commit: boolean;
  readonly coordinatorEpoch: number;
  readonly partitions: readonly TxnTopicPartitions[];
}

export interface TxnMarkerWriter {
  /**
   * Writes the marker to every partition of the request and resolves once each is written (visible) or
   * can never be (its topic was deleted). Retries everything else (leaders moving, brokers down) until
   * `cancelled()` says this coordinator stopped; never rejects.
   */
  write(marker: TxnMarkerRequest, cancelled: () => boolean): Promise<void>;
}

export interface TxnCoordinatorOptions {
  /** The `__transaction_state` partition as key/value records (the same contract as the offsets log). */
  readonly log: OffsetsLog;
  readonly clock: Clock;
  /** The partition's leader epoch when this coordinator was made: markers carry it. */
  readonly coordinatorEpoch: number;
  /** A producer id never handed out before (the controller's blocks). */
  readonly newProducerId: () => Promise<bigint>;
  readonly markers: TxnMarkerWriter;
  /** transaction.max.timeout.ms: the longest timeout a producer may ask for. */
  readonly maxTimeoutMs: number;
  /** transactional.id.expiration.ms: an id idle this long is forgotten. */
  readonly idExpirationMs: number;
  /** How often timeouts and expirations are checked. */
  readonly checkIntervalMs: number;
  /** How long EndTxn waits for its markers before it answers (the decision is stored either way). */
  readonly endWaitMs: number;
  /** Failures nobody awaits (markers, timers): the broker logs them. */
  readonly onBackgroundError: (error: unknown, context: string) => void;
  /** Told of each ended transaction (metrics). */
  readonly onEnded?: (commit: boolean, durationMs: number) => void;
}

export interface TxnLoadSummary {
  readonly records: number;
  readonly transactionalIds: number;
  /** Transactions whose markers a previous coordinator had not finished: this one writes them. */
  readonly resumed: number;
}

/** A transactional id as DescribeTransactions and ListTransactions show it. */
export interface DescribedTxn {
  readonly transactionalId: string;
  readonly state: TxnStatusName;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly timeoutMs: number;
  /** -1 when no transaction is under way. */
  readonly startMs: number;
  readonly partitions: readonly TxnTopicPartitions[];
}

export interface InitProducerAnswer {
  readonly errorCode: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
}

const KAFKA_CODE: Record<TxnError, number> = {
  CONCURRENT_TRANSACTIONS: KafkaErrorCode.CONCURRENT_TRANSACTIONS,
  INVALID_TRANSACTION_TIMEOUT: KafkaErrorCode.INVALID_TRANSACTION_TIMEOUT,
  INVALID_PRODUCER_ID_MAPPING: KafkaErrorCode.INVALID_PRODUCER_ID_MAPPING,
  PRODUCER_FENCED: KafkaErrorCode.PRODUCER_FENCED,
  INVALID_PRODUCER_EPOCH: KafkaErrorCode.INVALID_PRODUCER_EPOCH,
  INVALID_TXN_STATE: KafkaErrorCode.INVALID_TXN_STATE,
};

/**
 * The errors about the producer itself, which Kafka answers before a transaction's progress: told
 * even while the id is busy. Anything else about the state (INVALID_TXN_STATE, say) waits for the
 * change under way: the state it would be judged on is about to change.
 */
const PRODUCER_ERRORS: ReadonlySet<TxnError> = new Set(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING']);

/** Whether a step from `current` may need a never-used producer id (a new id, or an exhausted epoch). */
function needsProducerId(current: TxnLogValue | undefined): boolean {
  return current === undefined || current.status === 'Dead' || current.producerEpoch >= MAX_PRODUCER_EPOCH - 1;
}

export class TransactionCoordinator {
  private phase: CoordinatorPhase = 'new';
  private readonly states = new Map<string, TxnLogValue>();
  /** Ids with a change being stored or markers being written. */
  private readonly busy = new Set<string>();
  private timer: PeriodicTimer | null = null;
  private checking = false;

  constructor(private readonly options: TxnCoordinatorOptions) {}

  /** A coordinator for ids coordinated by another broker: every request is answered NOT_COORDINATOR. */
  static elsewhere(options: TxnCoordinatorOptions): TransactionCoordinator {
    const c = new TransactionCoordinator(options);
    c.phase = 'elsewhere';
    return c;
  }

  /** Replays the partition, then resumes unfinished marker writes and starts the timers. */
  async load(): Promise<TxnLoadSummary> {
    if (this.phase !== 'new') throw new Error(`transaction coordinator load in phase ${this.phase}`);
    this.phase = 'loading';
    let records = 0;
    try {
      for await (const entry of this.options.log.replay()) {
        // The coordinator writes plain batches only; markers there would be another writer's.
        if (entry.kind !== 'batch' || entry.transaction !== null) continue;
        for (const record of entry.records) {
          records++;
          const id = decodeTxnLogKey(record.key);
          if (record.value === null) this.states.delete(id);
          else this.states.set(id, decodeTxnLogValue(record.value));
        }
      }
    } catch (err) {
      if (this.phase === 'loading') this.phase = 'failed';
      throw err;
    }
    if (this.phase !== 'loading') return { records, transactionalIds: this.states.size, resumed: 0 };
    this.phase = 'active';
    let resumed = 0;
    for (const [id, state] of this.states) {
      if (state.status !== 'PrepareCommit' && state.status !== 'PrepareAbort') continue;
      resumed++;
      void this.finish(id, state, state.status === 'PrepareCommit');
    }
    this.timer = every(this.options.clock, this.options.checkIntervalMs, () => this.check());
    return { records, transactionalIds: this.states.size, resumed };
  }

  get loaded(): boolean {
    return this.phase === 'active';
  }

  /** FindCoordinator's answer for an id of this partition: here, also while loading (requests then wait). */
  findCoordinator(): number {
    const refused = this.unavailable();
    return refused === KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS ? KafkaErrorCode.NONE : (refused ?? KafkaErrorCode.NONE);
  }

  /**
   * InitProducerId with a transactional id. An id with a transaction under way has it aborted (its
   * producer fenced) and is answered CONCURRENT_TRANSACTIONS: the client retries and then gets its epoch.
   */
  async initProducerId(transactionalId: string, timeoutMs: number, expected: ProducerRef | null): Promise<InitProducerAnswer> {
    const none = (errorCode: number): InitProducerAnswer => ({ errorCode, producerId: -1n, producerEpoch: -1 });
    const outcome = await this.change(transactionalId, async (current) => {
      const fresh = needsProducerId(current) ? await this.options.newProducerId() : null;
      return initProducer(current, timeoutMs, this.options.maxTimeoutMs, this.options.clock.now(), () => fresh!, expected);
    });
    if (typeof outcome === 'number') return none(outcome);
    // The transaction under way is being aborted: the answer comes on a retry, once it is.
    if (outcome.markers !== undefined) return none(KafkaErrorCode.CONCURRENT_TRANSACTIONS);
    return { errorCode: KafkaErrorCode.NONE, producerId: outcome.next.producerId, producerEpoch: outcome.next.producerEpoch };
  }

  /** AddPartitionsToTxn (and AddOffsetsToTxn with the group's offsets partition): the error code. */
  async addPartitions(transactionalId: string, producer: ProducerRef, partitions: readonly TxnTopicPartitions[], fencedError: TxnError = 'PRODUCER_FENCED'): Promise<number> {
    const outcome = await this.change(transactionalId, (current) => addPartitions(current, producer, partitions, this.options.clock.now(), fencedError), true);
    return typeof outcome === 'number' ? outcome : KafkaErrorCode.NONE;
  }

  /** EndTxn: answered once the decision is stored; the markers follow. */
  async endTransaction(transactionalId: string, producer: ProducerRef, commit: boolean, fencedError: TxnError = 'PRODUCER_FENCED'): Promise<number> {
    const outcome = await this.change(transactionalId, (current) => endTransaction(current, producer, commit, this.options.clock.now(), fencedError), true);
    if (typeof outcome === 'number') return outcome;
    if (outcome.finished !== undefined) {
      let timer: TimerHandle | undefined;
      await Promise.race([outcome.finished, new Promise<void>((resolve) => (timer = this.options.clock.setTimer(this.options.endWaitMs, resolve)))]);
      this.options.clock.clearTimer(timer);
    }
    return KafkaErrorCode.NONE;
  }

  /** DescribeTransactions for one id: its state, or the error code. */
  describe(transactionalId: string): DescribedTxn | number {
    const refused = this.unavailable();
    if (refused !== null) return refused;
    const state = this.states.get(transactionalId);
    if (state === undefined) return KafkaErrorCode.TRANSACTIONAL_ID_NOT_FOUND;
    return described(transactionalId, state);
  }

  /** Every id here (ListTransactions filters them), or the error code when not loaded. */
  list(): DescribedTxn[] | number {
    const refused = this.unavailable();
    if (refused !== null) return refused;
    return [...this.states].map(([id, state]) => described(id, state));
  }

  /** Leadership moved away (or the broker stops): nothing more is stored or written from here. */
  close(): void {
    if (this.phase === 'closed' || this.phase === 'elsewhere') return;
    this.phase = 'closed';
    this.timer?.cancel();
    this.timer = null;
  }

  private unavailable(): number | null {
    return coordinatorPhaseError(this.phase, KafkaErrorCode.NOT_COORDINATOR);
  }

  /**
   * One change of an id: decides from the current state, stores the result, then (when the outcome ends
   * a transaction) writes the markers in the background. Resolves with the outcome, or an error code.
   * `pure`: `decide` has no side effects, so while the id is busy it may still tell a fenced or unknown
   * producer so (Kafka checks the producer before the transaction's progress); anything else is
   * CONCURRENT_TRANSACTIONS (a retried EndTxn of the other decision than the one being written, say:
   * the client retries and meets the finished state, or the coordinator that took over).
   */
  private async change(id: string, decide: (current: TxnLogValue | undefined) => TxnOutcome | Promise<TxnOutcome>, pure = false): Promise<(TxnOutcome & { error: null; finished?: Promise<void> }) | number> {
    const refused = this.unavailable();
    if (refused !== null) return refused;
    if (this.busy.has(id)) {
      const early = pure ? await decide(this.states.get(id)) : null;
      return early !== null && early.error !== null && PRODUCER_ERRORS.has(early.error) ? KAFKA_CODE[early.error] : KafkaErrorCode.CONCURRENT_TRANSACTIONS;
    }
    this.busy.add(id);
    let ending = false;
    try {
      const current = this.states.get(id);
      let outcome: TxnOutcome;
      try {
        outcome = await decide(current);
      } catch (err) {
        // No producer id to be had right now (the controller electing): retriable.
        this.options.onBackgroundError(err, 'producer id allocation');
        return KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
      }
      if (outcome.error !== null) return KAFKA_CODE[outcome.error];
      if (outcome.next !== current) {
        const stored = await this.store(id, outcome.next);
        if (stored !== null) return stored;
      }
      if (outcome.markers !== undefined) {
        ending = true;
        return { ...outcome, finished: this.finish(id, outcome.next, outcome.markers.commit, true) };
      }
      return outcome;
    } finally {
      // finish() keeps the id busy until its markers are written.
      if (!ending) this.busy.delete(id);
    }
  }

  /** Stores `value` for `id` and applies it; null, or the error code when it could not be stored. */
  private async store(id: string, value: TxnLogValue | null): Promise<number | null> {
    // A completion waits on no sync of its own: the durable PrepareCommit/PrepareAbort before it is the
    // decision, and if a crash loses the completion, the next coordinator finds the decision and writes
    // the markers again (a second marker changes nothing). The id's next change is synced and takes it along.
    const completion = value !== null && (value.status === 'CompleteCommit' || value.status === 'CompleteAbort');
    // Closed meanwhile (leadership moved while this change waited for a producer id): nothing more is
    // written. The partition may be led here again by then, in a later term, with another coordinator
    // loaded from it that would never learn of this record, and whose successors would replay it over
    // the states that coordinator stored since.
    if (this.phase !== 'active') return KafkaErrorCode.NOT_COORDINATOR;
    try {
      await this.options.log.append([{ key: encodeTxnLogKey(id), value: value === null ? null : encodeTxnLogValue(value) }], undefined, completion ? 'visible' : 'durable');
    } catch (err) {
      // Leadership of the partition lost, or its log failing: the client finds the coordinator again.
      if (this.phase === 'active') this.options.onBackgroundError(err, `__transaction_state write for ${id}`);
      return KafkaErrorCode.NOT_COORDINATOR;
    }
    if (this.phase !== 'active') return KafkaErrorCode.NOT_COORDINATOR;
    if (value === null) this.states.delete(id);
    else this.states.set(id, value);
    return null;
  }

  /**
   * Writes the markers of the decided transaction, then stores it complete. The id stays busy meanwhile.
   * The promise resolves when that is done or abandoned (never rejects).
   */
  private finish(id: string, prepared: TxnLogValue, commit: boolean, alreadyBusy = false): Promise<void> {
    if (!alreadyBusy) this.busy.add(id);
    const cancelled = () => this.phase !== 'active';
    const marker: TxnMarkerRequest = { transactionalId: id, producerId: prepared.producerId, producerEpoch: prepared.producerEpoch, commit, coordinatorEpoch: this.options.coordinatorEpoch, partitions: prepared.partitions };
    return (async () => {
      try {
        await this.options.markers.write(marker, cancelled);
        if (cancelled()) return;
        const stored = await this.store(id, markersWritten(prepared, this.options.clock.now()));
        if (stored === null && prepared.startMs >= 0) this.options.onEnded?.(commit, this.options.clock.now() - prepared.startMs);
      } catch (err) {
        this.options.onBackgroundError(err, `markers of ${id}`);
      } finally {
        this.busy.delete(id);
      }
    })();
  }

  /** Aborts timed-out transactions and forgets long-idle ids. */
  private check(): void {
    if (this.checking || this.phase !== 'active') return;
    this.checking = true;
    void this.checkOnce()
      .catch((err: unknown) => this.options.onBackgroundError(err, 'transaction timeout check'))
      .finally(() => {
        this.checking = false;
      });
  }

  private async checkOnce(): Promise<void> {
    const nowMs = this.options.clock.now();
    for (const [id, state] of [...this.states]) {
      if (this.phase !== 'active') return;
      if (this.busy.has(id)) continue;
      if (state.status === 'Ongoing' && state.startMs >= 0 && nowMs - state.startMs > state.timeoutMs) {
        await this.change(id, async (current) => {
          const fresh = current !== undefined && current.producerEpoch >= MAX_PRODUCER_EPOCH - 1 ? await this.options.newProducerId() : null;
          return expire(current!, this.options.clock.now(), () => fresh!) ?? { error: null, next: current! };
        });
      } else if ((state.status === 'Empty' || state.status === 'CompleteCommit' || state.status === 'CompleteAbort') && nowMs - state.lastUpdateMs > this.options.idExpirationMs) {
        this.busy.add(id);
        try {
          await this.store(id, null);
        } finally {
          this.busy.delete(id);
        }
      }
    }
  }
}

function described(transactionalId: string, s: TxnLogValue): DescribedTxn {
  return { transactionalId, state: s.status, producerId: s.producerId, producerEpoch: s.producerEpoch, timeoutMs: s.timeoutMs, startMs: s.startMs, partitions: s.partitions };
}
