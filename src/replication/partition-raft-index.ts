/**
 * The on-disk format of a partition Raft log's dense index (`raft.index` in the partition folder):
 * one fixed-size record per Raft index, so that recovery reads where each entry's batch starts
 * without scanning the segment files, and truncating the Raft log is truncating this file at
 * (index - baseIndex) * RECORD_BYTES after the header. Kept apart from the store because the byte
 * layout outlives the code that writes it.
 *
 * Header (32 bytes, written once when the file is created; the file is replaced atomically with
 * Disk.writeFileDurable when a leader's snapshot resets the log or a compacted prefix is dropped):
 *    0 magic u32 ("SBRI")    4 version u8 (1)    5 reserved u8    6 record size u16 (32)
 *    8 baseIndex u64: the Raft index of record 0
 *   16 prevTerm u32: the term of baseIndex - 1
 *   20 baseOffset u64: the Kafka offset entry baseIndex starts at (the log end before it)
 *   28 crc32c u32 of bytes 0..28
 *
 * Record (32 bytes, big-endian), for Raft index baseIndex + position:
 *    0 startOffset u64: the Kafka offset the entry starts at. Data: its batch's base offset.
 *      No-op, conf change and log start: the log end offset at that point (they take no offsets).
 *    8 term u32    12 kind u8 (1 data, 2 no-op, 3 conf change, 4 log start)    13 payload length u8
 *   14 reserved u16    16 payload 8 bytes (a conf change's encoded bytes, zero padded; a log start
 *      entry's new log start offset, u64)
 *   24 reserved u32    28 crc32c u32 of bytes 0..28
 *
 * Crash behaviour: records are appended (and the file truncated) only through one AppendFile, one
 * operation at a time. A crash can leave a torn last record (a partial record, or bytes whose CRC
 * fails): with no valid record after it, it is cut; a bad record followed by a valid one is
 * damage in the middle (SB_ERR_CORRUPT). Whether each record's batch made it to the segment log is
 * checked against the log by recovery (partition-raft-recovery.ts), not here.
 */
import type { Crc32c } from './raft-log-records.ts';
import { corruptError } from './raft-log-records.ts';
import { assert } from '../util/assert.ts';

export const INDEX_FILE_NAME = 'raft.index';
export const INDEX_HEADER_BYTES = 32;
export const INDEX_RECORD_BYTES = 32;
/** Inline payload room of a record: conf changes (CONF_CHANGE_BYTES = 5) and log start offsets fit. */
export const INDEX_PAYLOAD_BYTES_MAX = 8;
const MAGIC = 0x53425249;
const VERSION = 1;
const CRC_AT = 28;
const TWO_POW_32 = 2 ** 32;

/** LogStart: a DeleteRecords command (partition-log-start.ts), replicated like any entry. */
export const EntryKind = { Data: 1, Noop: 2, ConfChange: 3, LogStart: 4 } as const;
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

export interface IndexHeader {
  readonly baseIndex: number;
  readonly prevTerm: number;
  readonly baseOffset: number;
}

export interface IndexRecord {
  readonly startOffset: number;
  readonly term: number;
  readonly kind: EntryKind;
  /** The conf change or log start bytes; empty for the other kinds. */
  readonly payload: Uint8Array;
}

function putU64(view: DataView, at: number, n: number): void {
  assert(Number.isSafeInteger(n) && n >= 0, `${n} is not a non-negative safe integer`);
  view.setUint32(at, Math.floor(n / TWO_POW_32));
  view.setUint32(at + 4, n >>> 0);
}

function getU64(view: DataView, at: number): number {
  return view.getUint32(at) * TWO_POW_32 + view.getUint32(at + 4);
}

export function encodeIndexHeader(crc32c: Crc32c, header: IndexHeader): Uint8Array {
  assert(header.baseIndex >= 1, 'the index starts at Raft index 1 or later');
  assert(header.prevTerm >= 0 && header.prevTerm < TWO_POW_32, 'term does not fit u32');
  const out = new Uint8Array(INDEX_HEADER_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC);
  view.setUint8(4, VERSION);
  view.setUint16(6, INDEX_RECORD_BYTES);
  putU64(view, 8, header.baseIndex);
  view.setUint32(16, header.prevTerm);
  putU64(view, 20, header.baseOffset);
  view.setUint32(CRC_AT, crc32c(out, 0, 0, CRC_AT));
  return out;
}

/** Writes one record into `out` at `at`. */
export function encodeIndexRecord(crc32c: Crc32c, record: IndexRecord, out: Uint8Array, at: number): void {
  assert(record.term >= 1 && record.term < TWO_POW_32, `term ${record.term} does not fit an index record`);
  assert(record.payload.byteLength <= INDEX_PAYLOAD_BYTES_MAX, 'payload too large for an index record');
  assert(carriesPayload(record.kind) || record.payload.byteLength === 0, 'only conf changes and log starts carry a payload');
  const view = new DataView(out.buffer, out.byteOffset + at, INDEX_RECORD_BYTES);
  putU64(view, 0, record.startOffset);
  view.setUint32(8, record.term);
  view.setUint8(12, record.kind);
  view.setUint8(13, record.payload.byteLength);
  view.setUint16(14, 0);
  out.fill(0, at + 16, at + CRC_AT);
  out.set(record.payload, at + 16);
  view.setUint32(CRC_AT, crc32c(out, 0, at, at + CRC_AT));
}

