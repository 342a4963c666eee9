/**
 * Record batch v2 (magic 2) header: the one place that knows its byte layout. It reads the fields,
 * checks a batch and rewrites it in place, without copying. Storage (append, recovery scan, reads,
 * compaction), the broker's Produce checks, replication and the client all use it. It lives in the
 * protocol layer because every one of those layers may import protocol (storage only this header and
 * the record codec beside it), while protocol imports none of them.
 *
 * Byte layout (big-endian), offsets from the start of the batch:
 *    0 baseOffset int64            8 batchLength int32 (bytes after this field)
 *   12 partitionLeaderEpoch int32 16 magic int8 (2)      17 crc uint32 (CRC-32C of bytes 21..end)
 *   21 attributes int16           23 lastOffsetDelta int32
 *   27 baseTimestamp int64        35 maxTimestamp int64
 *   43 producerId int64           51 producerEpoch int16  53 baseSequence int32
 *   57 recordsCount int32         61 records (one compressed blob when the codec is not 0)
 * Attributes: bits 0-2 codec, bit 3 timestamp type (1 = LogAppendTime), bit 4 transactional, bit 5 control,
 * bit 6 hasDeleteHorizonMs. baseOffset and partitionLeaderEpoch lie outside the CRC: the leader rewrites
 * them in place without recomputing it. Old message sets (magic 0/1) also carry magic at byte 16.
 *
 * The read* functions take any Uint8Array and return numbers (int64 fields as exact doubles), so hot
 * paths allocate nothing; readBatchHeader returns every field, int64s as bigints, for the client and
 * occasional scans.
 */
import { assert } from '../../../util/assert.ts';
import { readInt16, readInt32, readInt64, readUint32, writeInt16, writeInt32, writeInt64 } from '../../../util/big-endian.ts';
import { crc32c } from '../../../util/crc32c.ts';
import { StreamBusError } from '../../../util/errors.ts';
import { KafkaErrorCode } from '../error-codes.ts';

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

/** Compression codecs, attributes bits 0-2; higher values are undefined. */
export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

/** CRC-32C of data[start, end) continued from `seed`: the portable one, or the native one storage has. */
export type CrcFunction = (data: Uint8Array, seed: number, start: number, end: number) => number;

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
    baseOffset: buf.readBigInt64BE(at + Offsets.baseOffset),
    batchLength: readInt32(buf, at + Offsets.batchLength),
    partitionLeaderEpoch: readPartitionLeaderEpoch(buf, at),
    magic: buf.readInt8(at + Offsets.magic),
    crc: readUint32(buf, at + Offsets.crc),
    attributes: readAttributes(buf, at),
    lastOffsetDelta: readLastOffsetDelta(buf, at),
    baseTimestamp: buf.readBigInt64BE(at + Offsets.baseTimestamp),
    maxTimestamp: buf.readBigInt64BE(at + Offsets.maxTimestamp),
    producerId: buf.readBigInt64BE(at + Offsets.producerId),
    producerEpoch: readProducerEpoch(buf, at),
    baseSequence: readBaseSequence(buf, at),
    recordsCount: readRecordsCount(buf, at),
  };
}

/** The total size of the batch starting at `at` (batchLength + 12), or -1 when its first 12 bytes are not there. */
export function batchSizeAt(b: Uint8Array, at = 0): number {
  if (b.length - at < BATCH_LOG_OVERHEAD) return -1;
  return readInt32(b, at + Offsets.batchLength) + BATCH_LOG_OVERHEAD;
}

export function readBaseOffset(b: Uint8Array, at: number): number {
  return readInt64(b, at + Offsets.baseOffset);
}

export function readLastOffsetDelta(b: Uint8Array, at: number): number {
  return readInt32(b, at + Offsets.lastOffsetDelta);
}

export function readLastOffset(b: Uint8Array, at: number): number {
  return readBaseOffset(b, at) + readLastOffsetDelta(b, at);
}

export function readPartitionLeaderEpoch(b: Uint8Array, at: number): number {
  return readInt32(b, at + Offsets.partitionLeaderEpoch);
}

/** The attribute bits (int16 on the wire; only the low 7 bits are defined). */
export function readAttributes(b: Uint8Array, at: number): number {
  return readInt16(b, at + Offsets.attributes);
}

