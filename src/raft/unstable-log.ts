import { assert } from '../util/assert.ts';
import type { Entry, Snapshot } from './messages.ts';

/**
 * The tail of the log that the core holds but the driver has not yet made durable: an optional
 * incoming snapshot, then entries starting at `offset`. Entries below `offsetInProgress` were
 * handed out in a Ready whose advance() has not come back yet; they must not be handed out again.
 *
 * When a new leader overwrites part of this tail while a Ready is outstanding, `offsetInProgress`
 * falls back to the truncation point so the replacement entries are handed out in the next Ready,
 * and the outstanding Ready's stableTo() no longer matches (different term at that index) and is
 * ignored: the stale entries are simply never acknowledged.
 */
export class UnstableLog {
  snapshot: Snapshot | null = null;
  snapshotInProgress = false;
  entries: Entry[] = [];
  offset: number;
  offsetInProgress: number;

  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  /** The index of the first entry, if the unstable tail starts with a snapshot. */
  maybeFirstIndex(): number {
    return this.snapshot === null ? 0 : this.snapshot.metadata.index + 1;
  }

  /** The last index held here (entry or snapshot), or 0 when there is none. */
  maybeLastIndex(): number {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === null ? 0 : this.snapshot.metadata.index;
  }

  /** The term at `index` if this tail knows it, else -1. */
  maybeTerm(index: number): number {
    if (index < this.offset) {
      if (this.snapshot !== null && this.snapshot.metadata.index === index) return this.snapshot.metadata.term;
      return -1;
    }
    const entry = this.entries[index - this.offset];
    return entry === undefined ? -1 : entry.term;
  }

  hasNextEntries(): boolean {
    return this.offsetInProgress < this.offset + this.entries.length;
  }

  /** Entries not yet handed out, in order (a fresh array). */
  nextEntries(): Entry[] {
    const start = this.offsetInProgress - this.offset;
    return start === 0 ? this.entries.slice() : this.entries.slice(start);
  }

  hasNextSnapshot(): boolean {
    return this.snapshot !== null && !this.snapshotInProgress;
  }

  /** Marks everything currently held as handed out in a Ready. */
  acceptInProgress(): void {
    if (this.entries.length > 0) this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot !== null) this.snapshotInProgress = true;
  }

  /** The driver made entries up to `index` (with term `term`) durable. Ignored if that entry was replaced since. */
  stableTo(index: number, term: number): void {
    if (index < this.offset) return;
    if (this.maybeTerm(index) !== term) return;
    const count = index + 1 - this.offset;
    this.entries = count === this.entries.length ? [] : this.entries.slice(count);
    this.offset = index + 1;
    if (this.offsetInProgress < this.offset) this.offsetInProgress = this.offset;
  }

  /** The driver made the snapshot at `index` durable. */
  stableSnapshotTo(index: number): void {
    if (this.snapshot !== null && this.snapshot.metadata.index === index) {
      this.snapshot = null;
      this.snapshotInProgress = false;
    }
  }

  /** Replaces everything by a snapshot from the leader. */
  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = snapshot;
    this.snapshotInProgress = false;
  }

  /** Appends entries, truncating any held entries at or after `entries[0].index` (possibly all of them). */
  truncateAndAppend(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const after = entries[0]!.index;
    const end = this.offset + this.entries.length;
    if (after === end) {
      for (let i = 0; i < entries.length; i++) this.entries.push(entries[i]!);
    } else if (after <= this.offset) {
      // The new entries replace the whole unstable tail and possibly part of the stable log; the
      // driver's append truncates storage at `after` when it persists them.
      this.offset = after;
      this.offsetInProgress = after;
      this.entries = entries.slice();
    } else {
      assert(after < end, 'unstable append leaves a gap');
      this.entries = this.entries.slice(0, after - this.offset);
      for (let i = 0; i < entries.length; i++) this.entries.push(entries[i]!);
      if (this.offsetInProgress > after) this.offsetInProgress = after;
    }
  }

  /** Appends one entry at the end (the leader's hot path). */
  push(entry: Entry): void {
    assert(entry.index === this.offset + this.entries.length, 'unstable push out of order');
    this.entries.push(entry);
  }
}
