/**
 * Builds v2 record batches (used by the CLI producer, tests and control markers). The broker itself never
 * re-encodes client batches; it stores them as received.
 */
import { assert } from '../../../util/assert.ts';
import { Writer } from '../writer.ts';
import { compress } from '../compression/index.ts';
import { Attributes, BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD, computeBatchCrc, MAGIC_V2 } from './header.ts';
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
  assert(codec >= 0 && codec <= 4, `unknown codec ${codec}`);
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
  out.writeBigInt64BE(opts.baseOffset ?? 0n, 0);
  out.writeInt32BE(size - BATCH_LOG_OVERHEAD, 8);
  out.writeInt32BE(opts.partitionLeaderEpoch ?? -1, 12);
  out.writeInt8(MAGIC_V2, 16);
  out.writeInt16BE(attributes, 21);
  out.writeInt32BE(records.length - 1, 23);
  out.writeBigInt64BE(baseTimestamp, 27);
  out.writeBigInt64BE(maxTimestamp, 35);
  out.writeBigInt64BE(opts.producerId ?? -1n, 43);
  out.writeInt16BE(opts.producerEpoch ?? -1, 51);
  out.writeInt32BE(opts.baseSequence ?? -1, 53);
  out.writeInt32BE(records.length, 57);
  payload.copy(out, BATCH_HEADER_BYTES);
  out.writeUInt32BE(computeBatchCrc(out, 0, size), 17);
  return out;
}
