/**
 * Walking the record batches of a segment file from its start, checking each one with the record
 * batch checker every other layer uses (length, magic, offsets, codec, CRC-32C), and handing the
 * bytes of the valid ones on in chunks. Create copies a live segment with it (the valid prefix is
 * what the broker had written when the file was read); verify and restore re-check copies with it
 * (there every byte must belong to a valid batch).
 *
 * Memory: one chunk of CHUNK_BYTES at a time, more only for a batch larger than that.
 */
import type { ReadFile } from '../io/disk.ts';
import { assert } from '../util/assert.ts';
import {
  BATCH_LOG_OVERHEAD,
  batchSizeAt,
  checkBatch,
  readBaseOffset,
  readLastOffset,
  type BatchRules,
  type CrcFunction,
} from '../protocol/kafka/record-batch/header.ts';

const CHUNK_BYTES = 4 * 1024 * 1024;

export interface SegmentScan {
  /** Bytes of whole valid batches from the start of the file. */
  readonly validBytes: number;
  /** Base offset of the first batch (the segment's base offset when it holds none). */
  readonly firstOffset: number;
  /** One past the last offset of the last valid batch (the segment's base offset when none). */
  readonly nextOffset: number;
  /** CRC-32C of the valid bytes. */
  readonly crc32c: number;
  /** Why the walk stopped before the end of the file (zeros of reserved space, a cut or bad batch), or null. */
  readonly stoppedBy: { readonly position: number; readonly reason: string } | null;
}

/**
 * Scans `file`, whose name says `baseOffset`, from its start to the first byte that is not a valid batch.
 * Calls `onBytes` with consecutive pieces of the valid prefix, in order, awaiting each.
 */
export async function scanSegmentFile(
  file: ReadFile,
  baseOffset: number,
  crc: CrcFunction,
  onBytes: (bytes: Uint8Array) => Promise<void>,
): Promise<SegmentScan> {
  const rules: BatchRules = { exact: false, maxBytes: Number.MAX_SAFE_INTEGER, crc, fromClient: false };
  let chunk: Uint8Array = await file.read(0, CHUNK_BYTES);
  let chunkStart = 0;
  let eof = chunk.length < CHUNK_BYTES;
  let position = 0;
  // Valid bytes of the current chunk not handed on yet: [flushedTo, position).
  let flushedTo = 0;
  let fileCrc = 0;
  let firstOffset = -1;
  let nextOffset = baseOffset;
  let stoppedBy: SegmentScan['stoppedBy'] = null;
  const flush = async (): Promise<void> => {
    if (position === flushedTo) return;
    const bytes = chunk.subarray(flushedTo - chunkStart, position - chunkStart);
    fileCrc = crc(bytes, fileCrc, 0, bytes.length);
    flushedTo = position;
    await onBytes(bytes);
  };
  for (;;) {
    let at = position - chunkStart;
    const size = batchSizeAt(chunk, at);
    const needed = size < BATCH_LOG_OVERHEAD ? BATCH_LOG_OVERHEAD : size;
    if (chunk.length - at < needed && !eof) {
      // Hand on what was checked, then read on from this batch (a batch larger than a chunk gets a bigger read).
      await flush();
      const wanted = Math.max(CHUNK_BYTES, needed);
      chunk = await file.read(position, wanted);
      eof = chunk.length < wanted;
      chunkStart = position;
      at = 0;
    }
    if (at === chunk.length) break;
    const problem = checkBatch(chunk, at, chunk.length, rules);
    if (problem !== null) {
      stoppedBy = { position, reason: problem.message };
      break;
    }
    const batchBase = readBaseOffset(chunk, at);
    if (batchBase < nextOffset) {
      stoppedBy = { position, reason: `batch at offset ${batchBase} does not follow offset ${nextOffset - 1}` };
      break;
    }
    if (firstOffset < 0) firstOffset = batchBase;
    nextOffset = readLastOffset(chunk, at) + 1;
    position += batchSizeAt(chunk, at);
  }
  await flush();
  assert(position >= 0, 'scan position went negative');
  return { validBytes: position, firstOffset: firstOffset < 0 ? baseOffset : firstOffset, nextOffset, crc32c: fileCrc, stoppedBy };
}
