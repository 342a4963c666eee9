/**
 * Recovery: turns a partition folder into a list of segments with their indexes, repairing what an
 * unclean shutdown left behind.
 *
 * 1. Remove leftovers of interrupted multi-step changes (*.deleted, *.cleaned, *.swap, *.tmp) and
 *    index files without a .log.
 * 2. Clean shutdown (the `clean-shutdown` marker exists): trust the index files; walk the batch
 *    headers after each segment's last index entry to find its end. If anything disagrees (a missing
 *    or invalid index, an end offset other than the marker's), fall back to 3 for that log.
 * 3. Unclean shutdown: scan every batch of every segment, checking length, magic 2, CRC32C and
 *    increasing offsets, and rebuild the indexes. Segments below the recovery point were sealed
 *    durably (fsynced before the point was written), so a bad batch there is corruption: an
 *    SB_ERR_CORRUPT error naming the file and position, and the partition stays offline. From the
 *    first segment at or above the recovery point on, data may be a torn write: the log is cut at the
 *    first bad batch (the file truncated, later segments removed). Nothing cut there was ever
 *    reported durable, since a sync resolves only after every earlier segment was sealed. What is
 *    kept from the recovery point on is then fsynced, with the folder: a killed process may have
 *    left it in the page cache only, and a later recovery point vouches for it.
 * 4. Remove the marker (durably) before the log accepts appends.
 */
import { join } from 'node:path';
import type { Disk } from '../io/disk.ts';
import { assert } from '../util/assert.ts';
import { StreamBusError } from '../util/errors.ts';
import type { CrcFunction } from '../protocol/kafka/record-batch/header.ts';
import {
  CLEAN_SHUTDOWN_FILE,
  INDEX_SUFFIX,
  LOG_START_OFFSET_FILE,
  LOG_SUFFIX,
  RECOVERY_POINT_FILE,
  TIME_INDEX_SUFFIX,
  isLeftover,
  parseSegmentFileName,
  segmentFileName,
} from './file-names.ts';
import type { LogOptions } from './log-options.ts';
import { OffsetIndex } from './offset-index.ts';
import { Segment } from './segment.ts';
import { scanBatches, type ScanResult } from './segment-reader.ts';
import { TimeIndex } from './time-index.ts';

export interface RecoveryInfo {
  /** The clean-shutdown marker was present and agreed with the files: no scan was needed. */
  readonly cleanShutdown: boolean;
  /** Bytes cut from the end of the log (a torn tail). */
  readonly truncatedBytes: number;
  /** Where the torn tail was cut, when it was. */
  readonly truncatedAt?: { readonly path: string; readonly position: number; readonly reason: string };
  /** Segment files removed because they lay after a torn tail. */
  readonly removedSegments: number;
  /** Leftover files of interrupted changes removed. */
  readonly removedLeftovers: number;
  /** Segments whose indexes were rebuilt from the log. */
  readonly rebuiltIndexes: number;
}

export interface LoadedLog {
  readonly segments: Segment[];
  readonly logStartOffset: number;
  readonly recoveryPoint: number;
  readonly recovery: RecoveryInfo;
}

function corrupt(path: string, position: number, reason: string): StreamBusError {
  return new StreamBusError('SB_ERR_CORRUPT', `${path}: ${reason} at position ${position}`);
}

