import { assert } from '../util/assert.ts';
import { LogCompactedError, LogNotLoadedError, LogUnavailableError } from './errors.ts';
import { entryBytes } from './messages.ts';
import type { Entry, Snapshot } from './messages.ts';
import type { LogStorage } from './storage.ts';
import { UnstableLog } from './unstable-log.ts';

const NO_ENTRIES: readonly Entry[] = Object.freeze([]);

/**
 * One node's view of its log: the durable part (LogStorage) followed by the unstable tail, plus
 * the commit and apply positions.
 *
 * Positions, always ordered: applied <= applying <= committed <= lastIndex().
 * - `committed`: highest index known to be stored on a majority of voters.
 * - `applying`: highest committed index handed out to the application in a Ready.
 * - `applied`: highest index the application acknowledged with advance().
 */
export class RaftLog {
  readonly storage: LogStorage;
  readonly unstable: UnstableLog;
  committed: number;
  applying: number;
  applied: number;
  /** Upper bound on the bytes of committed entries handed out in one Ready (always at least one entry). */
  readonly maxApplyBytes: number;
  /** Size of the last slice() result, or -1 if it was not counted (see slice). */
  lastSliceBytes = 0;
  /**
   * Set when the next committed entries were not in storage's memory (LogNotLoadedError): nothing
   * is handed out to apply until the owner reports the load done (RawNode.storageLoaded) or the
   * next tick, so the driver does not spin on empty Readies meanwhile.
   */
  applyWaitsForLoad = false;

  constructor(storage: LogStorage, maxApplyBytes: number) {
    this.storage = storage;
    this.maxApplyBytes = maxApplyBytes;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    assert(last >= first - 1, 'storage reports a negative length');
    this.unstable = new UnstableLog(last + 1);
    this.committed = first - 1;
    this.applying = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    const fromSnapshot = this.unstable.maybeFirstIndex();
    return fromSnapshot !== 0 ? fromSnapshot : this.storage.firstIndex();
  }

  lastIndex(): number {
    const fromUnstable = this.unstable.maybeLastIndex();
    return fromUnstable !== 0 ? fromUnstable : this.storage.lastIndex();
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    assert(term >= 0, 'the last entry has no term');
    return term;
  }

