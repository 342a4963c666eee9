/**
 * Reading batches out of one segment's .log: the fetch path (find the batch holding an offset, return
 * whole batches up to a byte budget as one contiguous view) and the recovery scan (walk every batch,
 * check length, magic, CRC and offset order).
 *
 * Works over a ReadFile: with a mapping (native backend, sealed segments) reads are views and cost no
 * copy; with pread they are chunked copies, sized so that one read usually suffices.
 */
import type { ReadFile } from '../io/disk.ts';
import { assert } from '../util/assert.ts';
import { StreamBusError } from '../util/errors.ts';
import {
  BATCH_MIN_BYTES,
  LOG_OVERHEAD_BYTES,
  MAX_TIMESTAMP_AT,
  baseOffset,
  batchProblem,
  batchSize,
  lastOffset,
  maxTimestamp,
  type CrcFunction,
} from './batch-header.ts';

/** Stands in for the CRC when a scan trusts the data (a clean restart): returns the stored CRC. */
const STORED_CRC: CrcFunction = (b, _seed, start) => ((b[start - 4]! << 24) | (b[start - 3]! << 16) | (b[start - 2]! << 8) | b[start - 1]!) >>> 0;

/** Header bytes needed to know a batch's size, offsets and max timestamp. */
const HEADER_PEEK_BYTES = MAX_TIMESTAMP_AT + 8;
const PREAD_SLACK_BYTES = 64 * 1024;
const SCAN_CHUNK_BYTES = 8 * 1024 * 1024;

export interface SegmentSlice {
  /** Whole batches, contiguous in the file: one view (mapped) or one copy (pread). */
  readonly bytes: Buffer;
  /** Base offset of the first batch in `bytes`. */
  readonly firstOffset: number;
  /** One past the last offset of the last batch in `bytes`. */
  readonly nextOffset: number;
}

function corrupt(path: string, position: number, reason: string): StreamBusError {
  return new StreamBusError('SB_ERR_CORRUPT', `${path}: ${reason} at position ${position}`);
}

/**
 * Whole batches from the first one whose lastOffset >= `offset`, starting the search at
 * `startPosition` (a batch boundary, from the offset index), within [startPosition, endPosition).
 * Includes batches while the total stays within `maxBytes` (always at least one) and their base
 * offset is below `maxOffset`. Undefined when no such batch lies before endPosition.
 */
export async function readSlice(
  file: ReadFile,
  startPosition: number,
  endPosition: number,
  offset: number,
  maxBytes: number,
  maxOffset: number,
): Promise<SegmentSlice | undefined> {
  assert(startPosition >= 0 && startPosition <= endPosition, 'read window out of order');
  assert(maxBytes >= 0, 'maxBytes must be non-negative');
  const want = (from: number, atLeast: number): number =>
    file.mapped ? endPosition - from : Math.min(endPosition - from, Math.max(atLeast, maxBytes + PREAD_SLACK_BYTES));
  let chunkStart = startPosition;
  let chunk = await file.read(chunkStart, want(chunkStart, HEADER_PEEK_BYTES));
  let position = startPosition;
  // Find the first batch that holds `offset` or a later one.
  let first = -1;
  let firstSize = 0;
  while (position < endPosition) {
    if (position + HEADER_PEEK_BYTES > chunkStart + chunk.length) {
      chunkStart = position;
      chunk = await file.read(chunkStart, want(chunkStart, HEADER_PEEK_BYTES));
      if (chunk.length < HEADER_PEEK_BYTES) throw corrupt(file.path, position, 'batch header cut short');
    }
    const at = position - chunkStart;
    const size = batchSize(chunk, at);
    if (size < BATCH_MIN_BYTES || position + size > endPosition) throw corrupt(file.path, position, `bad batch length ${size}`);
    if (baseOffset(chunk, at) >= maxOffset) return undefined;
    if (lastOffset(chunk, at) >= offset) {
      first = position;
      firstSize = size;
      break;
    }
    position += size;
  }
  if (first < 0) return undefined;
  if (first + firstSize > chunkStart + chunk.length) {
    chunkStart = first;
    chunk = await file.read(chunkStart, want(chunkStart, firstSize));
    if (chunk.length < firstSize) throw corrupt(file.path, first, 'batch cut short');
  }
  const firstOffset = baseOffset(chunk, first - chunkStart);
  let nextOffset = lastOffset(chunk, first - chunkStart) + 1;
  let end = first + firstSize;
  const chunkEnd = chunkStart + chunk.length;
  while (end + HEADER_PEEK_BYTES <= chunkEnd && end < endPosition) {
    const at = end - chunkStart;
    const size = batchSize(chunk, at);
    if (size < BATCH_MIN_BYTES) throw corrupt(file.path, end, `bad batch length ${size}`);
    if (end + size > chunkEnd || end + size - first > maxBytes || baseOffset(chunk, at) >= maxOffset) break;
    nextOffset = lastOffset(chunk, at) + 1;
    end += size;
  }
  return { bytes: chunk.subarray(first - chunkStart, end - chunkStart), firstOffset, nextOffset };
}

