/**
 * Finds the values of one record header (such as W3C `traceparent`) in a v2 batch without building
 * record objects: a walk over the records' varints that skips keys and values and compares header keys
 * byte by byte. Used by tracing, which must cost little on the produce path (docs/tracing.md).
 *
 * Contract: never throws. A malformed batch (or record) ends the walk and returns what was found before
 * it; the produce path checks the batch itself and answers the client. Values are copied out as
 * latin1 strings (traceparent is ASCII), so nothing keeps the request frame alive.
 */
import { decompress } from '../compression/index.ts';
import { BATCH_HEADER_BYTES, Compression, Offsets, batchSizeAt, compressionOf, readAttributes, readRecordsCount } from './header.ts';

/** Cap on what a compressed batch may decompress to for a header look-up (a bomb costs no more than this). */
const SCAN_MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024;

/** A zigzag varint read at `state.pos`; returns null when it runs past `end` or is longer than 5 bytes. */
function varint(b: Uint8Array, state: { pos: number }, end: number): number | null {
  let shift = 0;
  let u = 0;
  for (let i = 0; i < 5; i++) {
    if (state.pos >= end) return null;
    const byte = b[state.pos++]!;
    u |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return (u >>> 1) ^ -(u & 1);
    shift += 7;
  }
  return null;
}

/** Skips a zigzag varlong (up to 10 bytes). */
function skipVarlong(b: Uint8Array, state: { pos: number }, end: number): boolean {
  for (let i = 0; i < 10; i++) {
    if (state.pos >= end) return false;
    if ((b[state.pos++]! & 0x80) === 0) return true;
  }
  return false;
}

function sameBytes(b: Uint8Array, at: number, key: Uint8Array): boolean {
  for (let i = 0; i < key.length; i++) if (b[at + i] !== key[i]) return false;
  return true;
}

/**
 * Appends to `out` the values of header `key` in records [0, maxRecords) of the records area
 * `b[start, end)` holding `count` records, stopping when `out` holds `maxValues`.
 */
function scanRecords(b: Buffer, start: number, end: number, count: number, key: Uint8Array, maxRecords: number, out: string[], maxValues: number): void {
  const state = { pos: start };
  const records = Math.min(count, maxRecords);
  for (let r = 0; r < records && out.length < maxValues; r++) {
    const length = varint(b, state, end);
    if (length === null || length < 0 || state.pos + length > end) return;
    const recordEnd = state.pos + length;
    state.pos += 1; // attributes
    if (!skipVarlong(b, state, recordEnd)) return; // timestampDelta
    if (varint(b, state, recordEnd) === null) return; // offsetDelta
    for (let field = 0; field < 2; field++) {
      const n = varint(b, state, recordEnd); // key, then value
      if (n === null || n < -1 || state.pos + Math.max(n, 0) > recordEnd) return;
      state.pos += Math.max(n, 0);
    }
    const headers = varint(b, state, recordEnd);
    if (headers === null || headers < 0) return;
    for (let h = 0; h < headers; h++) {
      const keyLength = varint(b, state, recordEnd);
      if (keyLength === null || keyLength < 0 || state.pos + keyLength > recordEnd) return;
      const match = keyLength === key.length && sameBytes(b, state.pos, key);
      state.pos += keyLength;
      const valueLength = varint(b, state, recordEnd);
      if (valueLength === null || valueLength < -1 || state.pos + Math.max(valueLength, 0) > recordEnd) return;
      if (match && valueLength >= 0) {
        out.push(b.toString('latin1', state.pos, state.pos + valueLength));
        if (out.length >= maxValues) return;
      }
      state.pos += Math.max(valueLength, 0);
    }
    state.pos = recordEnd;
  }
}

export interface HeaderScan {
  /** Header name, as bytes (e.g. Buffer.from('traceparent')). */
  readonly key: Uint8Array;
  /** Look at records [0, maxRecords) of the batch only. */
  readonly maxRecords: number;
  /** Stop once this many values were found (across calls sharing `out`). */
  readonly maxValues: number;
  /** Decompress compressed batches (costly: only for requests already chosen for it). */
  readonly decompress: boolean;
}

/**
 * Appends to `out` the values of header `scan.key` in the one batch at the start of `batch` (a Produce
 * partition's records field). Compressed batches are skipped unless `scan.decompress`.
 */
export function scanHeaderValues(batch: Buffer | null, scan: HeaderScan, out: string[]): void {
  if (batch === null || batch.length < BATCH_HEADER_BYTES || out.length >= scan.maxValues) return;
  const size = batchSizeAt(batch, 0);
  if (size < BATCH_HEADER_BYTES || size > batch.length) return;
  const count = readRecordsCount(batch, 0);
  const codec = compressionOf(readAttributes(batch, 0));
  if (codec === Compression.none) {
    scanRecords(batch, Offsets.records, size, count, scan.key, scan.maxRecords, out, scan.maxValues);
    return;
  }
  if (!scan.decompress) return;
  let body: Buffer;
  try {
    body = decompress(codec, batch.subarray(Offsets.records, size), SCAN_MAX_DECOMPRESSED_BYTES);
  } catch {
    return; // the append path reports a batch that does not decompress
  }
  scanRecords(body, 0, body.length, count, scan.key, scan.maxRecords, out, scan.maxValues);
}
