/**
 * The transactions of one partition, as its log shows them (the facts Kafka's ProducerStateManager and
 * transaction index keep):
 *   - a transactional data batch of a producer with no open transaction opens one at its base offset;
 *   - a control batch (commit or abort marker) of that producer closes it; an abort records
 *     (producer id, first offset, marker offset) in the aborted list, which read_committed fetches
 *     answer with so consumers drop the aborted records;
 *   - the last stable offset (LSO) is the first offset of the earliest transaction that is still open
 *     or whose marker is not visible yet (at or past the high watermark), else the high watermark.
 *     A closed transaction stays unstable until its marker is visible: a marker that may still be
 *     lost (not yet durable or committed) must not expose the data it decides on.
 * Batches are observed in offset order: on a single broker as they are appended, on a replica of a
 * Raft group as committed entries are applied (so every replica computes the same LSO), and, after a
 * restart, by scanning the log. Pure: no I/O.
 */
import { assert } from '../util/assert.ts';
import {
  ControlType,
  isControlBatch,
  isTransactionalBatch,
  readAttributes,
  readBaseOffset,
  readControlMarker,
  readLastOffsetDelta,
  readProducerId,
  readRecords,
} from '../protocol/kafka/record-batch/index.ts';

/** One aborted transaction: its records lie in [firstOffset, lastOffset), lastOffset is its abort marker. */
export interface AbortedTransaction {
  readonly producerId: bigint;
  readonly firstOffset: number;
  readonly lastOffset: number;
}

/** What a batch contributes: offsets, producer id, and for a control batch whether it commits. */
export interface ObservedBatch {
  readonly producerId: bigint;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly transactional: boolean;
  /** null for a data batch; true for a commit marker, false for an abort marker. */
  readonly commit: boolean | null;
}

export interface ClosedTransaction {
  readonly firstOffset: number;
  readonly markerOffset: number;
}

/** The tracker's whole state (a checkpoint's content). */
export interface TransactionsState {
  readonly observedEnd: number;
  readonly open: readonly { readonly producerId: bigint; readonly firstOffset: number }[];
  readonly closed: readonly ClosedTransaction[];
  readonly aborted: readonly AbortedTransaction[];
}

export class PartitionTransactions {
  /** Open transactions: producer id -> first offset. */
  private readonly open = new Map<bigint, number>();
  /** Closed transactions whose marker may not be visible yet, in marker order. */
  private closed: ClosedTransaction[] = [];
  /** Aborted transactions in marker (lastOffset) order. */
  private aborted: AbortedTransaction[] = [];
  /** One past the last offset observed. */
  private nextOffset = 0;

  /** One past the last offset observed: the next batch must start at or after it. */
  get observedEnd(): number {
    return this.nextOffset;
  }

  /** Everything the tracker holds, for a checkpoint (transactions-checkpoint.ts). */
  toState(): TransactionsState {
    return {
      observedEnd: this.nextOffset,
      open: [...this.open].map(([producerId, firstOffset]) => ({ producerId, firstOffset })),
      closed: this.closed.map((t) => ({ ...t })),
      aborted: this.aborted.map((t) => ({ ...t })),
    };
  }

  /** A tracker holding `state` (read back from a checkpoint). */
  static fromState(state: TransactionsState): PartitionTransactions {
    const t = new PartitionTransactions();
    t.nextOffset = state.observedEnd;
    for (const { producerId, firstOffset } of state.open) {
      assert(firstOffset < state.observedEnd, 'an open transaction past the observed end');
      t.open.set(producerId, firstOffset);
    }
    t.closed = state.closed.map((c) => ({ ...c }));
    t.aborted = state.aborted.map((a) => ({ ...a }));
    return t;
  }

  /** Producers with an open transaction. */
  get openCount(): number {
    return this.open.size;
  }

  /** The first offset of the producer's open transaction, or undefined. */
  openedAt(producerId: bigint): number | undefined {
    return this.open.get(producerId);
  }

  /** Records one batch; batches must come in offset order. */
  observe(batch: ObservedBatch): void {
    assert(batch.lastOffset >= batch.baseOffset, 'lastOffset before baseOffset');
    assert(batch.baseOffset >= this.nextOffset, `batch at ${batch.baseOffset} observed after offset ${this.nextOffset - 1}`);
    this.nextOffset = batch.lastOffset + 1;
    if (batch.producerId < 0n || !batch.transactional) return;
    if (batch.commit === null) {
      if (!this.open.has(batch.producerId)) this.open.set(batch.producerId, batch.baseOffset);
      return;
    }
    // A marker without an open transaction (a retried marker, or one for a transaction that wrote
    // nothing here) still counts, as in Kafka: its transaction spans the marker alone.
    const firstOffset = this.open.get(batch.producerId) ?? batch.baseOffset;
    this.open.delete(batch.producerId);
    this.closed.push({ firstOffset, markerOffset: batch.baseOffset });
    if (!batch.commit) this.aborted.push({ producerId: batch.producerId, firstOffset, lastOffset: batch.baseOffset });
  }

