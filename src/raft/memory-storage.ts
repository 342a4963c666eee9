import { assert } from '../util/assert.ts';
import { LogCompactedError, LogUnavailableError } from './errors.ts';
import { EMPTY_HARD_STATE, entryBytes } from './messages.ts';
import type { ConfState, Entry, HardState, Snapshot } from './messages.ts';
import type { LogStorage } from './storage.ts';

/**
 * A LogStorage kept in memory, for tests, the simulator and benchmarks. It stands for what is
 * durable: the driver writes to it only after the corresponding bytes would be synced, and a
 * simulated crash throws it away and rebuilds it from the simulated disk.
 *
 * Layout: `snapshot` (the latest one), then `entries` holding indexes
 * [prevIndex + 1, prevIndex + entries.length], where `prevIndex`/`prevTerm` describe the entry
 * just before the first retained one. Compaction may keep entries below the snapshot index (so
 * slow followers can still be served from the log), never drop any above it.
 */
export class MemoryStorage implements LogStorage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot;
  private prevIndex = 0;
  private prevTerm = 0;
  private ents: Entry[] = [];

  /** A new, empty log whose initial membership is `confState` (the bootstrap snapshot at index 0). */
  constructor(confState: ConfState) {
    this.snap = { metadata: { index: 0, term: 0, confState }, data: new Uint8Array(0) };
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  hardStateNow(): HardState {
    return this.hardState;
  }

  setHardState(hardState: HardState): void {
    assert(hardState.term >= this.hardState.term, 'hard state term must not go back');
    this.hardState = hardState;
  }

  firstIndex(): number {
    return this.prevIndex + 1;
  }

  lastIndex(): number {
    return this.prevIndex + this.ents.length;
  }

  term(index: number): number {
    if (index < this.prevIndex) throw new LogCompactedError(index, this.prevIndex + 1);
    if (index === this.prevIndex) return this.prevTerm;
    const entry = this.ents[index - this.prevIndex - 1];
    if (entry === undefined) throw new LogUnavailableError(index, this.lastIndex());
    return entry.term;
  }

  entries(lo: number, hi: number, maxBytes: number): readonly Entry[] {
    assert(lo <= hi, 'entries range is inverted');
    if (lo <= this.prevIndex) throw new LogCompactedError(lo, this.prevIndex + 1);
    if (hi > this.lastIndex() + 1) throw new LogUnavailableError(hi - 1, this.lastIndex());
    const start = lo - this.prevIndex - 1;
    let end = hi - this.prevIndex - 1;
    let bytes = 0;
    for (let i = start; i < end; i++) {
      bytes += entryBytes(this.ents[i]!);
      if (bytes > maxBytes && i > start) {
        end = i;
        break;
      }
    }
    return this.ents.slice(start, end);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /**
   * Appends entries, first truncating any stored entries at or after `entries[0].index` (the
   * uncommitted tail a new leader overwrote). Entries at or below the compaction point are skipped:
   * they are already covered by the snapshot. The entries must be contiguous and must not leave a
   * gap after lastIndex().
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const firstNew = entries[0]!.index;
    const lastNew = entries[entries.length - 1]!.index;
    assert(lastNew - firstNew === entries.length - 1, 'appended entries are not contiguous');
    if (lastNew <= this.prevIndex) return;
    const skip = Math.max(0, this.prevIndex + 1 - firstNew);
    const position = firstNew + skip - this.prevIndex - 1;
    assert(position <= this.ents.length, `append at ${firstNew + skip} leaves a gap after ${this.lastIndex()}`);
    if (position < this.ents.length) this.ents.length = position;
    for (let i = skip; i < entries.length; i++) this.ents.push(entries[i]!);
    assert(this.lastIndex() === lastNew, 'append did not end at the last new entry');
  }

  /**
   * Replaces the whole log by a snapshot received from the leader: every stored entry is dropped,
   * because the core installs a snapshot only when its log does not already contain that point.
   */
  applySnapshot(snapshot: Snapshot): void {
    assert(snapshot.metadata.index >= this.snap.metadata.index, 'snapshot is older than the stored one');
    this.snap = snapshot;
    this.prevIndex = snapshot.metadata.index;
    this.prevTerm = snapshot.metadata.term;
    this.ents = [];
  }

  /**
   * Records a snapshot of the applied state at `index` (which the application has applied), with
   * the membership in force there. Does not drop entries: call compact() for that.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    assert(index > this.snap.metadata.index, 'snapshot index must move forward');
    assert(index <= this.lastIndex(), 'cannot snapshot past the last entry');
    this.snap = { metadata: { index, term: this.term(index), confState }, data };
    return this.snap;
  }

  /**
   * Drops entries before `index`; entry `index - 1` keeps only its term. `index - 1` must not pass
   * the snapshot, otherwise entries between the two would exist nowhere.
   */
  compact(index: number): void {
    const prevIndex = index - 1;
    if (prevIndex <= this.prevIndex) return;
    assert(prevIndex <= this.snap.metadata.index, 'compaction may not pass the snapshot');
    assert(prevIndex <= this.lastIndex(), 'compaction may not pass the last entry');
    this.prevTerm = this.term(prevIndex);
    this.ents = this.ents.slice(prevIndex - this.prevIndex);
    this.prevIndex = prevIndex;
    assert(this.firstIndex() === index, 'compaction did not move the first index');
  }
}
