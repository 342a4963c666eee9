/**
 * The record codec of a file-backed Raft log (file-raft-log-store.ts): the append-only log file is a
 * sequence of these records, and a snapshot file is exactly one of them. Kept apart from the store
 * so the byte layout, the one thing that outlives the code, sits in one small file.
 *
 * Record layout (integers big-endian):
 *
 *   [length u32][crc32c u32][kind u8][payload]
 *
 * `length` counts kind + payload; `crc32c` covers kind + payload. Numbers that are Raft indexes,
 * terms or node ids are u64 (read back only up to 2^53, JavaScript's safe integers). Kinds:
 *
 *   1 entry      [term u64][index u64][type u8][data ...]
 *   2 hard state [term u64][vote u64][commit u64]
 *   3 log base   [index u64][term u64]   the log restarts after (index, term): every entry before
 *                                        is gone (written first in every log file, and when a
 *                                        snapshot from the leader replaces the log)
 *   4 snapshot   [index u64][term u64][voter count u32][voters u64...][learner count u32]
 *                [learners u64...][data ...]   (only in snapshot files)
 *   5 log start  [index u64][term u64]   compaction: entries up to `index` (whose term is `term`)
 *                                        are dropped, the later ones stay; written only once a
 *                                        durable snapshot covers `index`
 *
 * An entry record at index i <= the last index replayed so far truncates the tail from i first
 * (logical truncation: nothing is ever cut out of the file, so a crash cannot lose a hard state
 * that followed a truncated entry).
 *
 * Crash behaviour: a record is valid only when its whole extent is present and its CRC matches.
 * `scanRecords` stops at the first invalid record; when no valid record starts anywhere after it,
 * it is a torn tail (the last append did not complete) and is reported for truncation; when one
 * does, bytes in the middle of the file changed, which is corruption (SB_ERR_CORRUPT with the file
 * and position), never silently dropped.
 */
import type { ConfState, Entry, EntryType, HardState } from '../raft/index.ts';
import { assert } from '../util/assert.ts';
import { StreamBusError } from '../util/errors.ts';

/** CRC-32C of data[start, end) continuing from `seed`: the Disk's (hardware where available). */
export type Crc32c = (data: Uint8Array, seed?: number, start?: number, end?: number) => number;

export const RecordKind = { Entry: 1, HardState: 2, LogBase: 3, Snapshot: 4, LogStart: 5 } as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

/** Length and CRC in front of every record. */
export const RECORD_HEADER_BYTES = 8;
/** A log record's kind + payload may not be longer: a larger length field is garbage, not data. */
export const LOG_RECORD_BYTES_MAX = 64 * 1024 * 1024;
const ENTRY_FIXED_BYTES = 1 + 8 + 8 + 1;
const HARD_STATE_BYTES = 1 + 8 + 8 + 8;
const LOG_BASE_BYTES = 1 + 8 + 8;
const TWO_POW_32 = 2 ** 32;

/** Bytes one entry takes in the log file. */
export function entryRecordBytes(entry: Entry): number {
  return RECORD_HEADER_BYTES + ENTRY_FIXED_BYTES + entry.data.byteLength;
}
export const HARD_STATE_RECORD_BYTES = RECORD_HEADER_BYTES + HARD_STATE_BYTES;
export const LOG_BASE_RECORD_BYTES = RECORD_HEADER_BYTES + LOG_BASE_BYTES;

/** Writes a non-negative safe integer as a big-endian u64 (shared by the Raft files' record formats). */
export function putU64(view: DataView, at: number, n: number): void {
  assert(Number.isSafeInteger(n) && n >= 0, `${n} is not a non-negative safe integer`);
  view.setUint32(at, Math.floor(n / TWO_POW_32));
  view.setUint32(at + 4, n >>> 0);
}

/** A u64 that must fit a safe integer; undefined when it does not (the caller reports corruption). */
export function getU64(view: DataView, at: number): number | undefined {
  const hi = view.getUint32(at);
  if (hi >= 2 ** 21) return undefined;
  return hi * TWO_POW_32 + view.getUint32(at + 4);
}

/** The header plus the fixed part of a record, with the CRC computed over it and `tail`. */
function seal(crc32c: Crc32c, fixed: Uint8Array, tail: Uint8Array | null): Uint8Array {
  const view = new DataView(fixed.buffer, fixed.byteOffset, fixed.byteLength);
  const tailBytes = tail === null ? 0 : tail.byteLength;
  view.setUint32(0, fixed.byteLength - RECORD_HEADER_BYTES + tailBytes);
  let crc = crc32c(fixed, 0, RECORD_HEADER_BYTES, fixed.byteLength);
  if (tail !== null && tailBytes > 0) crc = crc32c(tail, crc);
  view.setUint32(4, crc);
  return fixed;
}

