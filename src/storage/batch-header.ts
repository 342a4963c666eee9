/**
 * The fixed header of a Kafka record batch v2 (magic 2), as much as storage needs: validate a
 * batch, read its offsets and timestamps, rewrite base offset and partition leader epoch.
 * (src/protocol/kafka holds the full record batch codec; storage keeps this small header reader so
 * the append path reads only fixed fields.)
 *
 * Byte layout (big-endian):
 *   0  baseOffset            int64   rewritten by storage on append
 *   8  batchLength           int32   bytes after this field (the batch is batchLength + 12 bytes)
 *  12  partitionLeaderEpoch  int32   rewritten by storage on append
 *  16  magic                 int8    2
 *  17  crc                   uint32  CRC-32C of bytes [21, end)
 *  21  attributes            int16   bits 0-2 compression, 3 timestamp type, 4 transactional, 5 control
 *  23  lastOffsetDelta       int32
 *  27  baseTimestamp         int64
 *  35  maxTimestamp          int64
 *  43  producerId            int64
 *  51  producerEpoch         int16
 *  53  baseSequence          int32
 *  57  recordCount           int32
 *  61  records
 * Rewriting base offset and leader epoch leaves the CRC valid: it covers bytes from 21 on.
 */
import { StreamBusError } from '../util/errors.ts';

export const BASE_OFFSET_AT = 0;
export const LENGTH_AT = 8;
export const LEADER_EPOCH_AT = 12;
export const MAGIC_AT = 16;
export const CRC_AT = 17;
export const ATTRIBUTES_AT = 21;
export const LAST_OFFSET_DELTA_AT = 23;
export const BASE_TIMESTAMP_AT = 27;
export const MAX_TIMESTAMP_AT = 35;
export const RECORD_COUNT_AT = 57;
/** Bytes before the records. */
export const BATCH_HEADER_BYTES = 61;
/** baseOffset + batchLength: the bytes not counted by batchLength. */
export const LOG_OVERHEAD_BYTES = 12;
/** The smallest batch: a header with no records. */
export const BATCH_MIN_BYTES = BATCH_HEADER_BYTES;
export const COMPRESSION_MASK = 0x07;
export const CONTROL_FLAG = 0x20;

const TWO_32 = 0x1_0000_0000;

/** Reads a big-endian int64 that fits in a double exactly (offsets and timestamps do). */
export function readInt64(b: Uint8Array, at: number): number {
  const hi = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) | 0;
  const lo = ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0;
  return hi * TWO_32 + lo;
}

export function writeInt64(b: Uint8Array, at: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  const lo = value - hi * TWO_32;
  writeInt32(b, at, hi | 0);
  writeInt32(b, at + 4, lo >>> 0);
}

export function readInt32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) | 0;
}

export function readUint32(b: Uint8Array, at: number): number {
  return readInt32(b, at) >>> 0;
}

export function writeInt32(b: Uint8Array, at: number, value: number): void {
  b[at] = value >>> 24;
  b[at + 1] = value >>> 16;
  b[at + 2] = value >>> 8;
  b[at + 3] = value;
}

/** Total bytes of the batch starting at `at` (batchLength + 12); needs 12 readable bytes. */
export function batchSize(b: Uint8Array, at: number): number {
  return readInt32(b, at + LENGTH_AT) + LOG_OVERHEAD_BYTES;
}

export function baseOffset(b: Uint8Array, at: number): number {
  return readInt64(b, at + BASE_OFFSET_AT);
}

export function lastOffsetDelta(b: Uint8Array, at: number): number {
  return readInt32(b, at + LAST_OFFSET_DELTA_AT);
}

export function lastOffset(b: Uint8Array, at: number): number {
  return readInt64(b, at + BASE_OFFSET_AT) + readInt32(b, at + LAST_OFFSET_DELTA_AT);
}

export function maxTimestamp(b: Uint8Array, at: number): number {
  return readInt64(b, at + MAX_TIMESTAMP_AT);
}

export function leaderEpoch(b: Uint8Array, at: number): number {
  return readInt32(b, at + LEADER_EPOCH_AT);
}

export function attributes(b: Uint8Array, at: number): number {
  return ((b[at + ATTRIBUTES_AT]! << 8) | b[at + ATTRIBUTES_AT + 1]!) & 0xffff;
}

export function recordCount(b: Uint8Array, at: number): number {
  return readInt32(b, at + RECORD_COUNT_AT);
}

/** Rewrites base offset and partition leader epoch in place. */
export function stampBatch(b: Uint8Array, at: number, offset: number, epoch: number): void {
  writeInt64(b, at + BASE_OFFSET_AT, offset);
  writeInt32(b, at + LEADER_EPOCH_AT, epoch);
}

export type CrcFunction = (data: Uint8Array, seed: number, start: number, end: number) => number;

/**
 * Why the bytes at `at` are not one whole valid batch within [at, limit), or undefined when they
 * are. Checks, in order: room for the header, the length (>= header, within limit, <= maxBytes),
 * magic 2, a non-negative lastOffsetDelta, and the CRC.
 */
export function batchProblem(b: Uint8Array, at: number, limit: number, crc: CrcFunction, maxBytes = Number.MAX_SAFE_INTEGER): string | undefined {
  if (limit - at < LOG_OVERHEAD_BYTES) return 'truncated batch header';
  const size = batchSize(b, at);
  if (size < BATCH_MIN_BYTES) return `batch length ${size - LOG_OVERHEAD_BYTES} below the minimum`;
  if (size > maxBytes) return `batch of ${size} bytes above the limit of ${maxBytes}`;
  if (size > limit - at) return `batch of ${size} bytes runs past the end (${limit - at} left)`;
  if (b[at + MAGIC_AT] !== 2) return `magic ${b[at + MAGIC_AT]} (only 2 is supported)`;
  if (lastOffsetDelta(b, at) < 0) return 'negative lastOffsetDelta';
  const stored = readUint32(b, at + CRC_AT);
  const computed = crc(b, 0, at + ATTRIBUTES_AT, at + size);
  if (stored !== computed) return `CRC32C mismatch (stored ${stored.toString(16)}, computed ${computed.toString(16)})`;
  return undefined;
}

/** Validates one produced batch occupying all of `b`; throws SB_ERR_INVALID_BATCH. */
export function checkProducedBatch(b: Uint8Array, crc: CrcFunction, maxBytes: number): void {
  if (b.length >= LOG_OVERHEAD_BYTES && batchSize(b, 0) !== b.length) {
    throw new StreamBusError('SB_ERR_INVALID_BATCH', `batch length field says ${batchSize(b, 0)} bytes, the buffer holds ${b.length}`);
  }
  const problem = batchProblem(b, 0, b.length, crc, maxBytes);
  if (problem !== undefined) throw new StreamBusError('SB_ERR_INVALID_BATCH', problem);
}
