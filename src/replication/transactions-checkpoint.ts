/**
 * The transactions checkpoint of a partition: the tracker's state (partition-transactions.ts) as of
 * an offset, written as a side file of the partition's log when the broker closes the partition
 * cleanly, so that the next open scans the log only from that offset rather than from its start.
 *
 * Layout (big-endian), file `transactions.checkpoint`:
 *   version u8 (1) | observedEnd u64
 *   | openCount u32    | openCount    x (producerId i64, firstOffset u64)
 *   | closedCount u32  | closedCount  x (firstOffset u64, markerOffset u64)
 *   | abortedCount u32 | abortedCount x (producerId i64, firstOffset u64, lastOffset u64)
 *   | crc32c u32 of every byte before it
 * Crash behaviour: written atomically (temp file, rename) and removed durably as the partition opens,
 * before anything can change the log again, so one that exists was written after the last change to
 * the log below observedEnd. A torn, foreign or inconsistent file is not an error: the caller scans
 * the whole log instead, as it does without a file.
 */
import { crc32c } from '../util/crc32c.ts';
import type { TransactionsState } from './partition-transactions.ts';

export const TRANSACTIONS_CHECKPOINT_FILE = 'transactions.checkpoint';
const VERSION = 1;
const TWO_POW_32 = 2 ** 32;

export function encodeTransactionsCheckpoint(state: TransactionsState): Uint8Array {
  const size = 1 + 8 + 4 + state.open.length * 16 + 4 + state.closed.length * 16 + 4 + state.aborted.length * 24 + 4;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  const u64 = (n: number): void => {
    view.setUint32(at, Math.floor(n / TWO_POW_32));
    view.setUint32(at + 4, n >>> 0);
    at += 8;
  };
  const i64 = (n: bigint): void => {
    view.setBigInt64(at, n);
    at += 8;
  };
  const u32 = (n: number): void => {
    view.setUint32(at, n);
    at += 4;
  };
  view.setUint8(at++, VERSION);
  u64(state.observedEnd);
  u32(state.open.length);
  for (const t of state.open) (i64(t.producerId), u64(t.firstOffset));
  u32(state.closed.length);
  for (const t of state.closed) (u64(t.firstOffset), u64(t.markerOffset));
  u32(state.aborted.length);
  for (const t of state.aborted) (i64(t.producerId), u64(t.firstOffset), u64(t.lastOffset));
  u32(crc32c(out, 0, 0, at));
  return out;
}

/** The state a checkpoint holds, or null when the bytes are not a whole, consistent version 1 checkpoint. */
export function decodeTransactionsCheckpoint(data: Uint8Array): TransactionsState | null {
  if (data.byteLength < 1 + 8 + 12 + 4 || data[0] !== VERSION) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const body = data.byteLength - 4;
  if (view.getUint32(body) !== crc32c(data, 0, 0, body)) return null;
  let at = 1;
  let broken = false;
  const room = (bytes: number): boolean => {
    if (at + bytes > body) broken = true;
    return !broken;
  };
  const u64 = (): number => {
    if (!room(8)) return 0;
    const n = view.getUint32(at) * TWO_POW_32 + view.getUint32(at + 4);
    at += 8;
    if (!Number.isSafeInteger(n)) broken = true;
    return n;
  };
  const i64 = (): bigint => {
    if (!room(8)) return 0n;
    const n = view.getBigInt64(at);
    at += 8;
    return n;
  };
  const count = (entryBytes: number): number => {
    if (!room(4)) return 0;
    const n = view.getUint32(at);
    at += 4;
    return room(n * entryBytes) ? n : 0;
  };
  const observedEnd = u64();
  const open = Array.from({ length: count(16) }, () => ({ producerId: i64(), firstOffset: u64() }));
  const closed = Array.from({ length: count(16) }, () => ({ firstOffset: u64(), markerOffset: u64() }));
  const aborted = Array.from({ length: count(24) }, () => ({ producerId: i64(), firstOffset: u64(), lastOffset: u64() }));
  if (broken || at !== body) return null;
  // Everything it describes lies below the offset it was taken at.
  if (open.some((t) => t.firstOffset >= observedEnd) || closed.some((t) => t.markerOffset >= observedEnd) || aborted.some((t) => t.lastOffset >= observedEnd)) return null;
  return { observedEnd, open, closed, aborted };
}
