/**
 * The durable log of one Raft group, as its driver (raft-driver.ts) writes it. The core reads it
 * through LogStorage (src/raft/storage.ts, whose contract holds here too); the driver writes each
 * Ready through `persist` and waits for the completion before sending or applying anything.
 * MemoryStorage has the same writer methods, so a MemoryStorage plus a `persist` that decides when
 * the write counts as durable (the simulator's disk, a test's hand-driven disk) is a RaftLogStore;
 * a partition's segment log is the production one.
 */
import type { ConfState, LogStorage, Ready } from '../raft/index.ts';

/** What one Ready asks to store: its snapshot, entries and hard state, whether they need an fsync, and what it commits. */
export type RaftLogWrite = Pick<Ready, 'snapshot' | 'entries' | 'hardState' | 'mustSync'> & Partial<Pick<Ready, 'committedEntries'>>;

export interface RaftLogStore extends LogStorage {
  /**
   * Stores `write`: first the snapshot (replacing the log it covers), then the entries (truncating
   * the stored tail from the first entry's index), then the hard state. A crash may keep a prefix
   * of those pieces, never a later piece without the earlier ones.
   *
   * `done(null)` means: every piece is durable (fsynced when `write.mustSync`; when it is false only
   * the commit index moved, which may stay in the page cache because a lost commit index is learnt
   * again) and readable through the LogStorage methods. `done(error)` means the write failed: the
   * driver stops the group, because a failed fsync must never be retried (docs/errors.md).
   * `done` is called exactly once, possibly synchronously inside `persist`. At most one write is in
   * flight per store: the driver waits for `done` before the next `persist`.
   */
  persist(write: RaftLogWrite, done: (error: Error | null) => void): void;

  /**
   * Records a snapshot of the applied state at `index` (applied by the state machine, at most the
   * last stored index) with the membership in force there. From then on `snapshot()` returns it. A
   * file-backed store makes it durable before it drops any entry it covers.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): void;

  /** Drops the entries before `index`, which must not pass the latest snapshot's index + 1. */
  compact(index: number): void;
}
