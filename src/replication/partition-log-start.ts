/**
 * DeleteRecords as a Raft entry of a partition's group: a normal entry of exactly 8 bytes holding
 * the new log start offset (u64, big-endian). A record batch is at least 61 bytes (its header), so a
 * log start entry and a data entry never mix up. Committed, it moves the log start consumers see on
 * every replica alike (partition-replica.ts); retention then deletes the segments wholly below it
 * (partition-replicas.ts). It takes no offsets, like a no-op, and is kept inline in raft.index.
 */
import { assert } from '../util/assert.ts';
import { EntryType, type Entry } from '../raft/index.ts';

export const LOG_START_ENTRY_BYTES = 8;
const TWO_POW_32 = 2 ** 32;

export function encodeLogStart(offset: number): Uint8Array {
  assert(Number.isSafeInteger(offset) && offset >= 0, 'a log start is a non-negative safe integer');
  const out = new Uint8Array(LOG_START_ENTRY_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(offset / TWO_POW_32));
  view.setUint32(4, offset >>> 0);
  return out;
}

export function decodeLogStart(data: Uint8Array): number {
  assert(data.byteLength === LOG_START_ENTRY_BYTES, 'a log start entry is 8 bytes');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const offset = view.getUint32(0) * TWO_POW_32 + view.getUint32(4);
  assert(Number.isSafeInteger(offset), 'log start beyond the safe integers');
  return offset;
}

export function isLogStartEntry(entry: Entry): boolean {
  return entry.type === EntryType.Normal && entry.data.byteLength === LOG_START_ENTRY_BYTES;
}
