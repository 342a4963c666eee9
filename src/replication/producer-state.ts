/**
 * Idempotent-producer state of one partition: for each producer id, its epoch and the last five
 * batches it appended (Kafka keeps five because clients allow at most five in-flight requests with
 * idempotence). Rules follow Kafka 3.9's ProducerAppendInfo:
 *   - epoch below the current one: INVALID_PRODUCER_EPOCH;
 *   - a new, higher epoch must start at sequence 0, else OUT_OF_ORDER_SEQUENCE_NUMBER;
 *   - same epoch: baseSequence must follow the last sequence (wrapping at 2^31-1), else OUT_OF_ORDER;
 *   - a batch equal to one of the last five is a duplicate: answer success with its original offset;
 *   - no state for the producer (never seen, or expired after long idleness): accept any sequence.
 * The state is rebuilt from the log on restart by replaying `record` for every idempotent batch.
 */
import { assert } from '../util/assert.ts';

export const PRODUCER_BATCHES_KEPT = 5;
const SEQUENCE_MAX = 0x7fffffff;

export interface BatchIdentity {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  /** baseSequence + lastOffsetDelta, wrapped. */
  lastSequence: number;
}

interface BatchEntry {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  lastOffset: number;
}

interface ProducerEntry {
  epoch: number;
  batches: BatchEntry[];
  lastTimestampMs: number;
}

export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; baseOffset: number }
  | { kind: 'invalid-epoch' }
  | { kind: 'out-of-order' };

export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  const last = baseSequence + lastOffsetDelta;
  return last > SEQUENCE_MAX ? last - SEQUENCE_MAX - 1 : last;
}

export class ProducerStateTable {
  private readonly producers = new Map<bigint, ProducerEntry>();

  get size(): number {
    return this.producers.size;
  }

  /** Decides what to do with an incoming idempotent batch; does not change state. */
  check(batch: BatchIdentity): SequenceCheck {
    assert(batch.producerId >= 0n, 'check is only for idempotent batches');
    const entry = this.producers.get(batch.producerId);
    if (!entry) return { kind: 'append' };
    if (batch.producerEpoch < entry.epoch) return { kind: 'invalid-epoch' };
    if (batch.producerEpoch > entry.epoch) return batch.baseSequence === 0 ? { kind: 'append' } : { kind: 'out-of-order' };
    for (const b of entry.batches) {
      if (b.firstSeq === batch.baseSequence && b.lastSeq === batch.lastSequence) return { kind: 'duplicate', baseOffset: b.baseOffset };
    }
    const last = entry.batches[entry.batches.length - 1];
    if (!last) return { kind: 'append' };
    const expected = last.lastSeq === SEQUENCE_MAX ? 0 : last.lastSeq + 1;
    return batch.baseSequence === expected ? { kind: 'append' } : { kind: 'out-of-order' };
  }

  /** Records an appended batch (live, or replayed from the log on recovery). */
  record(batch: BatchIdentity, baseOffset: number, lastOffset: number, timestampMs: number): void {
    assert(lastOffset >= baseOffset, 'lastOffset before baseOffset');
    let entry = this.producers.get(batch.producerId);
    if (!entry || batch.producerEpoch > entry.epoch) {
      entry = { epoch: batch.producerEpoch, batches: [], lastTimestampMs: timestampMs };
      this.producers.set(batch.producerId, entry);
    }
    entry.batches.push({ firstSeq: batch.baseSequence, lastSeq: batch.lastSequence, baseOffset, lastOffset });
    if (entry.batches.length > PRODUCER_BATCHES_KEPT) entry.batches.shift();
    entry.lastTimestampMs = Math.max(entry.lastTimestampMs, timestampMs);
  }

  /** The producer's current epoch, or undefined when it has no state here. */
  epochOf(producerId: bigint): number | undefined {
    return this.producers.get(producerId)?.epoch;
  }

  /**
   * A transaction marker of the producer was written (live, or replayed from the log): it moves the
   * producer to the marker's epoch, as Kafka does (a bumped epoch starts its sequences over), and
   * keeps its recent batches when the epoch is the same (sequences go on across transactions).
   */
  markerWritten(producerId: bigint, producerEpoch: number, timestampMs: number): void {
    assert(producerId >= 0n, 'markers belong to producers with an id');
    const entry = this.producers.get(producerId);
    if (entry === undefined || producerEpoch > entry.epoch) {
      this.producers.set(producerId, { epoch: producerEpoch, batches: [], lastTimestampMs: timestampMs });
      return;
    }
    // An older epoch's marker changes nothing (the log may hold one a leader that had forgotten
    // the producer accepted).
    entry.lastTimestampMs = Math.max(entry.lastTimestampMs, timestampMs);
  }

  /** Every producer with state here: its epoch, the last sequence it wrote (-1: none since its epoch began), when it last wrote. */
  list(): { producerId: bigint; epoch: number; lastSequence: number; lastTimestampMs: number }[] {
    return [...this.producers].map(([producerId, e]) => ({ producerId, epoch: e.epoch, lastSequence: e.batches.at(-1)?.lastSeq ?? -1, lastTimestampMs: e.lastTimestampMs }));
  }

  /** Forgets producers idle longer than `idleMs` (Kafka: producer.id.expiration.ms, 24 h). */
  expire(nowMs: number, idleMs: number): number {
    let removed = 0;
    for (const [pid, entry] of this.producers) {
      if (nowMs - entry.lastTimestampMs > idleMs) {
        this.producers.delete(pid);
        removed++;
      }
    }
    return removed;
  }

  /** Drops batches at or beyond `offset` (the log was truncated there). */
  truncateFrom(offset: number): void {
    for (const [pid, entry] of this.producers) {
      entry.batches = entry.batches.filter((b) => b.lastOffset < offset);
      if (entry.batches.length === 0) this.producers.delete(pid);
    }
  }
}
