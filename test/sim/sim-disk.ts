import type { ConfState, Entry, HardState, NodeId, Snapshot } from '../../src/raft/index.ts';
import { LogNotLoadedError, MemoryStorage } from '../../src/raft/index.ts';
import type { TimerHandle } from '../../src/io/clock.ts';
import type { RaftLogStore, RaftLogWrite } from '../../src/replication/raft-log-store.ts';
import type { ManualClock } from '../helpers/manual-clock.ts';
import type { InvariantChecker } from './checkers.ts';
import type { Prng } from './prng.ts';

export interface DiskEnv {
  readonly clock: ManualClock;
  readonly checker: InvariantChecker;
  readonly log: (line: string) => void;
  /** A deliberate bug: fsync reports success at once and the data becomes durable only later. */
  readonly lyingFsync: boolean;
  /**
   * Chance (0 to 1) that an entries() read answers as a caching store whose entries are on disk:
   * LogNotLoadedError, or a shorter prefix, with the "loaded" report (onLoaded) a few ms later, as
   * a partition's Raft log does. 0 leaves every read (and every seed's random draws) unchanged.
   */
  readonly notLoadedChance: number;
}

interface Write {
  readonly write: RaftLogWrite;
  readonly timer: TimerHandle;
}

/**
 * The simulated disk of one node, the RaftLogStore its driver writes through. `storage` stands
 * for what is durable: a write that needs an fsync reaches it only when the fsync completes, after
 * a random latency (sometimes very slow). A crash while a write is in flight keeps a random prefix
 * of it (torn write): the snapshot, then entries one by one, then the hard state, each piece
 * all-or-nothing, in that order, as a real log (fsync the segment before renaming the hard-state
 * file into place) would leave it.
 *
 * With `lyingFsync`, writes reach `storage` (and the node's reads) at once and their fsync reports
 * success at once, but they become durable only after the latency; a crash before that loses them
 * (past a torn prefix) and the node restarts from what was durable.
 */
export class SimDisk implements RaftLogStore {
  storage: MemoryStorage;
  /** Until this simulated time, fsyncs are slow. */
  slowUntilMs = 0;
  private inFlight: Write | null = null;
  /** With lyingFsync: the writes reported durable that are not, oldest first, and what was durable before them. */
  private unsynced: Write[] = [];
  private durable: MemoryStorage | null = null;
  /** Its own stream, so that enabling notLoadedChance does not reshuffle the disk's latencies. */
  private readonly loadRandom: Prng | null;
  /** Set by the node: the driver to tell that loads finished. */
  onLoaded: () => void = () => undefined;
  /** Off while the checkers read through the core: they must see the whole log. */
  loadFaults = true;

  constructor(
    private readonly id: NodeId,
    conf: ConfState,
    private readonly random: Prng,
    private readonly env: DiskEnv,
  ) {
    this.storage = new MemoryStorage(conf);
    this.loadRandom = env.notLoadedChance > 0 ? random.fork() : null;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.storage.initialState();
  }

  entries(lo: number, hi: number, maxBytes: number): readonly Entry[] {
    const entries = this.storage.entries(lo, hi, maxBytes);
    const random = this.loadRandom;
    if (random === null || !this.loadFaults || !random.chance(this.env.notLoadedChance)) return entries;
    this.env.clock.setTimer(random.between(0, 30), () => this.onLoaded());
    if (entries.length > 1 && random.chance(0.5)) return entries.slice(0, random.between(1, entries.length - 1));
    throw new LogNotLoadedError(lo);
  }

  term(index: number): number {
    return this.storage.term(index);
  }

  firstIndex(): number {
    return this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.storage.lastIndex();
  }

  snapshot(): Snapshot {
    return this.storage.snapshot();
  }

  persist(write: RaftLogWrite, done: (error: Error | null) => void): void {
    if (!write.mustSync) {
      // Only the commit index moved: no fsync, and losing it in a crash is harmless.
      this.writeTo(this.storage, write, true);
      done(null);
      return;
    }
    if (this.env.lyingFsync) {
      if (this.unsynced.length === 0) this.durable = copyOf(this.storage);
      this.writeTo(this.storage, write, true);
      const entry: Write = { write, timer: this.env.clock.setTimer(this.syncLatencyMs(), () => this.synced(entry)) };
      this.unsynced.push(entry);
      done(null);
      return;
    }
    if (this.inFlight !== null) throw new Error(`node ${this.id}: a second write while one is in flight`);
    const timer = this.env.clock.setTimer(this.syncLatencyMs(), () => {
      this.inFlight = null;
      this.writeTo(this.storage, write, true);
      done(null);
    });
    this.inFlight = { write, timer };
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): void {
    this.storage.createSnapshot(index, confState, data);
  }

