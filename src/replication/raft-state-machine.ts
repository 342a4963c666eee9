/**
 * The application state a Raft group replicates (a partition's log, the cluster metadata). It is
 * volatile from the driver's point of view: at start the driver restores it from the store's
 * latest snapshot, and the committed entries after that snapshot are applied to it again.
 */
import type { Entry, Snapshot } from '../raft/index.ts';

export interface RaftStateMachine {
  /**
   * Applies committed entries, contiguous and in index order, continuing right after the last one
   * applied (or the snapshot restored). They include the leader's empty no-op entries and the
   * membership changes, which the core has already applied to the membership. Must not throw
   * except for a broken invariant, which stops the group.
   */
  apply(entries: readonly Entry[]): void;

  /** The state as of the last applied entry, as bytes `restore` accepts. */
  snapshot(): Uint8Array;

  /** Replaces the whole state with the one in `snapshot` (the bootstrap snapshot at index 0 means empty). */
  restore(snapshot: Snapshot): void;
}