  /**
   * The term of entry `index`, or 0 when the index is compacted or past the end. Real entries have
   * terms >= 1 (index 0 has term 0), so a 0 never matches a term a peer sends for a real entry.
   */
  term(index: number): number {
    const fromUnstable = this.unstable.maybeTerm(index);
    if (fromUnstable >= 0) return fromUnstable;
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return 0;
    try {
      return this.storage.term(index);
    } catch (e) {
      if (e instanceof LogCompactedError || e instanceof LogUnavailableError) return 0;
      throw e;
    }
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft's "at least as up-to-date" rule (paper 5.4.1): compare last terms, then last indexes. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * The first index among `entries` whose term differs from ours (or that we do not have), or 0
   * when all of them are already in the log.
   */
  findConflict(entries: readonly Entry[]): number {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * Fast backtracking: the largest index <= `index` whose term is <= `term`, with that term. Every
   * index above it holds a term greater than `term`, so it cannot match a log whose entry at
   * `index` has term `term`. Stops at the compaction point (term 0 there means "unknown").
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    const floor = this.firstIndex() - 1;
    while (index >= floor) {
      const ourTerm = this.term(index);
      if (ourTerm <= term || index === floor) return { index, term: ourTerm };
      index--;
    }
    return { index, term: 0 };
  }

  /**
   * The follower side of AppendEntries: when our entry at `prevIndex` has `prevTerm`, appends the
   * entries that are new, truncating a conflicting uncommitted tail, and returns the index of the
   * last entry now known to match the leader; returns -1 when the consistency check fails.
   */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, entries: readonly Entry[]): number {
    if (!this.matchTerm(prevIndex, prevTerm)) return -1;
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert(conflict > this.committed, `entry ${conflict} conflicts with committed entry (commit ${this.committed})`);
      const start = conflict - entries[0]!.index;
      this.append(start === 0 ? entries : entries.slice(start));
    }
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /** Appends entries (the first may truncate the tail) to the unstable log; returns the new last index. */
  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    assert(entries[0]!.index - 1 >= this.committed, 'append would overwrite committed entries');
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), `commit ${index} is past the last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /**
   * Entries in [lo, lastIndex()] up to `maxBytes` (at least one), or null when lo is compacted and
   * the caller must send a snapshot instead.
   */
  entriesFrom(lo: number, maxBytes: number): readonly Entry[] | null {
    const last = this.lastIndex();
    if (lo > last) {
      this.lastSliceBytes = 0;
      return NO_ENTRIES;
    }
    return this.slice(lo, last + 1, maxBytes);
  }

  /**
   * Entries in [lo, hi) up to `maxBytes` (at least one), or null when lo is compacted. Storage may
   * answer a shorter prefix (see LogStorage.entries) or throw LogNotLoadedError, which propagates:
   * each caller decides what "not now" means for it. Sets
   * `lastSliceBytes` to their size as counted by entryBytes when it was known without an extra
   * pass, else to -1.
   */
  slice(lo: number, hi: number, maxBytes: number): readonly Entry[] | null {
    assert(lo <= hi, 'slice range is inverted');
    this.lastSliceBytes = 0;
    if (lo < this.firstIndex()) return null;
    assert(hi <= this.lastIndex() + 1, 'slice past the last index');
    if (lo === hi) return NO_ENTRIES;
    const unstableOffset = this.unstable.offset;
    let stored: readonly Entry[] = NO_ENTRIES;
    let bytes = 0;
    if (lo < unstableOffset) {
      const storedHi = Math.min(hi, unstableOffset);
      try {
        stored = this.storage.entries(lo, storedHi, maxBytes);
      } catch (e) {
        if (e instanceof LogCompactedError) return null;
        throw e;
      }
      assert(stored.length > 0, 'storage returned no entries for a non-empty range');
      if (stored.length < storedHi - lo || hi <= unstableOffset) {
        this.lastSliceBytes = -1;
        return stored;
      }
      for (let i = 0; i < stored.length; i++) bytes += entryBytes(stored[i]!);
    }
    // The unstable part: find where the byte limit cuts, then copy that range in one go.
    const tail = this.unstable.entries;
    const from = Math.max(lo, unstableOffset) - unstableOffset;
    const to = hi - unstableOffset;
    let end = from;
    while (end < to) {
      const size = entryBytes(tail[end]!);
      if (bytes + size > maxBytes && (end > from || stored.length > 0)) break;
      bytes += size;
      end++;
    }
    this.lastSliceBytes = bytes;
    const part = tail.slice(from, end);
    return stored.length === 0 ? part : stored.concat(part);
  }

  /** Whether committed entries are waiting to be handed to the application. */
  hasNextCommittedEntries(): boolean {
    if (this.unstable.snapshot !== null || this.applyWaitsForLoad) return false;
    return this.applying < this.committed;
  }

  /**
   * The next committed entries to apply (bounded by maxApplyBytes), without marking them. None
   * while storage is loading them (applyWaitsForLoad).
   */
  nextCommittedEntries(): readonly Entry[] {
    if (!this.hasNextCommittedEntries()) return NO_ENTRIES;
    const lo = Math.max(this.applying + 1, this.firstIndex());
    let entries: readonly Entry[] | null;
    try {
      entries = this.slice(lo, this.committed + 1, this.maxApplyBytes);
    } catch (e) {
      if (!(e instanceof LogNotLoadedError)) throw e;
      this.applyWaitsForLoad = true;
      return NO_ENTRIES;
    }
    assert(entries !== null, 'committed entries to apply were compacted before being applied');
    return entries;
  }

  /** The latest snapshot: the unstable one if a leader's snapshot is being installed, else storage's. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Installs a snapshot from the leader: the whole log is replaced and everything up to it is committed. */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  appliedTo(index: number): void {
    if (index <= this.applied) return;
    assert(index <= this.committed, 'applied past the commit index');
    this.applied = index;
    if (this.applying < index) this.applying = index;
  }
}