  compact(index: number): void {
    this.storage.compact(index);
    this.env.log(`node ${this.id} compacted to ${this.storage.firstIndex()} (snapshot ${this.storage.snapshot().metadata.index})`);
  }

  /** The node crashed: writes not yet durable are lost, but for a random prefix (torn write). Returns a description. */
  crash(): string {
    const lost = this.inFlight !== null ? [this.inFlight] : this.unsynced;
    if (lost.length === 0) return '';
    for (const w of lost) this.env.clock.clearTimer(w.timer);
    if (this.durable !== null) this.storage = this.durable;
    this.inFlight = null;
    this.unsynced = [];
    this.durable = null;
    return this.tear(lost.map((w) => w.write));
  }

  /** How long the fsync of a write takes, from now. */
  private syncLatencyMs(): number {
    if (this.env.clock.now() < this.slowUntilMs || this.random.chance(0.02)) return this.random.between(20, 300);
    return this.random.between(0, 3);
  }

  /** With lyingFsync: `entry` and every write before it became durable. */
  private synced(entry: Write): void {
    const index = this.unsynced.indexOf(entry);
    for (const w of this.unsynced.slice(0, index + 1)) this.writeTo(this.durable!, w.write, false);
    this.unsynced = this.unsynced.slice(index + 1);
    if (this.unsynced.length === 0) this.durable = null;
  }

  /** Makes every piece of `write` durable in `target`, checked against the invariants when `check`. */
  private writeTo(target: MemoryStorage, write: RaftLogWrite, check: boolean): void {
    if (write.snapshot !== null) this.installSnapshot(target, write.snapshot, check);
    if (write.entries.length > 0) this.append(target, write.entries, check);
    if (write.hardState !== null) target.setHardState(write.hardState);
  }

  /** Keeps a random prefix of the pieces of `writes`, in order, in `storage`. */
  private tear(writes: readonly RaftLogWrite[]): string {
    const pieces = writes.reduce((n, w) => n + (w.snapshot !== null ? 1 : 0) + w.entries.length + (w.hardState !== null ? 1 : 0), 0);
    let keep = this.random.nextInt(pieces + 1);
    const kept = keep;
    for (const write of writes) {
      if (write.snapshot !== null && keep > 0) {
        this.installSnapshot(this.storage, write.snapshot, true);
        keep--;
      }
      const entries = write.entries.slice(0, Math.min(keep, write.entries.length));
      if (entries.length > 0) this.append(this.storage, entries, true);
      keep -= entries.length;
      if (write.hardState !== null && keep > 0) {
        this.storage.setHardState(write.hardState);
        keep--;
      }
      if (keep === 0) break;
    }
    return `torn write kept ${kept}/${pieces}`;
  }

  private installSnapshot(target: MemoryStorage, snapshot: Snapshot, check: boolean): void {
    if (check) this.env.checker.beforeSnapshot(this.id, snapshot);
    target.applySnapshot(snapshot);
    if (check) this.env.log(`node ${this.id} installed snapshot at ${snapshot.metadata.index}`);
  }

  private append(target: MemoryStorage, entries: readonly Entry[], check: boolean): void {
    if (check) this.env.checker.beforeAppend(this.id, target, entries);
    target.append(entries);
  }
}

/** A separate MemoryStorage holding the same snapshot, entries after it, and hard state. */
function copyOf(storage: MemoryStorage): MemoryStorage {
  const snapshot = storage.snapshot();
  const copy = new MemoryStorage(snapshot.metadata.confState);
  copy.applySnapshot(snapshot);
  const first = snapshot.metadata.index + 1;
  if (storage.lastIndex() >= first) copy.append(storage.entries(first, storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER));
  copy.setHardState(storage.hardStateNow());
  return copy;
}
