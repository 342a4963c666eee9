/**
 * Sparse offset index of one segment: maps a batch's base offset to its byte position in the .log,
 * one entry per `indexIntervalBytes` of log. Lookups binary-search it, then walk batch headers.
 *
 * File format (`<base>.index`), big-endian, 8 bytes per entry, nothing else:
 *   0  relativeOffset  uint32  batch baseOffset - segment baseOffset
 *   4  position        uint32  byte position of that batch in the .log
 * Entries strictly increase in both fields. The file is written when a segment is sealed and on a
 * clean close; it is a cache, never the source of truth: recovery after a crash rebuilds it from the
 * log, and a file that fails validation (size, ordering, positions past the log) is rebuilt too.
 */
import { assert } from '../util/assert.ts';

export const OFFSET_INDEX_ENTRY_BYTES = 8;
const UINT32_MAX = 0xffff_ffff;

export class OffsetIndex {
  #entries: Uint32Array; // pairs: relativeOffset, position
  #count = 0;

  constructor(readonly baseOffset: number, capacity = 16) {
    this.#entries = new Uint32Array(Math.max(2, capacity * 2));
  }

  get count(): number {
    return this.#count;
  }

  /** Adds an entry; offsets and positions must increase. */
  append(offset: number, position: number): void {
    const relative = offset - this.baseOffset;
    assert(relative >= 0 && relative <= UINT32_MAX, 'index offset outside the segment range');
    assert(position >= 0 && position <= UINT32_MAX, 'index position beyond 4 GiB');
    if (this.#count > 0) {
      assert(relative > this.#entries[(this.#count - 1) * 2]!, 'index offsets must increase');
      assert(position > this.#entries[(this.#count - 1) * 2 + 1]!, 'index positions must increase');
    }
    if ((this.#count + 1) * 2 > this.#entries.length) {
      const grown = new Uint32Array(this.#entries.length * 2);
      grown.set(this.#entries);
      this.#entries = grown;
    }
    this.#entries[this.#count * 2] = relative;
    this.#entries[this.#count * 2 + 1] = position;
    this.#count++;
  }

  /** The entry with the greatest offset <= `offset`, or the segment start when there is none. */
  lookup(offset: number): { offset: number; position: number } {
    const relative = offset - this.baseOffset;
    let lo = 0;
    let hi = this.#count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#entries[mid * 2]! <= relative) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + this.#entries[found * 2]!, position: this.#entries[found * 2 + 1]! };
  }

  /** The last entry, or undefined when empty. */
  last(): { offset: number; position: number } | undefined {
    if (this.#count === 0) return undefined;
    const i = (this.#count - 1) * 2;
    return { offset: this.baseOffset + this.#entries[i]!, position: this.#entries[i + 1]! };
  }

  /** Drops entries whose position is >= `position` (the log was truncated there). */
  truncateToPosition(position: number): void {
    while (this.#count > 0 && this.#entries[(this.#count - 1) * 2 + 1]! >= position) this.#count--;
  }

  toBytes(): Buffer {
    const out = Buffer.allocUnsafe(this.#count * OFFSET_INDEX_ENTRY_BYTES);
    for (let i = 0; i < this.#count; i++) {
      out.writeUInt32BE(this.#entries[i * 2]!, i * 8);
      out.writeUInt32BE(this.#entries[i * 2 + 1]!, i * 8 + 4);
    }
    return out;
  }

  /** Parses an index file; undefined when it is not a valid index for a log of `logSize` bytes. */
  static fromBytes(baseOffset: number, bytes: Uint8Array, logSize: number): OffsetIndex | undefined {
    if (bytes.length % OFFSET_INDEX_ENTRY_BYTES !== 0) return undefined;
    const count = bytes.length / OFFSET_INDEX_ENTRY_BYTES;
    const index = new OffsetIndex(baseOffset, count);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let prevRelative = -1;
    let prevPosition = -1;
    for (let i = 0; i < count; i++) {
      const relative = view.getUint32(i * 8);
      const position = view.getUint32(i * 8 + 4);
      if (relative <= prevRelative || position <= prevPosition || position >= logSize) return undefined;
      index.append(baseOffset + relative, position);
      prevRelative = relative;
      prevPosition = position;
    }
    return index;
  }
}