export function readBaseTimestamp(b: Uint8Array, at: number): number {
  return readInt64(b, at + Offsets.baseTimestamp);
}

export function readMaxTimestamp(b: Uint8Array, at: number): number {
  return readInt64(b, at + Offsets.maxTimestamp);
}

/** The producer id as a bigint: ids are int64 on the wire and compared as bigints by producer state. */
export function readProducerId(buf: Buffer, at: number): bigint {
  return buf.readBigInt64BE(at + Offsets.producerId);
}

export function readProducerEpoch(b: Uint8Array, at: number): number {
  return readInt16(b, at + Offsets.producerEpoch);
}

export function readBaseSequence(b: Uint8Array, at: number): number {
  return readInt32(b, at + Offsets.baseSequence);
}

export function readRecordsCount(b: Uint8Array, at: number): number {
  return readInt32(b, at + Offsets.recordsCount);
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

export function isLogAppendTime(attributes: number): boolean {
  return (attributes & Attributes.logAppendTime) !== 0;
}

/** CRC-32C over attributes..end of the batch at `at` whose total size is `size`. */
export function computeBatchCrc(b: Uint8Array, at: number, size: number, crc: CrcFunction = crc32c): number {
  return crc(b, 0, at + Offsets.attributes, at + size);
}

/** Recomputes and stores the CRC of the whole batch at `at`, after a field inside it changed. */
export function writeBatchCrc(b: Uint8Array, at: number, crc: CrcFunction = crc32c): void {
  const size = batchSizeAt(b, at);
  assert(size >= BATCH_HEADER_BYTES && at + size <= b.length, 'CRC of a batch that is not all there');
  writeInt32(b, at + Offsets.crc, computeBatchCrc(b, at, size, crc));
}

/** Why a batch fails its check; BATCH_PROBLEM_ERROR gives the Kafka error for each. */
export type BatchProblemKind = 'truncated' | 'length' | 'too-large' | 'trailing' | 'magic' | 'count' | 'compression' | 'control' | 'sequence' | 'crc';

export interface BatchProblem {
  readonly kind: BatchProblemKind;
  readonly message: string;
}

/** The Kafka error Apache Kafka returns for each problem with a produced batch. */
export const BATCH_PROBLEM_ERROR: Readonly<Record<BatchProblemKind, number>> = {
  truncated: KafkaErrorCode.CORRUPT_MESSAGE,
  length: KafkaErrorCode.CORRUPT_MESSAGE,
  'too-large': KafkaErrorCode.MESSAGE_TOO_LARGE,
  trailing: KafkaErrorCode.INVALID_RECORD,
  magic: KafkaErrorCode.INVALID_RECORD,
  count: KafkaErrorCode.INVALID_RECORD,
  compression: KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
  control: KafkaErrorCode.INVALID_RECORD,
  sequence: KafkaErrorCode.INVALID_RECORD,
  crc: KafkaErrorCode.CORRUPT_MESSAGE,
};

/** What checkBatch requires beyond a well-formed batch. Build it once per caller, not per batch. */
export interface BatchRules {
  /** The batch must end exactly at `end` (one batch per Produce partition or append), not be followed by more. */
  readonly exact: boolean;
  /** Largest batch accepted, header included. */
  readonly maxBytes: number;
  /** Checks the CRC with this function, or trusts the stored one when null (a clean restart, or a later check). */
  readonly crc: CrcFunction | null;
  /**
   * Adds what Kafka requires of batches from producers: records count equal to lastOffsetDelta + 1 (stored
   * or replicated batches may have fewer after compaction), no control bit (only the broker writes markers)
   * and a base sequence whenever there is a producer id.
   */
  readonly fromClient: boolean;
}

/** The default: one whole batch, any size, CRC checked with the portable CRC-32C (the client's check.crcs). */
const WHOLE_BATCH: BatchRules = { exact: true, maxBytes: Number.MAX_SAFE_INTEGER, crc: crc32c, fromClient: false };

function problem(kind: BatchProblemKind, message: string): BatchProblem {
  return { kind, message };
}

/**
 * Checks the batch at `at`, which must lie within [at, end). In order: room for batchLength, a length of
 * at least a header, at most rules.maxBytes, within end (exactly at end when rules.exact), magic 2,
 * 0 <= lastOffsetDelta and 0 <= recordsCount <= lastOffsetDelta + 1, a known codec, the client rules,
 * then the CRC. Returns null when valid; allocates only to describe a problem.
 */
export function checkBatch(b: Uint8Array, at = 0, end = b.length, rules: BatchRules = WHOLE_BATCH): BatchProblem | null {
  assert(at >= 0 && at <= end, 'batch window out of order');
  assert(end <= b.length, 'batch window past the buffer');
  const left = end - at;
  if (left < BATCH_LOG_OVERHEAD) return problem('truncated', `truncated batch header (${left} bytes)`);
  const size = readInt32(b, at + Offsets.batchLength) + BATCH_LOG_OVERHEAD;
  if (size < BATCH_HEADER_BYTES) return problem('length', `batch length ${size - BATCH_LOG_OVERHEAD} below the minimum`);
  if (size > rules.maxBytes) return problem('too-large', `batch of ${size} bytes above the limit of ${rules.maxBytes}`);
  if (size > left) return problem('truncated', `batch of ${size} bytes runs past the end (${left} left)`);
  if (rules.exact && size < left) return problem('trailing', `${left - size} bytes after the batch: more than one batch`);
  const magic = b[at + Offsets.magic]!;
  if (magic !== MAGIC_V2) return problem('magic', `magic ${magic} (only 2 is supported)`);
  const delta = readLastOffsetDelta(b, at);
  const count = readRecordsCount(b, at);
  if (delta < 0) return problem('count', `negative lastOffsetDelta ${delta}`);
  if (count < 0 || count > delta + 1) return problem('count', `records count ${count} does not fit lastOffsetDelta ${delta}`);
  const attributes = readAttributes(b, at);
  if (compressionOf(attributes) > Compression.zstd) return problem('compression', `unknown compression codec ${compressionOf(attributes)}`);
  if (rules.fromClient) {
    if (count !== delta + 1) return problem('count', `records count ${count} does not match lastOffsetDelta ${delta}`);
    if (isControlBatch(attributes)) return problem('control', 'clients may not produce control batches');
    if (readInt64(b, at + Offsets.producerId) >= 0 && readBaseSequence(b, at) < 0) return problem('sequence', 'idempotent batch without a base sequence');
  }
  if (rules.crc !== null) {
    const stored = readUint32(b, at + Offsets.crc);
    const computed = computeBatchCrc(b, at, size, rules.crc);
    if (stored !== computed) return problem('crc', `CRC32C mismatch (stored ${stored.toString(16)}, computed ${computed.toString(16)})`);
  }
  return null;
}

/** Rewrites baseOffset and partitionLeaderEpoch in place, as the leader does on append; the CRC stays valid. */
export function stampBatch(b: Uint8Array, at: number, baseOffset: number, leaderEpoch: number): void {
  assert(Number.isSafeInteger(baseOffset) && baseOffset >= 0, 'base offset must be a non-negative safe integer');
  assert(b.length - at >= BATCH_HEADER_BYTES, 'stamping a batch shorter than its header');
  writeInt64(b, at + Offsets.baseOffset, baseOffset);
  writeInt32(b, at + Offsets.partitionLeaderEpoch, leaderEpoch);
}

/**
 * Marks the batch LogAppendTime with `timestamp` as maxTimestamp and recomputes the CRC (both fields are
 * inside it). Records keep their deltas, as Kafka does.
 */
export function setLogAppendTime(b: Uint8Array, at: number, timestamp: bigint, crc: CrcFunction = crc32c): void {
  writeInt16(b, at + Offsets.attributes, readAttributes(b, at) | Attributes.logAppendTime);
  writeInt64(b, at + Offsets.maxTimestamp, Number(timestamp));
  writeBatchCrc(b, at, crc);
}

/**
 * Splits concatenated batches (a Fetch records field, a log segment) into [start, end) ranges. A trailing
 * partial batch, which a Fetch may legally end with, is left out. Stops at the first impossible length.
 */
export function splitBatches(buf: Uint8Array): { start: number; end: number }[] {
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
