/**
 * Record batch v2 (magic 2) header: read, check and rewrite in place, without copying.
 *
 * Byte layout (big-endian), offsets from the start of the batch:
 *    0 baseOffset int64            8 batchLength int32 (bytes after this field)
 *   12 partitionLeaderEpoch int32 16 magic int8 (2)      17 crc uint32 (CRC-32C of bytes 21..end)
 *   21 attributes int16           23 lastOffsetDelta int32
 *   27 baseTimestamp int64        35 maxTimestamp int64
 *   43 producerId int64           51 producerEpoch int16  53 baseSequence int32
 *   57 recordsCount int32         61 records (one compressed blob when the codec is not 0)
 * Attributes: bits 0-2 codec, bit 3 timestamp type (1 = LogAppendTime), bit 4 transactional, bit 5 control,
 * bit 6 hasDeleteHorizonMs. baseOffset and partitionLeaderEpoch lie outside the CRC: the broker rewrites
 * them in place without recomputing it. Old message sets (magic 0/1) also carry magic at byte 16.
 */
import { crc32c } from '../../../util/crc32c.ts';
import { StreamBusError } from '../../../util/errors.ts';

export const BATCH_HEADER_BYTES = 61;
/** Bytes before batchLength's coverage begins (baseOffset + batchLength). */
export const BATCH_LOG_OVERHEAD = 12;
export const MAGIC_V2 = 2;

export const Offsets = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordsCount: 57,
  records: 61,
} as const;

export const Attributes = {
  codecMask: 0x07,
  logAppendTime: 0x08,
  transactional: 0x10,
  control: 0x20,
  hasDeleteHorizonMs: 0x40,
} as const;

export interface RecordBatchHeader {
  baseOffset: bigint;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

/** Reads the 61-byte header at `at`. Throws SB_ERR_INVALID_BATCH when fewer than 61 bytes are there. */
export function readBatchHeader(buf: Buffer, at = 0): RecordBatchHeader {
  if (at < 0 || buf.length - at < BATCH_HEADER_BYTES) {
    throw new StreamBusError('SB_ERR_INVALID_BATCH', `record batch header needs ${BATCH_HEADER_BYTES} bytes, ${Math.max(0, buf.length - at)} left`);
  }
  return {
    baseOffset: buf.readBigInt64BE(at),
    batchLength: buf.readInt32BE(at + 8),
    partitionLeaderEpoch: buf.readInt32BE(at + 12),
    magic: buf.readInt8(at + 16),
    crc: buf.readUInt32BE(at + 17),
    attributes: buf.readInt16BE(at + 21),
    lastOffsetDelta: buf.readInt32BE(at + 23),
    baseTimestamp: buf.readBigInt64BE(at + 27),
    maxTimestamp: buf.readBigInt64BE(at + 35),
    producerId: buf.readBigInt64BE(at + 43),
    producerEpoch: buf.readInt16BE(at + 51),
    baseSequence: buf.readInt32BE(at + 53),
    recordsCount: buf.readInt32BE(at + 57),
  };
}

export function compressionOf(attributes: number): number {
  return attributes & Attributes.codecMask;
}

export function isControlBatch(attributes: number): boolean {
  return (attributes & Attributes.control) !== 0;
}

export function isTransactionalBatch(attributes: number): boolean {
  return (attributes & Attributes.transactional) !== 0;
}

/** The total size of the batch starting at `at` (batchLength + 12), or -1 when its first 12 bytes are not there. */
export function batchSizeAt(buf: Buffer, at = 0): number {
  if (buf.length - at < BATCH_LOG_OVERHEAD) return -1;
  return buf.readInt32BE(at + 8) + BATCH_LOG_OVERHEAD;
}

/** CRC-32C over attributes..end of the batch at `at` whose total size is `size`. */
export function computeBatchCrc(buf: Buffer, at: number, size: number): number {
  return crc32c(buf, 0, at + Offsets.attributes, at + size);
}

/** Why a batch fails validation, each mapped to the Kafka error Apache Kafka returns for it. */
export type BatchProblem = 'truncated' | 'length' | 'magic' | 'crc';

/** Kafka error code for each problem: CORRUPT_MESSAGE (2) for length/CRC, INVALID_RECORD (87) for the magic. */
export const BATCH_PROBLEM_ERROR: Readonly<Record<BatchProblem, number>> = { truncated: 2, length: 2, magic: 87, crc: 2 };

/**
 * Checks the batch at `at`, which must end exactly at `end` (Produce v3+: one batch per partition):
 * header present, batchLength consistent with the bytes, magic 2, CRC-32C matching. Returns null when
 * valid, else the problem. Pure check: no allocation, no exception.
 */
export function checkBatch(buf: Buffer, at = 0, end = buf.length): BatchProblem | null {
  if (end - at < BATCH_HEADER_BYTES) return 'truncated';
  const size = buf.readInt32BE(at + 8) + BATCH_LOG_OVERHEAD;
  if (size !== end - at) return 'length';
  if (buf.readInt8(at + 16) !== MAGIC_V2) return 'magic';
  if (computeBatchCrc(buf, at, size) !== buf.readUInt32BE(at + 17)) return 'crc';
  return null;
}

/** Rewrites baseOffset in place (outside the CRC). */
export function setBaseOffset(buf: Buffer, at: number, baseOffset: bigint): void {
  buf.writeBigInt64BE(baseOffset, at);
}

/** Rewrites partitionLeaderEpoch in place (outside the CRC). */
export function setPartitionLeaderEpoch(buf: Buffer, at: number, epoch: number): void {
  buf.writeInt32BE(epoch, at + 12);
}

/**
 * Marks the batch LogAppendTime with `timestamp` as maxTimestamp and recomputes the CRC (both fields are
 * inside it). Records keep their deltas, as Kafka does.
 */
export function setLogAppendTime(buf: Buffer, at: number, timestamp: bigint): void {
  const size = batchSizeAt(buf, at);
  buf.writeInt16BE(buf.readInt16BE(at + 21) | Attributes.logAppendTime, at + 21);
  buf.writeBigInt64BE(timestamp, at + 35);
  buf.writeUInt32BE(computeBatchCrc(buf, at, size), at + 17);
}

/**
 * Splits concatenated batches (a Fetch records field, a log segment) into [start, end) ranges. A trailing
 * partial batch, which a Fetch may legally end with, is left out. Stops at the first impossible length.
 */
export function splitBatches(buf: Buffer): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let at = 0;
  while (at < buf.length) {
    const size = batchSizeAt(buf, at);
    if (size < BATCH_HEADER_BYTES || at + size > buf.length) break;
    out.push({ start: at, end: at + size });
    at += size;
  }
  return out;
}
