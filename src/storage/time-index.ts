/**
 * Sparse time index of one segment: for offsetForTimestamp and for retention by time.
 * An entry (timestamp T, offset O) says: every batch with base offset <= O has maxTimestamp <= T,
 * and T is the greatest maxTimestamp seen up to the batch at O. Entries are added next to offset
 * index entries when T grew, and once more when the segment is sealed, so the last entry holds the
 * segment's greatest timestamp.
 *
 * File format (`<base>.timeindex`), big-endian, 12 bytes per entry:
 *   0  timestamp       int64   milliseconds
 *   8  relativeOffset  uint32  offset - segment baseOffset
 * Timestamps and offsets strictly increase. Like the offset index it is a cache: rebuilt after a
 * crash and whenever it fails validation.
 */
import { assert } from '../util/assert.ts';
import { readInt64, writeInt64 } from '../util/big-endian.ts';

export const TIME_INDEX_ENTRY_BYTES = 12;

export class TimeIndex {
  #timestamps: number[] = [];
  #offsets: number[] = [];

  constructor(readonly baseOffset: number) {}

  get count(): number {
    return this.#offsets.length;
  }

  /** The greatest timestamp recorded, or -1 when empty. */
  get maxTimestamp(): number {
    return this.#timestamps.length ? this.#timestamps[this.#timestamps.length - 1]! : -1;
  }

  /** Records (timestamp, offset) when both exceed the last entry; otherwise does nothing. */
  maybeAppend(timestamp: number, offset: number): void {
    assert(offset >= this.baseOffset, 'time index offset below the segment base');
    const n = this.#offsets.length;
    if (n > 0 && (timestamp <= this.#timestamps[n - 1]! || offset <= this.#offsets[n - 1]!)) return;
    assert(offset - this.baseOffset <= 0xffff_ffff, 'time index offset outside the segment range');
    this.#timestamps.push(timestamp);
    this.#offsets.push(offset);
  }

  /** The offset of the last entry, or -1 when empty. */
  get lastOffset(): number {
    return this.#offsets.length ? this.#offsets[this.#offsets.length - 1]! : -1;
  }

  /**
   * Where a search for the first batch with maxTimestamp >= `timestamp` may start: the offset of the
   * last entry whose timestamp is below it (no earlier batch can match), or the segment base.
   */
  lookup(timestamp: number): number {
    let lo = 0;
    let hi = this.#timestamps.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#timestamps[mid]! < timestamp) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? this.baseOffset : this.#offsets[found]!;
  }

  /** Drops entries at or after `offset` (the log was truncated there). */
  truncateToOffset(offset: number): void {
    while (this.#offsets.length > 0 && this.#offsets[this.#offsets.length - 1]! >= offset) {
      this.#offsets.pop();
      this.#timestamps.pop();
    }
  }

  toBytes(): Buffer {
    const out = Buffer.allocUnsafe(this.#offsets.length * TIME_INDEX_ENTRY_BYTES);
    for (let i = 0; i < this.#offsets.length; i++) {
      writeInt64(out, i * 12, this.#timestamps[i]!);
      out.writeUInt32BE(this.#offsets[i]! - this.baseOffset, i * 12 + 8);
    }
    return out;
  }

  /** Parses a time index file; undefined when invalid or when it names offsets at/after `endOffset`. */
  static fromBytes(baseOffset: number, bytes: Uint8Array, endOffset: number): TimeIndex | undefined {
    if (bytes.length % TIME_INDEX_ENTRY_BYTES !== 0) return undefined;
    const index = new TimeIndex(baseOffset);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < bytes.length; i += TIME_INDEX_ENTRY_BYTES) {
      const timestamp = readInt64(bytes, i);
      const offset = baseOffset + view.getUint32(i + 8);
      const n = index.#offsets.length;
      if (offset >= endOffset) return undefined;
      if (n > 0 && (timestamp <= index.#timestamps[n - 1]! || offset <= index.#offsets[n - 1]!)) return undefined;
      index.#timestamps.push(timestamp);
      index.#offsets.push(offset);
    }
    return index;
  }
}
