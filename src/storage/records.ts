/**
 * Record-level view of an uncompressed record batch v2, for compaction (keys, null values) and
 * exact timestamp lookups. Records follow the 61-byte batch header:
 *   length varint (zigzag) | attributes int8 | timestampDelta varlong | offsetDelta varint |
 *   keyLength varint (-1 = null) | key | valueLength varint (-1 = null) | value |
 *   headerCount varint | headers (keyLength varint, key, valueLength varint, value)*
 * Compressed batches are not opened here (their records are kept whole by compaction).
 */
import { StreamBusError } from '../util/errors.ts';
import { BASE_TIMESTAMP_AT, BATCH_HEADER_BYTES, baseOffset, batchSize, readInt64, recordCount } from './batch-header.ts';

export interface RecordView {
  /** Absolute offset: batch base offset + offsetDelta. */
  offset: number;
  timestamp: number;
  /** The key bytes (a view), or undefined for a null key. */
  key: Buffer | undefined;
  /** True when the value is null: a tombstone. */
  valueIsNull: boolean;
  /** Where the record's bytes (length prefix included) start and end within the batch buffer. */
  start: number;
  end: number;
}

function bad(reason: string): StreamBusError {
  return new StreamBusError('SB_ERR_INVALID_BATCH', `malformed record: ${reason}`);
}

/** Reads a zigzag varint (up to 64 bits, as a double) at `pos`; returns [value, next position]. */
function varint(b: Uint8Array, pos: number, end: number): [number, number] {
  let raw = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw bad('varint runs past the end');
    const byte = b[pos++]!;
    raw += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) {
      // zigzag: even -> raw/2, odd -> -(raw+1)/2
      const value = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
      return [value, pos];
    }
    scale *= 128;
  }
  throw bad('varint longer than 10 bytes');
}

/** Calls `visit` for each record of the uncompressed batch at `batch[at...]`. */
export function forEachRecord(batch: Buffer, at: number, visit: (record: RecordView) => void): void {
  const end = at + batchSize(batch, at);
  const base = baseOffset(batch, at);
  const baseTimestamp = readInt64(batch, at + BASE_TIMESTAMP_AT);
  const count = recordCount(batch, at);
  let pos = at + BATCH_HEADER_BYTES;
  const view: RecordView = { offset: 0, timestamp: 0, key: undefined, valueIsNull: false, start: 0, end: 0 };
  for (let i = 0; i < count; i++) {
    const start = pos;
    let length: number;
    [length, pos] = varint(batch, pos, end);
    const recordEnd = pos + length;
    if (length < 0 || recordEnd > end) throw bad(`record length ${length} out of bounds`);
    pos += 1; // attributes
    let timestampDelta: number;
    let offsetDelta: number;
    let keyLength: number;
    let valueLength: number;
    [timestampDelta, pos] = varint(batch, pos, recordEnd);
    [offsetDelta, pos] = varint(batch, pos, recordEnd);
    [keyLength, pos] = varint(batch, pos, recordEnd);
    if (keyLength < -1 || pos + Math.max(0, keyLength) > recordEnd) throw bad('key out of bounds');
    view.key = keyLength < 0 ? undefined : batch.subarray(pos, pos + keyLength);
    pos += Math.max(0, keyLength);
    [valueLength, pos] = varint(batch, pos, recordEnd);
    if (valueLength < -1 || pos + Math.max(0, valueLength) > recordEnd) throw bad('value out of bounds');
    view.valueIsNull = valueLength < 0;
    view.offset = base + offsetDelta;
    view.timestamp = baseTimestamp + timestampDelta;
    view.start = start;
    view.end = recordEnd;
    visit(view);
    pos = recordEnd;
  }
  if (pos !== end) throw bad(`records end at ${pos - at}, the batch at ${end - at}`);
}