async function readNumberFile(disk: Disk, path: string): Promise<number | undefined> {
  const bytes = await disk.readFile(path);
  if (!bytes) return undefined;
  const value = Number(bytes.toString('utf8').trim());
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** Loads (and repairs) the log in `dir`, which must exist. */
export async function loadLog(dir: string, disk: Disk, options: LogOptions): Promise<LoadedLog> {
  let removedLeftovers = 0;
  const names = await disk.readdir(dir);
  const logBases: number[] = [];
  const indexFiles = new Set<string>();
  for (const name of names) {
    if (isLeftover(name)) {
      await disk.unlink(join(dir, name));
      removedLeftovers++;
      continue;
    }
    const parsed = parseSegmentFileName(name);
    if (!parsed) continue;
    if (parsed.suffix === LOG_SUFFIX) logBases.push(parsed.baseOffset);
    else indexFiles.add(name);
  }
  logBases.sort((a, b) => a - b);
  const bases = new Set(logBases);
  for (const name of indexFiles) {
    if (!bases.has(parseSegmentFileName(name)!.baseOffset)) {
      await disk.unlink(join(dir, name));
      removedLeftovers++;
    }
  }

  const markerPath = join(dir, CLEAN_SHUTDOWN_FILE);
  const marker = await disk.readFile(markerPath);
  const markerEnd = marker ? Number(JSON.parse(marker.toString('utf8') || '{}').endOffset) : undefined;
  const persistedStart = (await readNumberFile(disk, join(dir, LOG_START_OFFSET_FILE))) ?? 0;
  const recoveryPoint = (await readNumberFile(disk, join(dir, RECOVERY_POINT_FILE))) ?? 0;

  let result: LoadedLog | undefined;
  if (markerEnd !== undefined && Number.isSafeInteger(markerEnd)) {
    result = await loadClean(dir, disk, options, logBases, markerEnd, persistedStart, recoveryPoint, removedLeftovers);
  }
  result ??= await loadUnclean(dir, disk, options, logBases, persistedStart, recoveryPoint, removedLeftovers);
  if (marker) {
    await disk.unlink(markerPath);
    await disk.syncDir(dir);
  }
  return result;
}

/**
 * Scans the segment's file from `from` (a batch boundary matching the segment's bookkeeping) and
 * records every valid batch in it. The file is mapped for the scan when the backend maps; the
 * mapping is private to the scan and dropped with it.
 */
async function scanFile(disk: Disk, segment: Segment, from: number, size: number, crc: CrcFunction | undefined, maxBatchBytes: number): Promise<ScanResult> {
  if (size === 0) return { validEnd: 0 };
  const file = await disk.openRead(segment.logPath, { map: true });
  try {
    return await scanBatches(file, from, size, segment.nextOffset - 1, crc, maxBatchBytes, (b) =>
      segment.recordBatch(b.baseOffset, b.lastOffset, b.maxTimestamp, b.position, b.size),
    );
  } finally {
    await file.close();
  }
}

function startOffset(segments: Segment[], persistedStart: number): number {
  if (segments.length === 0) return persistedStart;
  const end = segments[segments.length - 1]!.nextOffset;
  return Math.min(Math.max(persistedStart, segments[0]!.baseOffset), end);
}

async function loadClean(
  dir: string,
  disk: Disk,
  options: LogOptions,
  bases: number[],
  markerEnd: number,
  persistedStart: number,
  recoveryPoint: number,
  removedLeftovers: number,
): Promise<LoadedLog | undefined> {
  const segments: Segment[] = [];
  let previousNext = -1;
  for (const base of bases) {
    const segment = new Segment(dir, base, options.indexIntervalBytes, 'sealed');
    const size = (await disk.fileSize(segment.logPath)) ?? 0;
    const indexBytes = await disk.readFile(join(dir, segmentFileName(base, INDEX_SUFFIX)));
    const timeBytes = await disk.readFile(join(dir, segmentFileName(base, TIME_INDEX_SUFFIX)));
    const offsetIndex = indexBytes && OffsetIndex.fromBytes(base, indexBytes, size);
    // Time index entries are validated against the end once it is known (below).
    const timeIndex = timeBytes && TimeIndex.fromBytes(base, timeBytes, Number.MAX_SAFE_INTEGER);
    if (!offsetIndex || !timeIndex) return undefined;
    if (base < previousNext) return undefined;
    const from = segment.adoptIndexes(offsetIndex, timeIndex);
    const scan = await scanFile(disk, segment, from, size, undefined, options.maxBatchBytes);
    if (scan.problem || scan.validEnd !== size) return undefined;
    if (timeIndex.lastOffset >= segment.nextOffset) return undefined;
    segments.push(segment);
    previousNext = segment.nextOffset;
  }
  const end = segments.length ? segments[segments.length - 1]!.nextOffset : persistedStart;
  if (end !== markerEnd) return undefined;
  return {
    segments,
    logStartOffset: startOffset(segments, persistedStart),
    recoveryPoint,
    recovery: { cleanShutdown: true, truncatedBytes: 0, removedSegments: 0, removedLeftovers, rebuiltIndexes: 0 },
  };
}

async function loadUnclean(
  dir: string,
  disk: Disk,
  options: LogOptions,
  bases: number[],
  persistedStart: number,
  recoveryPoint: number,
  removedLeftovers: number,
): Promise<LoadedLog> {
  const segments: Segment[] = [];
  let previousLast = -1;
  let truncatedBytes = 0;
  let truncatedAt: RecoveryInfo['truncatedAt'];
  let removedSegments = 0;
  for (let i = 0; i < bases.length; i++) {
    const base = bases[i]!;
    const segment = new Segment(dir, base, options.indexIntervalBytes, 'sealed');
    const size = (await disk.fileSize(segment.logPath)) ?? 0;
    if (base <= previousLast) throw corrupt(segment.logPath, 0, `segment base offset ${base} not above the previous last offset ${previousLast}`);
    const scan = await scanFile(disk, segment, 0, size, disk.crc32c.bind(disk), options.maxBatchBytes);
    if (scan.problem) {
      if (base < recoveryPoint) throw corrupt(segment.logPath, scan.problem.position, scan.problem.reason);
      // A torn tail: cut the file at the last valid batch and drop every later segment.
      truncatedBytes += size - scan.validEnd;
      truncatedAt = { path: segment.logPath, position: scan.problem.position, reason: scan.problem.reason };
      const file = await disk.openAppend(segment.logPath, { direct: false, preallocateBytes: 0, size: scan.validEnd });
      await file.truncate(scan.validEnd);
      await file.sync(true);
      await file.close();
      for (const later of bases.slice(i + 1)) {
        const doomed = new Segment(dir, later, options.indexIntervalBytes, 'sealed');
        truncatedBytes += (await disk.fileSize(doomed.logPath)) ?? 0;
        await disk.unlink(doomed.logPath);
        await disk.unlink(doomed.indexPath);
        await disk.unlink(doomed.timeIndexPath);
        removedSegments++;
      }
      await disk.syncDir(dir);
      segments.push(segment);
      break;
    }
    assert(scan.validEnd === size, 'scan ended early without a problem');
    segments.push(segment);
    if (segment.nextOffset > base) previousLast = segment.nextOffset - 1;
    else previousLast = Math.max(previousLast, base - 1);
  }
  // Segments past the recovery point may hold bytes a dead process wrote and never fsynced (a killed
  // process leaves them in the page cache, where a power loss can still tear them): make them
  // durable before the log counts on them, or a later recovery point would vouch for them.
  const unsynced = segments.filter((s) => s.nextOffset > recoveryPoint || s.baseOffset >= recoveryPoint);
  for (const s of unsynced) await disk.syncFile(s.logPath);
  if (unsynced.length > 0) await disk.syncDir(dir);
  // Rebuilt indexes of sealed segments are written back (a cache: not fsynced, errors ignored).
  for (let i = 0; i + 1 < segments.length; i++) {
    segments[i]!.addFinalTimeEntry();
    await segments[i]!.writeIndexes(disk, false).catch(() => undefined);
  }
  return {
    segments,
    logStartOffset: startOffset(segments, persistedStart),
    recoveryPoint: Math.min(recoveryPoint, segments.length ? segments[segments.length - 1]!.baseOffset : recoveryPoint),
    recovery: { cleanShutdown: false, truncatedBytes, truncatedAt, removedSegments, removedLeftovers, rebuiltIndexes: segments.length },
  };
}