/** Decodes the header; throws SB_ERR_CORRUPT naming the file when it is not a valid one. */
export function decodeIndexHeader(crc32c: Crc32c, bytes: Uint8Array, path: string): IndexHeader {
  if (bytes.byteLength < INDEX_HEADER_BYTES) throw corruptError(path, 0, 'index header is incomplete');
  const view = new DataView(bytes.buffer, bytes.byteOffset, INDEX_HEADER_BYTES);
  if (view.getUint32(CRC_AT) !== crc32c(bytes, 0, 0, CRC_AT)) throw corruptError(path, 0, 'index header CRC mismatch');
  if (view.getUint32(0) !== MAGIC || view.getUint8(4) !== VERSION || view.getUint16(6) !== INDEX_RECORD_BYTES) {
    throw corruptError(path, 0, 'not a version 1 Raft index file');
  }
  return { baseIndex: getU64(view, 8), prevTerm: view.getUint32(16), baseOffset: getU64(view, 20) };
}

/** The kinds whose bytes live in the index record itself. */
export function carriesPayload(kind: EntryKind): boolean {
  return kind === EntryKind.ConfChange || kind === EntryKind.LogStart;
}

function decodeRecord(crc32c: Crc32c, bytes: Uint8Array, at: number): IndexRecord | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, INDEX_RECORD_BYTES);
  if (view.getUint32(CRC_AT) !== crc32c(bytes, 0, at, at + CRC_AT)) return null;
  const kind = view.getUint8(12);
  const length = view.getUint8(13);
  const term = view.getUint32(8);
  if (kind < EntryKind.Data || kind > EntryKind.LogStart || term < 1 || length > INDEX_PAYLOAD_BYTES_MAX) return null;
  if (!carriesPayload(kind as EntryKind) && length !== 0) return null;
  const payload = new Uint8Array(bytes.subarray(at + 16, at + 16 + length));
  return { startOffset: getU64(view, 0), term, kind: kind as EntryKind, payload };
}

export interface IndexScan {
  readonly records: IndexRecord[];
  /** Bytes [0, validBytes) of the file (header included) are whole, valid records. */
  readonly validBytes: number;
  /** Why the bytes after validBytes were dropped, or null when there were none. */
  readonly tornTail: string | null;
}

/** Decodes the records after the header; a torn tail is reported, damage in the middle throws. */
export function scanIndexRecords(crc32c: Crc32c, bytes: Uint8Array, path: string): IndexScan {
  const records: IndexRecord[] = [];
  const whole = Math.floor((bytes.byteLength - INDEX_HEADER_BYTES) / INDEX_RECORD_BYTES);
  for (let i = 0; i < whole; i++) {
    const at = INDEX_HEADER_BYTES + i * INDEX_RECORD_BYTES;
    const record = decodeRecord(crc32c, bytes, at);
    if (record !== null) {
      records.push(record);
      continue;
    }
    for (let later = i + 1; later < whole; later++) {
      if (decodeRecord(crc32c, bytes, INDEX_HEADER_BYTES + later * INDEX_RECORD_BYTES) !== null) {
        throw corruptError(path, at, `invalid index record followed by a valid one at ${INDEX_HEADER_BYTES + later * INDEX_RECORD_BYTES}`);
      }
    }
    return { records, validBytes: at, tornTail: `invalid index record at position ${at}` };
  }
  const validBytes = INDEX_HEADER_BYTES + whole * INDEX_RECORD_BYTES;
  const tornTail = validBytes < bytes.byteLength ? `partial index record at position ${validBytes}` : null;
  return { records, validBytes, tornTail };
}

/** A whole index file: header and records. */
export function encodeIndexFile(crc32c: Crc32c, header: IndexHeader, records: readonly IndexRecord[]): Uint8Array {
  const out = new Uint8Array(INDEX_HEADER_BYTES + records.length * INDEX_RECORD_BYTES);
  out.set(encodeIndexHeader(crc32c, header), 0);
  for (let i = 0; i < records.length; i++) encodeIndexRecord(crc32c, records[i]!, out, INDEX_HEADER_BYTES + i * INDEX_RECORD_BYTES);
  return out;
}

/** The byte position of Raft index `index`'s record in a file whose records start at `baseIndex`. */
export function indexRecordPosition(baseIndex: number, index: number): number {
  assert(index >= baseIndex, 'index below the file base');
  return INDEX_HEADER_BYTES + (index - baseIndex) * INDEX_RECORD_BYTES;
}
