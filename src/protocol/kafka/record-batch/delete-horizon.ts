/**
 * A batch's delete horizon (KIP-534): attributes bit 6 says the baseTimestamp field holds the time
 * after which log compaction may remove what the batch keeps only for readers that lag (Kafka stamps
 * it on transaction markers whose transaction has nothing left in the log, and on tombstones). The
 * records keep their own timestamps: each one's timestampDelta is rebased on the new baseTimestamp,
 * as Kafka's cleaner does, so a client reading baseTimestamp + timestampDelta sees what it saw before.
 */
import { assert } from '../../../util/assert.ts';
import { writeInt16, writeInt32, writeInt64 } from '../../../util/big-endian.ts';
import { crc32c } from '../../../util/crc32c.ts';
import { Reader } from '../reader.ts';
import { Writer } from '../writer.ts';
import {
  Attributes,
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  Compression,
  Offsets,
  batchSizeAt,
  compressionOf,
  readAttributes,
  readBaseTimestamp,
  writeBatchCrc,
  type CrcFunction,
} from './header.ts';
import { forEachRecord } from './records.ts';

/** The delete horizon (ms since the epoch) of the batch at `at`, or null when it has none. */
export function readDeleteHorizonMs(b: Uint8Array, at: number): number | null {
  return (readAttributes(b, at) & Attributes.hasDeleteHorizonMs) === 0 ? null : readBaseTimestamp(b, at);
}

/**
 * A copy of the uncompressed batch at the start of `batch` with delete horizon `horizonMs`: bit 6
 * set, baseTimestamp = horizonMs, every record's timestampDelta rebased, batchLength and CRC
 * recomputed; every other header field as it was. Throws SB_ERR_INVALID_BATCH on malformed records.
 */
export function withDeleteHorizon(batch: Buffer, horizonMs: number, crc: CrcFunction = crc32c): Buffer {
  const size = batchSizeAt(batch, 0);
  assert(size >= BATCH_HEADER_BYTES && size <= batch.length, 'a delete horizon for a batch that is not all there');
  assert(compressionOf(readAttributes(batch, 0)) === Compression.none, 'a delete horizon is only written on uncompressed batches');
  assert(Number.isSafeInteger(horizonMs), 'the delete horizon is a whole number of milliseconds');
  const baseTimestamp = readBaseTimestamp(batch, 0);
  const body = new Writer(size);
  forEachRecord(batch, 0, (record, start, end) => {
    // Everything after the timestamp delta (offset delta, key, value, headers) is copied as it is.
    const r = new Reader(batch, start, end);
    r.varint();
    r.int8();
    r.varlongNumber();
    const inner = new Writer(end - start + 10);
    inner.int8(record.attributes);
    inner.varlongNumber(baseTimestamp + record.timestampDelta - horizonMs);
    inner.raw(batch.subarray(r.pos, end));
    const bytes = inner.toBuffer();
    body.varint(bytes.length);
    body.raw(bytes);
  });
  const records = body.toBuffer();
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + records.length);
  batch.copy(out, 0, 0, BATCH_HEADER_BYTES);
  records.copy(out, BATCH_HEADER_BYTES);
  writeInt32(out, Offsets.batchLength, out.length - BATCH_LOG_OVERHEAD);
  writeInt16(out, Offsets.attributes, readAttributes(batch, 0) | Attributes.hasDeleteHorizonMs);
  writeInt64(out, Offsets.baseTimestamp, horizonMs);
  writeBatchCrc(out, 0, crc);
  return out;
}
