/**
 * Which transaction markers (commit and abort control batches) compaction stamps with a delete
 * horizon and which it removes. Kafka's rule (its cleaner's transaction bookkeeping, with KIP-534's
 * delete horizon):
 *   - A marker stays while any batch of its transaction is in the log: read_committed readers, the
 *     aborted list and the rebuild of a partition's transactions after a restart (a transactional
 *     batch opens a transaction that only its marker closes) all need it. A producer's transaction is
 *     its transactional data batches since its previous marker; compaction removes aborted ones at
 *     once and committed ones once every record in them was superseded.
 *   - A marker found with no batch of its transaction before it gets a delete horizon, now +
 *     delete.retention.ms, written into its header (that batch is rewritten once): a consumer reading
 *     behind still meets it until then, as it would a tombstone.
 *   - Once its horizon has passed, the marker goes, unless it is its producer's last batch in the log
 *     and the producer is still active: it holds the producer's latest epoch, which a restart reads
 *     back to go on fencing the producer (Kafka keeps such a batch for the same reason).
 *   - Control records of other types, and compressed or empty control batches, stay.
 * The planner sees the batches in offset order in compaction's first pass, before anything is
 * removed, so a marker is found alone only in a pass after the one that removed the last batch of its
 * transaction, and only batches below the compaction bound: every batch of a transaction lies before
 * its marker, so a marker below the bound sees all of them. Pure: no I/O.
 */
import { assert } from '../util/assert.ts';
import {
  Compression,
  ControlType,
  compressionOf,
  forEachRecord,
  isControlBatch,
  isTransactionalBatch,
  readAttributes,
  readBaseOffset,
  readControlMarker,
  readDeleteHorizonMs,
  readProducerId,
  readRecordsCount,
} from '../protocol/kafka/record-batch/index.ts';

export type MarkerAction = 'stamp' | 'remove';

export interface PlannedMarker {
  readonly producerId: bigint;
  readonly offset: number;
  readonly commit: boolean;
  readonly action: MarkerAction;
  /** For 'stamp': the delete horizon to write. */
  readonly horizonMs: number;
}

interface Candidate {
  readonly producerId: bigint;
  readonly offset: number;
  readonly commit: boolean;
  readonly horizonMs: number | null;
}

export class MarkerPlanner {
  /** Producers with a transactional data batch since their previous marker. */
  private readonly withBatches = new Set<bigint>();
  /** Markers seen with no batch of their transaction, in a segment this pass may rewrite. */
  private readonly alone: Candidate[] = [];
  /** Base offset of each producer's last batch seen. */
  private readonly lastBatchAt = new Map<bigint, number>();
  private lastOffsetSeen = -1;

  /** Observes the batch at the start of `batch`, in offset order; `rewritable`: its segment may be rewritten. */
  observe(batch: Buffer, rewritable: boolean): void {
    const offset = readBaseOffset(batch, 0);
    assert(offset > this.lastOffsetSeen, 'batches observed out of order');
    this.lastOffsetSeen = offset;
    const producerId = readProducerId(batch, 0);
    const attributes = readAttributes(batch, 0);
    if (producerId < 0n) return;
    this.lastBatchAt.set(producerId, offset);
    if (!isTransactionalBatch(attributes)) return;
    if (!isControlBatch(attributes)) {
      this.withBatches.add(producerId);
      return;
    }
    const commit = markerDecision(batch);
    // A control record that decides nothing closes no transaction (as the partition reads it).
    if (commit === null) return;
    const hadBatches = this.withBatches.delete(producerId);
    if (!hadBatches && rewritable) this.alone.push({ producerId, offset, commit, horizonMs: readDeleteHorizonMs(batch, 0) });
  }

  /**
   * What to do with each marker seen alone, by offset, at `nowMs`: stamp the ones without a horizon,
   * remove the ones whose horizon passed (not the last batch of a still active producer).
   */
  plan(nowMs: number, deleteRetentionMs: number, isProducerActive: (producerId: bigint) => boolean): Map<number, PlannedMarker> {
    assert(deleteRetentionMs >= 0, 'negative delete retention');
    // A delete.retention.ms near Long.MAX_VALUE keeps markers for ever, as it keeps tombstones.
    const horizonMs = Math.min(nowMs + deleteRetentionMs, Number.MAX_SAFE_INTEGER);
    const out = new Map<number, PlannedMarker>();
    for (const c of this.alone) {
      const base = { producerId: c.producerId, offset: c.offset, commit: c.commit, horizonMs };
      if (c.horizonMs === null) {
        out.set(c.offset, { ...base, action: 'stamp' });
        continue;
      }
      const holdsEpoch = this.lastBatchAt.get(c.producerId) === c.offset && isProducerActive(c.producerId);
      if (c.horizonMs <= nowMs && !holdsEpoch) out.set(c.offset, { ...base, action: 'remove' });
    }
    return out;
  }
}

/** true: a commit marker, false: an abort marker, null: a control batch that decides nothing. */
function markerDecision(batch: Buffer): boolean | null {
  if (compressionOf(readAttributes(batch, 0)) !== Compression.none || readRecordsCount(batch, 0) !== 1) return null;
  let type = -1;
  try {
    forEachRecord(batch, 0, (record) => {
      type = readControlMarker(record).type;
    });
  } catch {
    // A malformed control record: the batch stays as it is.
    return null;
  }
  if (type === ControlType.commit) return true;
  return type === ControlType.abort ? false : null;
}
