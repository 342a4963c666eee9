/**
 * The transaction coordinators' decisions as the committed `__transaction_state` log holds them, for
 * the partition simulation's checker: every record committed there (first applied by any replica, so
 * in log order) moves its transactional id's state, and each stretch from a transaction's start
 * (Ongoing after no transaction) to its completion (CompleteCommit/CompleteAbort) is a period. A
 * period is decided once its PrepareCommit/PrepareAbort is committed: from then on the decision is
 * what any coordinator, this one or a later one, must write to each of its partitions.
 *
 * Checked as records commit:
 *   - a producer id belongs to one transactional id (the allocator never hands one out twice);
 *   - a transactional id moves on (a new producer epoch, a new transaction) only once the
 *     transaction before is complete, and a transaction is decided only while it is open;
 *   - a completion follows its own decision, and every partition of the transaction has a committed
 *     marker of that decision by then (the coordinator stores it complete only after its markers).
 */
import { readRecords } from '../../src/protocol/kafka/record-batch/records.ts';
import { decodeTxnLogKey, decodeTxnLogValue, type TxnLogValue } from '../../src/transactions/txn-log-records.ts';

/** One transaction as the coordinators' log decides it. */
export interface Period {
  readonly transactionalId: string;
  /** 1, 2, ... per transactional id. */
  readonly number: number;
  readonly producerId: bigint;
  /** Partitions added so far (data partition keys, "topic-index"). */
  partitions: Set<string>;
  /** null until its PrepareCommit/PrepareAbort is committed. */
  decision: boolean | null;
  complete: boolean;
  /** Offsets of the markers committed for it, by partition (written while it was being decided). */
  readonly markers: Map<string, number[]>;
  /** Whether EndTxn was answered for it (the client was told the outcome). */
  answered: boolean;
}

export class TxnPeriods {
  private readonly states = new Map<string, TxnLogValue>();
  private readonly current = new Map<string, Period>();
  private readonly all: Period[] = [];
  private readonly idOfProducer = new Map<bigint, string>();

  constructor(private readonly fail: (invariant: string, message: string) => void) {}

  /** The periods so far, in the order they started. */
  periods(): readonly Period[] {
    return this.all;
  }

  /** The transactional id producer `producerId` was given to, if a coordinator gave it. */
  transactionalIdOf(producerId: bigint): string | undefined {
    return this.idOfProducer.get(producerId);
  }

  /** The id's latest period (open, being decided, or complete), if any. */
  latest(transactionalId: string): Period | undefined {
    return this.current.get(transactionalId);
  }

  /** The id's state as last committed. */
  state(transactionalId: string): TxnLogValue | undefined {
    return this.states.get(transactionalId);
  }

  /** Transactional ids whose transaction is open or being decided, as "id (status)". */
  unfinished(): string[] {
    return [...this.states]
      .filter(([, s]) => s.status === 'Ongoing' || s.status === 'PrepareCommit' || s.status === 'PrepareAbort')
      .map(([id, s]) => `${id} (${s.status})`);
  }

  /** A batch of `__transaction_state` committed for the first time at `offset`. */
  committed(batch: Buffer, offset: number): void {
    for (const record of readRecords(batch)) {
      if (record.key === null) continue;
      const id = decodeTxnLogKey(record.key);
      this.record(id, record.value === null ? null : decodeTxnLogValue(record.value), offset);
    }
  }

  private record(id: string, value: TxnLogValue | null, offset: number): void {
    const before = this.states.get(id);
    const where = `__transaction_state at ${offset}: ${id}`;
    if (value === null) {
      if (before !== undefined && !settled(before.status)) this.fail('a transactional id moves on only once its transaction is complete', `${where} forgotten in ${before.status}`);
      this.states.delete(id);
      return;
    }
    const owner = this.idOfProducer.get(value.producerId);
    if (owner !== undefined && owner !== id) this.fail('producer ids are never reused', `${where} has producer id ${value.producerId}, given to ${owner}`);
    this.idOfProducer.set(value.producerId, id);
    const was = before?.status ?? 'none';
    const period = this.current.get(id);
    const names = new Set(value.partitions.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p}`)));
    switch (value.status) {
      case 'Empty':
        if (before !== undefined && !settled(before.status)) this.fail('a transactional id moves on only once its transaction is complete', `${where} Empty after ${was}`);
        if (before !== undefined && before.producerId === value.producerId && value.producerEpoch <= before.producerEpoch) {
          this.fail('a transactional id moves on only once its transaction is complete', `${where} producer epoch ${before.producerEpoch} -> ${value.producerEpoch}`);
        }
        break;
      case 'Ongoing':
        if (before?.status === 'Ongoing') {
          if (value.producerId !== before.producerId || value.producerEpoch !== before.producerEpoch) this.fail('a transaction keeps its producer', `${where} Ongoing as ${value.producerId}/${value.producerEpoch} after ${before.producerId}/${before.producerEpoch}`);
          for (const p of period!.partitions) if (!names.has(p)) this.fail('a transaction keeps its partitions', `${where} Ongoing without ${p}`);
          period!.partitions = names;
        } else {
          if (before !== undefined && !settled(before.status)) this.fail('a transactional id moves on only once its transaction is complete', `${where} Ongoing after ${was}`);
          const started: Period = { transactionalId: id, number: (period?.number ?? 0) + 1, producerId: value.producerId, partitions: names, decision: null, complete: false, markers: new Map(), answered: false };
          this.current.set(id, started);
          this.all.push(started);
        }
        break;
      case 'PrepareCommit':
      case 'PrepareAbort': {
        const commit = value.status === 'PrepareCommit';
        if (before?.status !== 'Ongoing' || period === undefined) {
          this.fail('a transaction is decided once, while open', `${where} ${value.status} after ${was}`);
          break;
        }
        for (const p of period.partitions) if (!names.has(p)) this.fail('a transaction keeps its partitions', `${where} ${value.status} without ${p}`);
        period.partitions = names;
        period.decision = commit;
        break;
      }
      case 'CompleteCommit':
      case 'CompleteAbort': {
        const commit = value.status === 'CompleteCommit';
        const decided = before?.status === (commit ? 'PrepareCommit' : 'PrepareAbort');
        if (!decided || period === undefined) {
          this.fail('a transaction completes as decided', `${where} ${value.status} after ${was}`);
          break;
        }
        const unmarked = [...period.partitions].filter((p) => (period.markers.get(p)?.length ?? 0) === 0);
        if (unmarked.length > 0) this.fail('markers are written before a transaction completes', `${where} ${value.status} (transaction ${period.number}) with no committed marker on ${unmarked.join(', ')}`);
        period.complete = true;
        break;
      }
      default:
        this.fail('a transaction completes as decided', `${where} in state ${value.status}, which the coordinator does not write`);
    }
    this.states.set(id, value);
  }
}

/** No transaction open or being decided. */
function settled(status: TxnLogValue['status']): boolean {
  return status === 'Empty' || status === 'CompleteCommit' || status === 'CompleteAbort' || status === 'Dead';
}
