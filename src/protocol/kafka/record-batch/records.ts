/**
 * Records inside a v2 batch: reading (decompressing when needed) and writing.
 *
 * Record layout (zigzag varints, like protobuf sint32/sint64): length varint (bytes after it),
 * attributes int8, timestampDelta varlong, offsetDelta varint, keyLength varint (-1 = null), key,
 * valueLength varint (-1 = null), value, headerCount varint, then per header keyLength varint, UTF-8 key,
 * valueLength varint (-1 = null), value.
 */
import { assert } from '../../../util/assert.ts';
import { StreamBusError, isStreamBusError } from '../../../util/errors.ts';
import { Reader } from '../reader.ts';
import type { Writer } from '../writer.ts';
import { decompress, DEFAULT_MAX_DECOMPRESSED_BYTES } from '../compression/index.ts';
import { BATCH_HEADER_BYTES, batchSizeAt, compressionOf, Compression, Offsets, readAttributes, readRecordsCount } from './header.ts';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface KafkaRecord {
  attributes: number;
  /** Milliseconds after the batch's baseTimestamp (may be negative). */
  timestampDelta: number;
  /** Offset after the batch's baseOffset. */
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** Smallest possible record: seven one-byte varints/fields. */
const RECORD_MIN_BYTES = 7;

function invalid(message: string, cause?: unknown): StreamBusError {
  return new StreamBusError('SB_ERR_INVALID_BATCH', message, { cause });
}

function nullableBytes(r: Reader): Buffer | null {
  const n = r.varint();
  if (n < -1) throw invalid(`negative length ${n}`);
  return n === -1 ? null : r.view(n);
}

function readRecord(r: Reader): KafkaRecord {
  const length = r.varint();
  if (length < RECORD_MIN_BYTES - 1 || length > r.remaining()) throw invalid(`record length ${length} does not fit`);
  const end = r.pos + length;
  const attributes = r.int8();
  const timestampDelta = r.varlongNumber();
  const offsetDelta = r.varint();
  const key = nullableBytes(r);
  const value = nullableBytes(r);
  const headerCount = r.varint();
  if (headerCount < 0 || headerCount * 2 > end - r.pos) throw invalid(`header count ${headerCount} does not fit`);
  const headers: RecordHeader[] = [];
  for (let i = 0; i < headerCount; i++) {
    const keyLength = r.varint();
    if (keyLength < 0) throw invalid('null header key');
    const hk = r.view(keyLength).toString('utf8');
    headers.push({ key: hk, value: nullableBytes(r) });
  }
  if (r.pos !== end) throw invalid(`record declared ${length} bytes but used ${length - (end - r.pos)}`);
  return { attributes, timestampDelta, offsetDelta, key, value, headers };
}

/**
 * Reads the `count` records that fill the rest of `r`, calling `visit` with each and the [start, end)
 * of its bytes in the reader's buffer. Throws SB_ERR_INVALID_BATCH on malformed records.
 */
function readEach(r: Reader, count: number, visit: (record: KafkaRecord, start: number, end: number) => void): void {
  if (count < 0 || count * RECORD_MIN_BYTES > r.remaining()) throw invalid(`${count} records cannot fit in ${r.remaining()} bytes`);
  for (let i = 0; i < count; i++) {
    const start = r.pos;
    let record: KafkaRecord;
    try {
      record = readRecord(r);
    } catch (e) {
      if (isStreamBusError(e, 'SB_ERR_PROTOCOL')) throw invalid(`malformed record: ${e.message}`, e);
      throw e;
    }
    visit(record, start, r.pos);
  }
  if (r.remaining() !== 0) throw invalid(`${r.remaining()} bytes after the last record`);
}

/**
 * The records of the batch at the start of `batch` (which holds exactly one batch, e.g. a view from
 * splitBatches). Uncompressed record keys and values are views into `batch`; compressed ones are views
 * into the decompressed copy. Throws SB_ERR_INVALID_BATCH on malformed records or codec failures; the
 * CRC is not checked here (checkBatch does that).
 */
export function readRecords(batch: Buffer, maxDecompressedBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): KafkaRecord[] {
  const size = batchSizeAt(batch, 0);
  if (size < BATCH_HEADER_BYTES || size > batch.length) throw invalid(`batch size ${size} does not fit ${batch.length} bytes`);
  const codec = compressionOf(readAttributes(batch, 0));
  const body = decompress(codec, batch.subarray(Offsets.records, size), maxDecompressedBytes);
  const out: KafkaRecord[] = [];
  readEach(new Reader(body), readRecordsCount(batch, 0), (record) => out.push(record));
  return out;
}

/**
 * Calls `visit` with each record of the uncompressed batch at `batch[at...]` and the [start, end) of its
 * bytes in `batch`, so that compaction can copy the records it keeps whole. Keys and values are views
 * into `batch`. Throws SB_ERR_INVALID_BATCH on malformed records; compressed batches are the caller's
 * mistake (their records are not positions in `batch`).
 */
export function forEachRecord(batch: Buffer, at: number, visit: (record: KafkaRecord, start: number, end: number) => void): void {
  const size = batchSizeAt(batch, at);
  if (size < BATCH_HEADER_BYTES || at + size > batch.length) throw invalid(`batch size ${size} does not fit ${batch.length - at} bytes`);
  assert(compressionOf(readAttributes(batch, at)) === Compression.none, 'forEachRecord on a compressed batch');
  readEach(new Reader(batch, at + Offsets.records, at + size), readRecordsCount(batch, at), visit);
}

export interface RecordInput {
  key?: Uint8Array | null;
  value: Uint8Array | null;
  headers?: readonly { key: string; value: Uint8Array | null }[];
  timestampDelta: number;
  offsetDelta: number;
}

function varintSize(v: number): number {
  let u = ((v << 1) ^ (v >> 31)) >>> 0;
  let n = 1;
  while (u >= 0x80) {
    u >>>= 7;
    n++;
  }
  return n;
}

function varlongSize(v: number): number {
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}

function bytesSize(b: Uint8Array | null | undefined): number {
  return b == null ? 1 : varintSize(b.length) + b.length;
}

/** Writes one record (attributes 0). */
export function writeRecord(w: Writer, rec: RecordInput): void {
  const headers = rec.headers ?? [];
  const keys = headers.map((h) => Buffer.from(h.key, 'utf8'));
  let length = 1 + varlongSize(rec.timestampDelta) + varintSize(rec.offsetDelta) + bytesSize(rec.key) + bytesSize(rec.value) + varintSize(headers.length);
  for (let i = 0; i < headers.length; i++) length += bytesSize(keys[i]) + bytesSize(headers[i]!.value);
  w.varint(length);
  w.int8(0);
  w.varlongNumber(rec.timestampDelta);
  w.varint(rec.offsetDelta);
  writeNullable(w, rec.key ?? null);
  writeNullable(w, rec.value);
  w.varint(headers.length);
  for (let i = 0; i < headers.length; i++) {
    writeNullable(w, keys[i]!);
    writeNullable(w, headers[i]!.value);
  }
}

function writeNullable(w: Writer, b: Uint8Array | null): void {
  if (b === null) w.varint(-1);
  else {
    w.varint(b.length);
    w.raw(b);
  }
}
