/**
 * Log compaction (cleanup.policy=compact): for each key only the latest record is kept, in closed
 * segments; the active segment is never rewritten. Tombstones (null values) are kept until their
 * timestamp is deleteRetentionMs old, so that consumers catching up still see the deletion.
 *
 * Method: build a map key -> latest offset over the whole log (keys as latin1 strings), then rewrite
 * each closed segment that holds a superseded record: batches with nothing to drop are copied as is;
 * batches with some records dropped are rebuilt with the same base offset, lastOffsetDelta and
 * timestamps (record offsets stay as they were), a new record count and CRC; batches with nothing
 * left are dropped. Compressed and control batches are copied whole (their records are not opened).
 *
 * A log replicated by Raft (docs/replication.md "Compaction") is compacted with two limits: only below
 * `upTo` (the high watermark: a record above it may still be truncated, so it must not supersede an
 * older one, and its segment may be cut), and keeping every batch (`keepEmptyBatches`): each batch is a
 * Raft entry at a recorded base offset, so a batch whose records all go stays as its header alone
 * (Kafka's cleaner keeps such empty batches too, for producer state).
 *
 * Transactions (`isAborted`): records of aborted transactions never count as a key's latest record
 * (a read_committed consumer never saw them, so the committed record before them must stay) and are
 * removed, as Kafka's cleaner removes them; the batch then goes, or stays empty under keepEmptyBatches
 * (a compressed one stays whole then: an empty compressed batch is not something clients expect).
 * Compaction runs only below the last stable offset, so every transaction there is decided. Markers
 * (control batches) of transactions with no batch left get a delete horizon and go once it passed
 * (`markers`, compaction-markers.ts has the rule); without `markers`, and always under
 * keepEmptyBatches (a replicated log keeps every batch of a transaction, so its marker too), they stay.
 *
 * Idempotent producers (`keepsProducer`): the last data batch of a producer whose state the owner still
 * keeps stays, emptied if all its records go, as Kafka's cleaner keeps it: producer state is rebuilt
 * from the log on restart, and without that batch a retry of the producer's latest write would not be
 * recognised as a duplicate. Only sealed segments are read, so a producer whose latest batch is in the
 * active segment may keep one more empty batch than it needs.
 *
 * Only segments the first pass read are rewritten: one sealed meanwhile (the active segment rolled)
 * has records the key map never saw, which would all look superseded.
 *
 * Crash safety: the rewritten segment is written to `<base>.log.cleaned`, fsynced, and renamed over
 * `<base>.log` (atomic); recovery deletes a leftover .cleaned file. Readers holding views of the old
 * file keep them (the old inode lives on).
 */
import type { Disk } from '../io/disk.ts';
import { assert } from '../util/assert.ts';
import { writeInt32 } from '../util/big-endian.ts';
import {
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  Compression,
  Offsets,
  batchSizeAt,
  compressionOf,
  isControlBatch,
  isTransactionalBatch,
  readAttributes,
  readBaseOffset,
  readBaseTimestamp,
  readProducerId,
  writeBatchCrc,
} from '../protocol/kafka/record-batch/header.ts';
import { forEachRecord } from '../protocol/kafka/record-batch/records.ts';
import { withDeleteHorizon } from '../protocol/kafka/record-batch/delete-horizon.ts';
import { MarkerPlanner, type PlannedMarker } from './compaction-markers.ts';
import { CLEANED_SUFFIX } from './file-names.ts';
import type { Log } from './log.ts';
import { Segment } from './segment.ts';
import { scanBatches } from './segment-reader.ts';

export interface CompactionResult {
  readonly segmentsRewritten: number;
  readonly recordsRemoved: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** Transaction markers removed (their transactions had nothing left in the log). */
  readonly markersRemoved: number;
}

function isOpaque(batch: Buffer, at: number): boolean {
  const attributes = readAttributes(batch, at);
  return compressionOf(attributes) !== Compression.none || isControlBatch(attributes);
}

/** Calls `visit` with each whole batch (a view) of the segment's file. */
async function forEachBatch(disk: Disk, segment: Segment, visit: (batch: Buffer) => void): Promise<void> {
  if (segment.sizeBytes === 0) return;
  await segment.withReader(disk, async (file) => {
    const bytes = await file.read(0, segment.sizeBytes);
    assert(bytes.length === segment.sizeBytes, 'segment shorter than recorded');
    for (let at = 0; at < bytes.length; ) {
      const size = batchSizeAt(bytes, at);
      assert(size >= BATCH_HEADER_BYTES && at + size <= bytes.length, 'bad batch in a sealed segment');
      visit(bytes.subarray(at, at + size));
      at += size;
    }
  });
}