/** An entry as two buffers (header and fixed fields; the data itself, not copied). */
export function encodeEntry(crc32c: Crc32c, entry: Entry): Uint8Array[] {
  assert(entry.data.byteLength <= LOG_RECORD_BYTES_MAX - ENTRY_FIXED_BYTES, `entry ${entry.index} is too large for the log`);
  const fixed = new Uint8Array(RECORD_HEADER_BYTES + ENTRY_FIXED_BYTES);
  const view = new DataView(fixed.buffer);
  view.setUint8(8, RecordKind.Entry);
  putU64(view, 9, entry.term);
  putU64(view, 17, entry.index);
  view.setUint8(25, entry.type);
  const sealed = seal(crc32c, fixed, entry.data);
  return entry.data.byteLength === 0 ? [sealed] : [sealed, entry.data];
}

export function encodeHardState(crc32c: Crc32c, hardState: HardState): Uint8Array {
  const fixed = new Uint8Array(HARD_STATE_RECORD_BYTES);
  const view = new DataView(fixed.buffer);
  view.setUint8(8, RecordKind.HardState);
  putU64(view, 9, hardState.term);
  putU64(view, 17, hardState.vote);
  putU64(view, 25, hardState.commit);
  return seal(crc32c, fixed, null);
}

export function encodeLogBase(crc32c: Crc32c, index: number, term: number, kind: typeof RecordKind.LogBase | typeof RecordKind.LogStart = RecordKind.LogBase): Uint8Array {
  const fixed = new Uint8Array(LOG_BASE_RECORD_BYTES);
  const view = new DataView(fixed.buffer);
  view.setUint8(8, kind);
  putU64(view, 9, index);
  putU64(view, 17, term);
  return seal(crc32c, fixed, null);
}

/** A whole snapshot file: one snapshot record. */
export function encodeSnapshot(crc32c: Crc32c, index: number, term: number, confState: ConfState, data: Uint8Array): Uint8Array {
  const ids = confState.voters.length + confState.learners.length;
  const fixedBytes = RECORD_HEADER_BYTES + 1 + 8 + 8 + 4 + 4 + 8 * ids;
  const out = new Uint8Array(fixedBytes + data.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(8, RecordKind.Snapshot);
  putU64(view, 9, index);
  putU64(view, 17, term);
  let at = 25;
  for (const list of [confState.voters, confState.learners]) {
    view.setUint32(at, list.length);
    at += 4;
    for (const id of list) {
      putU64(view, at, id);
      at += 8;
    }
  }
  assert(at === fixedBytes, 'snapshot header size');
  out.set(data, fixedBytes);
  view.setUint32(0, out.byteLength - RECORD_HEADER_BYTES);
  view.setUint32(4, crc32c(out, 0, RECORD_HEADER_BYTES, out.byteLength));
  return out;
}

/** A decoded log record and the file position it starts at. */
export type LogRecord = { readonly position: number } & (
  | { readonly kind: typeof RecordKind.Entry; readonly entry: Entry }
  | { readonly kind: typeof RecordKind.HardState; readonly hardState: HardState }
  | { readonly kind: typeof RecordKind.LogBase; readonly index: number; readonly term: number }
  | { readonly kind: typeof RecordKind.LogStart; readonly index: number; readonly term: number }
);

export interface SnapshotRecord {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
  readonly data: Uint8Array;
}

export function corruptError(path: string, position: number, reason: string): StreamBusError {
  return new StreamBusError('SB_ERR_CORRUPT', `${path}: ${reason} at position ${position}`);
}

/** Where the record at `position` ends when it is whole and its CRC matches; otherwise why not. */
function checkRecord(crc32c: Crc32c, bytes: Uint8Array, position: number, lengthMax: number): { end: number } | { problem: string } {
  if (bytes.byteLength - position < RECORD_HEADER_BYTES + 1) return { problem: 'incomplete record header' };
  const view = new DataView(bytes.buffer, bytes.byteOffset + position, RECORD_HEADER_BYTES);
  const length = view.getUint32(0);
  if (length < 1 || length > lengthMax) return { problem: `record length ${length} is impossible` };
  const end = position + RECORD_HEADER_BYTES + length;
  if (end > bytes.byteLength) return { problem: `record of ${length} bytes runs past the end of the file` };
  if (crc32c(bytes, 0, position + RECORD_HEADER_BYTES, end) !== view.getUint32(4)) return { problem: 'record CRC mismatch' };
  return { end };
}

function decodeLogRecord(bytes: Uint8Array, start: number, end: number, path: string): LogRecord {
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, end - start);
  const kind = view.getUint8(RECORD_HEADER_BYTES);
  const size = end - start - RECORD_HEADER_BYTES;
  const u64 = (at: number): number => {
    const n = getU64(view, RECORD_HEADER_BYTES + at);
    if (n === undefined) throw corruptError(path, start, 'a number past 2^53 in a record');
    return n;
  };
  if (kind === RecordKind.Entry && size >= ENTRY_FIXED_BYTES) {
    const type = view.getUint8(RECORD_HEADER_BYTES + 17);
    if (type !== 0 && type !== 1) throw corruptError(path, start, `unknown entry type ${type}`);
    // A plain copy: the file's buffer (often a Buffer) is not kept alive by one entry.
    const data = new Uint8Array(bytes.subarray(start + RECORD_HEADER_BYTES + ENTRY_FIXED_BYTES, end));
    return { position: start, kind, entry: { term: u64(1), index: u64(9), type: type as EntryType, data } };
  }
  if (kind === RecordKind.HardState && size === HARD_STATE_BYTES) {
    return { position: start, kind, hardState: { term: u64(1), vote: u64(9), commit: u64(17) } };
  }
  if (kind === RecordKind.LogBase && size === LOG_BASE_BYTES) return { position: start, kind, index: u64(1), term: u64(9) };
  if (kind === RecordKind.LogStart && size === LOG_BASE_BYTES) return { position: start, kind, index: u64(1), term: u64(9) };
  throw corruptError(path, start, `unknown record kind ${kind} of ${size} bytes`);
}

