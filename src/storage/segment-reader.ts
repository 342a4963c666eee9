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
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  Offsets,
  batchSizeAt,
  checkBatch,
  readBaseOffset,
  readLastOffset,
  readMaxTimestamp,
  type BatchRules,
  type CrcFunction,
} from '../protocol/kafka/record-batch/header.ts';

/** Header bytes needed to know a batch's size, offsets and max timestamp. */
const HEADER_PEEK_BYTES = Offsets.maxTimestamp + 8;
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
    const size = batchSizeAt(chunk, at);
    if (size < BATCH_HEADER_BYTES || position + size > endPosition) throw corrupt(file.path, position, `bad batch length ${size}`);
    if (readBaseOffset(chunk, at) >= maxOffset) return undefined;
    if (readLastOffset(chunk, at) >= offset) {
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
  const firstOffset = readBaseOffset(chunk, first - chunkStart);
  let nextOffset = readLastOffset(chunk, first - chunkStart) + 1;
  let end = first + firstSize;
  const chunkEnd = chunkStart + chunk.length;
  while (end + HEADER_PEEK_BYTES <= chunkEnd && end < endPosition) {
    const at = end - chunkStart;
    const size = batchSizeAt(chunk, at);
    if (size < BATCH_HEADER_BYTES) throw corrupt(file.path, end, `bad batch length ${size}`);
    if (end + size > chunkEnd || end + size - first > maxBytes || readBaseOffset(chunk, at) >= maxOffset) break;
    nextOffset = readLastOffset(chunk, at) + 1;
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
    if (readLastOffset(b, at) >= offset) return { position, baseOffset: readBaseOffset(b, at), previousLastOffset, previousBaseOffset };
    previousLastOffset = readLastOffset(b, at);
    previousBaseOffset = readBaseOffset(b, at);
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
  return walkHeaders(file, startPosition, endPosition, (b, at) => (readMaxTimestamp(b, at) >= timestamp ? readBaseOffset(b, at) : undefined));
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
  while (position + BATCH_LOG_OVERHEAD <= endPosition) {
    if (position + HEADER_PEEK_BYTES > chunkStart + chunk.length) {
      chunkStart = position;
      chunk = await file.read(position, file.mapped ? endPosition - position : Math.min(endPosition - position, PREAD_SLACK_BYTES));
      if (chunk.length < HEADER_PEEK_BYTES) throw corrupt(file.path, position, 'batch header cut short');
    }
    const at = position - chunkStart;
    const size = batchSizeAt(chunk, at);
    if (size < BATCH_HEADER_BYTES) throw corrupt(file.path, position, `bad batch length ${size}`);
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
 * Walks batches from `startPosition` to `endPosition`, checking each (checkBatch: length, magic, offset
 * range and codec, the CRC when `crc` is given; then base offsets strictly above the previous batch's
 * last offset), and calls `onBatch`
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
  const rules: BatchRules = { exact: false, maxBytes: maxBatchBytes, crc: crc ?? null, fromClient: false };
  while (position < endPosition) {
    let at = position - chunkStart;
    let size = batchSizeAt(chunk, at);
    if (size < 0 || (size >= BATCH_HEADER_BYTES && at + size > chunk.length && position + size <= endPosition)) {
      // Refill: a chunk from here that holds at least this whole batch (when its length is sane).
      chunkStart = position;
      const length = file.mapped ? endPosition - position : Math.min(endPosition - position, Math.max(SCAN_CHUNK_BYTES, Math.min(size, maxBatchBytes)));
      chunk = await file.read(position, length);
      at = 0;
      size = batchSizeAt(chunk, 0);
    }
    const limit = Math.min(chunk.length, endPosition - chunkStart);
    const bad = checkBatch(chunk, at, limit, rules);
    if (bad !== null) return { validEnd: position, problem: { position, reason: bad.message } };
    const base = readBaseOffset(chunk, at);
    if (base <= lastSeen) {
      return { validEnd: position, problem: { position, reason: `base offset ${base} not above the previous last offset ${lastSeen}` } };
    }
    batch.baseOffset = base;
    batch.lastOffset = readLastOffset(chunk, at);
    batch.maxTimestamp = readMaxTimestamp(chunk, at);
    batch.position = position;
    batch.size = size;
    onBatch(batch);
    lastSeen = batch.lastOffset;
    position += size;
  }
  return { validEnd: position };
}