export interface CompactionLimits {
  /** Records at or above this offset are neither read nor rewritten (default: no limit). */
  readonly upTo?: number;
  /** A batch whose records are all removed stays as an empty batch instead of being dropped. */
  readonly keepEmptyBatches?: boolean;
  /** Whether the transactional batch of `producerId` at `baseOffset` belongs to an aborted transaction. */
  readonly isAborted?: (producerId: bigint, baseOffset: number) => boolean;
  /** Removal of transaction markers; without it they stay. Not with keepEmptyBatches. */
  readonly markers?: MarkerRemoval;
  /** Whether the state of `producerId` is still kept: its last data batch then stays (emptied if need be). */
  readonly keepsProducer?: (producerId: bigint) => boolean;
}

/** What compaction needs from the log's owner to remove transaction markers (compaction-markers.ts). */
export interface MarkerRemoval {
  /** Whether the producer's state is still kept: its last batch in the log then stays (its epoch). */
  isProducerActive(producerId: bigint): boolean;
  /**
   * Called once per compaction, before the first of `markers` leaves the files: the owner forgets
   * their transactions durably. Resolves true when they may go, false to keep them this time.
   */
  beforeRemoval(markers: readonly PlannedMarker[]): Promise<boolean>;
}

/** Compacts `log` if its cleanup policy includes compaction; `nowMs` decides which tombstones and markers expire. */
export async function compactLog(log: Log, nowMs: number, limits: CompactionLimits = {}): Promise<CompactionResult> {
  const none: CompactionResult = { segmentsRewritten: 0, recordsRemoved: 0, bytesBefore: 0, bytesAfter: 0, markersRemoved: 0 };
  if (!log.options.cleanupPolicy.includes('compact')) return none;
  assert(limits.markers === undefined || limits.keepEmptyBatches !== true, 'a log that keeps every batch keeps its markers');
  const upTo = limits.upTo ?? Number.MAX_SAFE_INTEGER;
  const aborted = (batch: Buffer) => limits.isAborted !== undefined && isTransactionalBatch(readAttributes(batch, 0)) && limits.isAborted(readProducerId(batch, 0), readBaseOffset(batch, 0));
  return log.maintain(async () => {
    const disk = log.disk;
    const latest = new Map<string, number>();
    /** Per producer id, the base offset of its last data batch read. */
    const lastDataBatch = new Map<bigint, number>();
    const planner = limits.markers === undefined ? null : new MarkerPlanner();
    const scanned = new Set<Segment>();
    for (const segment of log.allSegments()) {
      // The active segment's unwritten tail is not read; its records only make the map newer.
      if (segment.state !== 'sealed' || segment.baseOffset >= upTo) continue;
      scanned.add(segment);
      const rewritable = segment.nextOffset <= upTo;
      await forEachBatch(disk, segment, (batch) => {
        const baseOffset = readBaseOffset(batch, 0);
        if (baseOffset < upTo) planner?.observe(batch, rewritable);
        if (limits.keepsProducer !== undefined) {
          const producerId = readProducerId(batch, 0);
          if (producerId >= 0n && !isControlBatch(readAttributes(batch, 0))) lastDataBatch.set(producerId, baseOffset);
        }
        if (isOpaque(batch, 0) || aborted(batch)) return;
        forEachRecord(batch, 0, (r) => {
          const offset = baseOffset + r.offsetDelta;
          if (r.key !== null && offset < upTo) latest.set(r.key.toString('latin1'), offset);
        });
      });
    }
    let markers = new Map<number, PlannedMarker>();
    if (planner !== null && limits.markers !== undefined) {
      markers = planner.plan(nowMs, log.options.deleteRetentionMs, (id) => limits.markers!.isProducerActive(id));
      const removals = [...markers.values()].filter((m) => m.action === 'remove');
      // Markers the owner could not forget durably stay (a later compaction tries again).
      if (removals.length > 0 && !(await limits.markers.beforeRemoval(removals))) for (const m of removals) markers.delete(m.offset);
    }
    const horizon = nowMs - log.options.deleteRetentionMs;
    let segmentsRewritten = 0;
    let recordsRemoved = 0;
    let markersRemoved = 0;
    let bytesBefore = 0;
    let bytesAfter = 0;
    for (const segment of log.sealedSegmentsForCleaning()) {
      if (segment.nextOffset > upTo || !scanned.has(segment)) continue;
      const kept: Buffer[] = [];
      let removedHere = 0;
      let markersHere = 0;
      let stampedHere = 0;
      await forEachBatch(disk, segment, (batch) => {
        const marker = markers.get(readBaseOffset(batch, 0));
        if (marker !== undefined && isControlBatch(readAttributes(batch, 0))) {
          if (marker.action === 'remove') {
            markersHere++;
          } else {
            kept.push(withDeleteHorizon(batch, marker.horizonMs, (data, seed, start, end) => disk.crc32c(data, seed, start, end)));
            stampedHere++;
          }
          return;
        }
        const abortedBatch = aborted(batch);
        const producerId = readProducerId(batch, 0);
        const holdsProducer = producerId >= 0n && lastDataBatch.get(producerId) === readBaseOffset(batch, 0) && limits.keepsProducer?.(producerId) === true;
        if (isOpaque(batch, 0)) {
          // An aborted compressed batch goes whole (its records are not opened to be counted), or stays.
          if (!abortedBatch || limits.keepEmptyBatches === true || isControlBatch(readAttributes(batch, 0)) || holdsProducer) kept.push(batch);
          else removedHere += batch.readInt32BE(Offsets.recordsCount);
          return;
        }
        const records: Buffer[] = [];
        let total = 0;
        const baseOffset = readBaseOffset(batch, 0);
        const baseTimestamp = readBaseTimestamp(batch, 0);
        forEachRecord(batch, 0, (r, start, end) => {
          const superseded = abortedBatch || (r.key !== null && latest.get(r.key.toString('latin1')) !== baseOffset + r.offsetDelta);
          const expiredTombstone = r.value === null && baseTimestamp + r.timestampDelta < horizon;
          if (superseded || expiredTombstone) return void total++;
          total++;
          records.push(batch.subarray(start, end));
        });
        removedHere += total - records.length;
        if (records.length === total) kept.push(batch);
        else if (records.length > 0 || limits.keepEmptyBatches === true || holdsProducer) kept.push(rebuildBatch(batch, records, disk));
      });
      if (removedHere === 0 && markersHere === 0 && stampedHere === 0) continue;
      bytesBefore += segment.sizeBytes;
      const replacement = await rewriteSegment(disk, log, segment, kept);
      bytesAfter += replacement.sizeBytes;
      if (log.replaceSegment(segment, replacement)) {
        segmentsRewritten++;
        recordsRemoved += removedHere;
        markersRemoved += markersHere;
      }
    }
    return { segmentsRewritten, recordsRemoved, bytesBefore, bytesAfter, markersRemoved };
  });
}