export interface ScanResult {
  readonly records: LogRecord[];
  /** Bytes [0, validBytes) are whole, valid records. */
  readonly validBytes: number;
  /** Why the bytes from validBytes on were dropped (a torn tail), or null when there were none. */
  readonly tornTail: string | null;
}

/**
 * Decodes a log file's records. A torn tail is reported, not thrown; an invalid record with a valid
 * one anywhere after it, or a valid record that does not decode, throws SB_ERR_CORRUPT.
 */
export function scanRecords(crc32c: Crc32c, bytes: Uint8Array, path: string): ScanResult {
  const records: LogRecord[] = [];
  let position = 0;
  while (position < bytes.byteLength) {
    const checked = checkRecord(crc32c, bytes, position, LOG_RECORD_BYTES_MAX);
    if ('end' in checked) {
      records.push(decodeLogRecord(bytes, position, checked.end, path));
      position = checked.end;
      continue;
    }
    // Torn tail or damage in the middle: a torn append leaves nothing valid after it.
    for (let later = position + 1; later + RECORD_HEADER_BYTES < bytes.byteLength; later++) {
      if ('end' in checkRecord(crc32c, bytes, later, LOG_RECORD_BYTES_MAX)) {
        throw corruptError(path, position, `${checked.problem}, followed by a valid record at ${later}`);
      }
    }
    return { records, validBytes: position, tornTail: `${checked.problem} at position ${position}` };
  }
  assert(position === bytes.byteLength, 'scan ended inside a record');
  return { records, validBytes: position, tornTail: null };
}

/** Decodes a snapshot file; throws SB_ERR_CORRUPT naming the file when it is not one whole, valid snapshot record. */
export function decodeSnapshot(crc32c: Crc32c, bytes: Uint8Array, path: string): SnapshotRecord {
  const checked = checkRecord(crc32c, bytes, 0, Number.MAX_SAFE_INTEGER);
  if (!('end' in checked)) throw corruptError(path, 0, `snapshot file: ${checked.problem}`);
  if (checked.end !== bytes.byteLength) throw corruptError(path, checked.end, 'snapshot file: bytes after the snapshot record');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = RECORD_HEADER_BYTES;
  const need = (n: number): void => {
    if (at + n > bytes.byteLength) throw corruptError(path, at, 'snapshot file: truncated header');
  };
  need(1 + 16 + 4);
  if (view.getUint8(at) !== RecordKind.Snapshot) throw corruptError(path, at, 'snapshot file: not a snapshot record');
  const index = getU64(view, at + 1);
  const term = getU64(view, at + 9);
  if (index === undefined || term === undefined) throw corruptError(path, at, 'snapshot file: a number past 2^53');
  at += 17;
  const lists: number[][] = [];
  for (let l = 0; l < 2; l++) {
    need(4);
    const count = view.getUint32(at);
    at += 4;
    need(8 * count);
    const ids: number[] = [];
    for (let i = 0; i < count; i++, at += 8) {
      const id = getU64(view, at);
      if (id === undefined) throw corruptError(path, at, 'snapshot file: a node id past 2^53');
      ids.push(id);
    }
    lists.push(ids);
  }
  return { index, term, confState: { voters: lists[0]!, learners: lists[1]! }, data: new Uint8Array(bytes.subarray(at)) };
}