/**
 * Position and base offset of the first batch whose lastOffset >= `offset`, with the offsets of the
 * batch before it among those walked (-1 when it is the first walked), or undefined.
 */
export async function findBatch(
  file: ReadFile,
  startPosition: number,
  endPosition: number,
  offset: number,
): Promise<{ position: number; baseOffset: number; previousLastOffset: number; previousBaseOffset: number } | undefined> {
  let previousLastOffset = -1;
  let previousBaseOffset = -1;
  const found = await walkHeaders(file, startPosition, endPosition, (b, at, position) => {
    if (lastOffset(b, at) >= offset) return { position, baseOffset: baseOffset(b, at), previousLastOffset, previousBaseOffset };
    previousLastOffset = lastOffset(b, at);
    previousBaseOffset = baseOffset(b, at);
    return undefined;
  });
  return found;
}

/** Position of the first batch whose maxTimestamp >= `timestamp`, and its base offset, or undefined. */
export async function findTimestamp(
  file: ReadFile,
  startPosition: number,
  endPosition: number,
  timestamp: number,
): Promise<number | undefined> {
  return walkHeaders(file, startPosition, endPosition, (b, at) => (maxTimestamp(b, at) >= timestamp ? baseOffset(b, at) : undefined));
}

/** Calls `visit` for each batch header from `startPosition` until it returns a value. */
async function walkHeaders<T>(
  file: ReadFile,
  startPosition: number,
  endPosition: number,
  visit: (b: Buffer, at: number, position: number) => T | undefined,
): Promise<T | undefined> {
  let position = startPosition;
  let chunkStart = position;
  let chunk: Buffer = Buffer.alloc(0);
  while (position + LOG_OVERHEAD_BYTES <= endPosition) {
    if (position + HEADER_PEEK_BYTES > chunkStart + chunk.length) {
      chunkStart = position;
      chunk = await file.read(position, file.mapped ? endPosition - position : Math.min(endPosition - position, PREAD_SLACK_BYTES));
      if (chunk.length < HEADER_PEEK_BYTES) throw corrupt(file.path, position, 'batch header cut short');
    }
    const at = position - chunkStart;
    const size = batchSize(chunk, at);
    if (size < BATCH_MIN_BYTES) throw corrupt(file.path, position, `bad batch length ${size}`);
    const result = visit(chunk, at, position);
    if (result !== undefined) return result;
    position += size;
  }
  return undefined;
}

export interface ScannedBatch {
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  position: number;
  size: number;
}

export interface ScanResult {
  /** Position after the last valid batch. */
  validEnd: number;
  /** The first problem found, if any: where and why scanning stopped. */
  problem?: { position: number; reason: string };
}

/**
 * Walks batches from `startPosition` to `endPosition`, checking each (length, magic, CRC when `crc`
 * is given, and base offsets strictly above the previous batch's last offset), and calls `onBatch`
 * for every valid one. Stops at the first invalid batch and reports it.
 */
export async function scanBatches(
  file: ReadFile,
  startPosition: number,
  endPosition: number,
  previousLastOffset: number,
  crc: CrcFunction | undefined,
  maxBatchBytes: number,
  onBatch: (batch: ScannedBatch) => void,
): Promise<ScanResult> {
  let position = startPosition;
  let chunkStart = position;
  let chunk: Buffer = Buffer.alloc(0);
  let lastSeen = previousLastOffset;
  const batch: ScannedBatch = { baseOffset: 0, lastOffset: 0, maxTimestamp: 0, position: 0, size: 0 };
  while (position < endPosition) {
    let at = position - chunkStart;
    let size = at + LOG_OVERHEAD_BYTES <= chunk.length ? batchSize(chunk, at) : -1;
    if (size < 0 || (size >= BATCH_MIN_BYTES && at + size > chunk.length && position + size <= endPosition)) {
      // Refill: a chunk from here that holds at least this whole batch (when its length is sane).
      chunkStart = position;
      const length = file.mapped ? endPosition - position : Math.min(endPosition - position, Math.max(SCAN_CHUNK_BYTES, Math.min(size, maxBatchBytes)));
      chunk = await file.read(position, length);
      at = 0;
      size = chunk.length >= LOG_OVERHEAD_BYTES ? batchSize(chunk, 0) : -1;
    }
    const limit = Math.min(chunk.length, endPosition - chunkStart);
    const reason = batchProblem(chunk, at, limit, crc ?? STORED_CRC, maxBatchBytes);
    if (reason !== undefined) return { validEnd: position, problem: { position, reason } };
    const base = baseOffset(chunk, at);
    if (base <= lastSeen) {
      return { validEnd: position, problem: { position, reason: `base offset ${base} not above the previous last offset ${lastSeen}` } };
    }
    batch.baseOffset = base;
    batch.lastOffset = lastOffset(chunk, at);
    batch.maxTimestamp = maxTimestamp(chunk, at);
    batch.position = position;
    batch.size = size;
    onBatch(batch);
    lastSeen = batch.lastOffset;
    position += size;
  }
  return { validEnd: position };
}