/** A batch with the same header and only `records`; record count, length and CRC recomputed. */
function rebuildBatch(batch: Buffer, records: Buffer[], disk: Disk): Buffer {
  let size = BATCH_HEADER_BYTES;
  for (const r of records) size += r.length;
  const out = Buffer.allocUnsafe(size);
  batch.copy(out, 0, 0, BATCH_HEADER_BYTES);
  let at = BATCH_HEADER_BYTES;
  for (const r of records) at += r.copy(out, at);
  writeInt32(out, Offsets.batchLength, size - BATCH_LOG_OVERHEAD);
  writeInt32(out, Offsets.recordsCount, records.length);
  writeBatchCrc(out, 0, (data, seed, start, end) => disk.crc32c(data, seed, start, end));
  return out;
}

/** Writes `batches` as `<base>.log.cleaned`, fsyncs, renames it over the segment, and indexes it. */
async function rewriteSegment(disk: Disk, log: Log, segment: Segment, batches: Buffer[]): Promise<Segment> {
  const cleaned = segment.logPath + CLEANED_SUFFIX;
  const file = await disk.openAppend(cleaned, { direct: false, preallocateBytes: 0, size: 0 });
  try {
    if (batches.length > 0) await file.append(batches);
    await file.sync(true);
  } finally {
    await file.close();
  }
  await disk.rename(cleaned, segment.logPath);
  await disk.syncDir(log.dir);
  const replacement = new Segment(log.dir, segment.baseOffset, log.options.indexIntervalBytes, 'sealed');
  const size = (await disk.fileSize(replacement.logPath)) ?? 0;
  const reader = await disk.openRead(replacement.logPath, { map: true });
  try {
    const scan = await scanBatches(reader, 0, size, segment.baseOffset - 1, undefined, log.options.maxBatchBytes, (b) =>
      replacement.recordBatch(b.baseOffset, b.lastOffset, b.maxTimestamp, b.position, b.size),
    );
    assert(scan.problem === undefined, 'rewritten segment failed its own scan');
  } finally {
    await reader.close();
  }
  // Keep the old greatest timestamp (dropped records may have held it): retention stays as it was.
  replacement.maxTimestamp = Math.max(replacement.maxTimestamp, segment.maxTimestamp);
  replacement.addFinalTimeEntry();
  await replacement.writeIndexes(disk, false).catch(() => undefined);
  return replacement;
}
