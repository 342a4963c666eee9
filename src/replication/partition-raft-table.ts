/**
 * What a partition Raft log keeps in memory for every retained Raft index, so that the core's
 * synchronous reads (term, first and last index) and the store's own bookkeeping (where an entry's
 * batch starts, what to truncate, the next offset at a snapshot) never wait for a file:
 *   - the start offset (8 bytes) and kind (1 byte) of each entry in [firstIndex, lastIndex], in
 *     typed arrays used as a deque (compaction drops the front, truncation the back);
 *   - the inline payloads of conf-change and log-start entries (rare) in a map;
 *   - the terms as runs (first index of each run -> term): terms change rarely, so a handful of
 *     runs answers term() for every index.
 * The batch bytes are not here: they stay in the segment log (entry-cache.ts keeps recent ones).
 * Nine bytes per retained entry is bounded by compaction: the owner compacts after each snapshot.
 */
import { assert } from '../util/assert.ts';
import { carriesPayload, type EntryKind } from './partition-raft-index.ts';

const INITIAL_CAPACITY = 64;
const EMPTY = new Uint8Array(0);

export class PartitionRaftTable {
  /** Raft index of the first retained entry. */
  first: number;
  /** Term of first - 1 (the snapshot's, or of the last compacted entry). */
  prevTerm: number;
  /** Kafka log end after the last entry: where entry last + 1 will start. */
  endOffset: number;
  private starts = new Float64Array(INITIAL_CAPACITY);
  private kinds = new Uint8Array(INITIAL_CAPACITY);
  private head = 0;
  private count = 0;
  private readonly payloads = new Map<number, Uint8Array>();
  /** [first index of run, term] pairs, ascending, covering [first, last]. */
  private runs: number[] = [];

  constructor(first: number, prevTerm: number, startOffset: number) {
    assert(first >= 1, 'Raft indexes start at 1');
    this.first = first;
    this.prevTerm = prevTerm;
    this.endOffset = startOffset;
  }

  get last(): number {
    return this.first + this.count - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Appends entry last + 1. */
  push(term: number, kind: EntryKind, startOffset: number, payload: Uint8Array): void {
    const index = this.last + 1;
    assert(startOffset === this.endOffset, `entry ${index} starts at ${startOffset}, the log ends at ${this.endOffset}`);
    assert(term >= this.lastTerm(), `entry ${index} has term ${term} below the previous entry's`);
    if (this.head + this.count === this.starts.length) this.grow();
    this.starts[this.head + this.count] = startOffset;
    this.kinds[this.head + this.count] = kind;
    this.count++;
    if (carriesPayload(kind)) this.payloads.set(index, payload);
    if (this.runs.length === 0 || this.runs[this.runs.length - 1] !== term) this.runs.push(index, term);
  }

  /** Records that entry `index` (just pushed, a data entry) ends before `nextOffset`. */
  setEnd(nextOffset: number): void {
    assert(nextOffset >= this.endOffset, 'the log end went back');
    this.endOffset = nextOffset;
  }

  private grow(): void {
    if (this.head > 0 && this.count * 2 <= this.starts.length) {
      this.starts.copyWithin(0, this.head, this.head + this.count);
      this.kinds.copyWithin(0, this.head, this.head + this.count);
    } else {
      const starts = new Float64Array(this.starts.length * 2);
      const kinds = new Uint8Array(this.kinds.length * 2);
      starts.set(this.starts.subarray(this.head, this.head + this.count));
      kinds.set(this.kinds.subarray(this.head, this.head + this.count));
      this.starts = starts;
      this.kinds = kinds;
    }
    this.head = 0;
  }

  private slot(index: number): number {
    assert(index >= this.first && index <= this.last, `Raft index ${index} outside [${this.first}, ${this.last}]`);
    return this.head + index - this.first;
  }

  kind(index: number): EntryKind {
    return this.kinds[this.slot(index)] as EntryKind;
  }

  /** The Kafka offset entry `index` starts at, for index in [first, last + 1]. */
  startOffset(index: number): number {
    if (index === this.last + 1) return this.endOffset;
    return this.starts[this.slot(index)]!;
  }

  /** The Kafka log end as of entry `index` (one past its last offset), for index in [first - 1, last]. */
  endOffsetAt(index: number): number {
    return this.startOffset(index + 1);
  }

  payload(index: number): Uint8Array {
    return this.payloads.get(index) ?? EMPTY;
  }

  /** The retained indexes up to `upTo` whose entries carry a payload (conf changes, log starts), in no order. */
  payloadIndexes(upTo: number): number[] {
    return [...this.payloads.keys()].filter((index) => index <= upTo);
  }

  /** The term of `index` in [first - 1, last]. */
  term(index: number): number {
    if (index === this.first - 1) return this.prevTerm;
    assert(index >= this.first && index <= this.last, `no term for Raft index ${index}`);
    // The last run starting at or before index: binary search over the pairs.
    let lo = 0;
    let hi = this.runs.length / 2 - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.runs[mid * 2]! <= index) lo = mid;
      else hi = mid - 1;
    }
    return this.runs[lo * 2 + 1]!;
  }

  lastTerm(): number {
    return this.count === 0 ? this.prevTerm : this.runs[this.runs.length - 1]!;
  }

  /** Drops entries index and later; the log end becomes where `index` started. */
  truncateFrom(index: number): void {
    assert(index >= this.first && index <= this.last + 1, 'truncation outside the log');
    const end = this.startOffset(index);
    for (let i = index; i <= this.last; i++) this.payloads.delete(i);
    this.count = index - this.first;
    this.endOffset = end;
    while (this.runs.length > 0 && this.runs[this.runs.length - 2]! >= index) this.runs.length -= 2;
  }

  /** Drops entries before `index` (at most last + 1); the term of index - 1 is kept. */
  compactTo(index: number): void {
    if (index <= this.first) return;
    assert(index <= this.last + 1, 'compaction past the last entry');
    this.prevTerm = this.term(index - 1);
    for (const key of this.payloads.keys()) if (key < index) this.payloads.delete(key);
    const dropped = index - this.first;
    this.head += dropped;
    this.count -= dropped;
    this.first = index;
    // Keep the run that covers `index`, starting at it.
    let keep = 0;
    while (keep + 2 < this.runs.length && this.runs[keep + 2]! <= index) keep += 2;
    this.runs = this.runs.slice(keep);
    if (this.runs.length > 0) this.runs[0] = Math.max(this.runs[0]!, index);
    if (this.count === 0) {
      this.head = 0;
      this.runs = [];
    }
  }

  /** Empties the table: the log restarts after (index, term), at Kafka offset `nextOffset`. */
  reset(index: number, term: number, nextOffset: number): void {
    this.first = index + 1;
    this.prevTerm = term;
    this.endOffset = nextOffset;
    this.head = 0;
    this.count = 0;
    this.payloads.clear();
    this.runs = [];
  }

  /** The first index whose entry starts at or after `offset` (last + 1 when none). */
  firstIndexAtOrAfter(offset: number): number {
    let lo = this.first;
    let hi = this.last + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.startOffset(mid) >= offset) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
