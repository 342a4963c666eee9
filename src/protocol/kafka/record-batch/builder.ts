/**
 * Builds v2 record batches (used by the CLI producer, tests and control markers). The broker itself never
 * re-encodes client batches; it stores them as received.
 */
import { assert } from '../../../util/assert.ts';
import { Writer } from '../writer.ts';
import { compress } from '../compression/index.ts';
import { Attributes, BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD, Compression, MAGIC_V2, Offsets, writeBatchCrc } from './header.ts';
import { writeRecord } from './records.ts';

export interface BatchRecord {
  key?: Uint8Array | null;
  value: Uint8Array | null;
  headers?: readonly { key: string; value: Uint8Array | null }[];
  /** Milliseconds since the epoch; defaults to the batch's baseTimestamp. */
  timestamp?: bigint;
}

export interface BatchOptions {
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  /** 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd (zstd needs loadCompressionCodecs()). */
  compression?: number;
  logAppendTime?: boolean;
  transactional?: boolean;
  control?: boolean;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  /** Defaults to the first record's timestamp, else the current time. */
  baseTimestamp?: bigint;
}

/** One complete batch with its CRC. At least one record. */
export function buildRecordBatch(records: readonly BatchRecord[], opts: BatchOptions = {}): Buffer {
  assert(records.length > 0, 'a record batch holds at least one record');
  const codec = opts.compression ?? 0;
  assert(codec >= Compression.none && codec <= Compression.zstd, `unknown codec ${codec}`);
  const baseTimestamp = opts.baseTimestamp ?? records[0]!.timestamp ?? BigInt(Date.now());
  let maxTimestamp = -1n;
  const body = new Writer(256);
  for (let i = 0; i < records.length; i++) {
    const rec = records[i]!;
    const ts = rec.timestamp ?? baseTimestamp;
    if (ts > maxTimestamp) maxTimestamp = ts;
    writeRecord(body, { key: rec.key ?? null, value: rec.value, headers: rec.headers ?? [], timestampDelta: Number(ts - baseTimestamp), offsetDelta: i });
  }
  const payload = compress(codec, body.toBuffer());
  let attributes = codec;
  if (opts.logAppendTime) attributes |= Attributes.logAppendTime;
  if (opts.transactional) attributes |= Attributes.transactional;
  if (opts.control) attributes |= Attributes.control;
  const size = BATCH_HEADER_BYTES + payload.length;
  const out = Buffer.allocUnsafe(size);
  out.writeBigInt64BE(opts.baseOffset ?? 0n, Offsets.baseOffset);
  out.writeInt32BE(size - BATCH_LOG_OVERHEAD, Offsets.batchLength);
  out.writeInt32BE(opts.partitionLeaderEpoch ?? -1, Offsets.partitionLeaderEpoch);
  out.writeInt8(MAGIC_V2, Offsets.magic);
  out.writeInt16BE(attributes, Offsets.attributes);
  out.writeInt32BE(records.length - 1, Offsets.lastOffsetDelta);
  out.writeBigInt64BE(baseTimestamp, Offsets.baseTimestamp);
  out.writeBigInt64BE(maxTimestamp, Offsets.maxTimestamp);
  out.writeBigInt64BE(opts.producerId ?? -1n, Offsets.producerId);
  out.writeInt16BE(opts.producerEpoch ?? -1, Offsets.producerEpoch);
  out.writeInt32BE(opts.baseSequence ?? -1, Offsets.baseSequence);
  out.writeInt32BE(records.length, Offsets.recordsCount);
  payload.copy(out, Offsets.records);
  writeBatchCrc(out, 0);
  return out;
}