  /**
   * Observes a committed batch a replica applies, once: a batch below the observed end was observed
   * before (a replica restored from a checkpoint applies again the entries its stored commit index
   * trailed; committed batches never change, so skipping them is exact).
   */
  observeCommitted(batch: ObservedBatch): void {
    if (batch.baseOffset < this.nextOffset) {
      assert(batch.lastOffset < this.nextOffset, 'a committed batch straddles the observed end');
      return;
    }
    this.observe(batch);
  }

  /**
   * The last stable offset given the high watermark (one past the last offset consumers may see),
   * which never goes down: closed transactions it passed are forgotten.
   */
  lastStableOffset(highWatermark: number): number {
    let drop = 0;
    while (drop < this.closed.length && this.closed[drop]!.markerOffset < highWatermark) drop++;
    if (drop > 0) this.closed = this.closed.slice(drop);
    let lso = highWatermark;
    for (const first of this.open.values()) lso = Math.min(lso, first);
    for (const t of this.closed) lso = Math.min(lso, t.firstOffset);
    assert(lso <= highWatermark, 'the LSO passed the high watermark');
    return lso;
  }

  /**
   * The aborted transactions a read of [fromOffset, toOffset) must list (Kafka's rule: marker at or
   * after fromOffset, first offset before toOffset), in marker order.
   */
  abortedIn(fromOffset: number, toOffset: number): AbortedTransaction[] {
    assert(fromOffset <= toOffset, 'read range out of order');
    let low = 0;
    let high = this.aborted.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.aborted[mid]!.lastOffset < fromOffset) low = mid + 1;
      else high = mid;
    }
    const out: AbortedTransaction[] = [];
    for (let i = low; i < this.aborted.length; i++) {
      const t = this.aborted[i]!;
      if (t.firstOffset < toOffset) out.push(t);
    }
    return out;
  }

  /**
   * Everything below `offset` was observed (a scan that skipped batches with nothing transactional
   * in them reached it): the next batch starts at or after it.
   */
  advanceTo(offset: number): void {
    this.nextOffset = Math.max(this.nextOffset, offset);
  }

  /**
   * Forgets the aborted transactions whose abort marker is at one of `markerOffsets`: compaction
   * removes those markers once nothing of their transactions is left in the log.
   */
  forgetAborted(markerOffsets: ReadonlySet<number>): void {
    for (const offset of markerOffsets) assert(offset < this.nextOffset, 'a marker past what was observed');
    this.aborted = this.aborted.filter((t) => !markerOffsets.has(t.lastOffset));
  }

  /** Forgets aborted transactions wholly below the log start (no read can reach them). */
  forgetBelow(logStartOffset: number): void {
    let drop = 0;
    while (drop < this.aborted.length && this.aborted[drop]!.lastOffset < logStartOffset) drop++;
    if (drop > 0) this.aborted = this.aborted.slice(drop);
  }
}

/**
 * What the batch at the start of `batch` contributes. A control batch's single record says commit or
 * abort; a control record of another type (Kafka reserves them) contributes nothing. Throws
 * SB_ERR_INVALID_BATCH when a control record is malformed.
 */
export function observedBatchOf(batch: Buffer): ObservedBatch {
  const attributes = readAttributes(batch, 0);
  const baseOffset = readBaseOffset(batch, 0);
  const lastOffset = baseOffset + readLastOffsetDelta(batch, 0);
  const producerId = readProducerId(batch, 0);
  const transactional = isTransactionalBatch(attributes);
  if (!isControlBatch(attributes)) return { producerId, baseOffset, lastOffset, transactional, commit: null };
  const records = readRecords(batch);
  const marker = records.length === 1 ? readControlMarker(records[0]!) : null;
  if (marker === null || (marker.type !== ControlType.commit && marker.type !== ControlType.abort)) {
    return { producerId, baseOffset, lastOffset, transactional: false, commit: null };
  }
  return { producerId, baseOffset, lastOffset, transactional, commit: marker.type === ControlType.commit };
}
