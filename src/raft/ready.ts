import type { Entry, HardState, Message, NodeId, Snapshot } from './messages.ts';

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state the driver may want to react to (leader changes); never persisted. */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: Role;
}

/**
 * One batch of work for the driver, from RaftNode.ready(). The persistence contract:
 *
 * 1. If `snapshot` is set, make it durable (replacing the log it covers) and restore the
 *    application state from `snapshot.data`.
 * 2. Append `entries` durably. The first entry may have an index at or below the stored last
 *    index: storage truncates the tail from there first (an uncommitted suffix a new leader
 *    replaced).
 * 3. If `hardState` is set, write it durably, after the entries of step 2 (its commit may point
 *    into them). Steps 1 to 3 must all be durable (synced) when `mustSync` is true before step 4.
 * 4. Only then send `messages`, in order, to their `to` node. Sending earlier breaks safety: a vote
 *    or an acknowledgement would promise state that a crash could still lose. Messages may be
 *    lost, duplicated, delayed or reordered by the network; the protocol tolerates it.
 * 5. Apply `committedEntries` to the state machine in index order. They are committed and durable
 *    (already in storage, or in `entries` of this same Ready, made durable in step 2). Entries of
 *    type ConfChange were already applied to the membership by the core; the application may read
 *    them to learn the new membership.
 * 6. Call `advance(ready)` with this very object.
 *
 * Between ready() and advance() the driver may keep calling tick() and step() (for instance while
 * an fsync is in flight), but must not call ready() again. Nothing in a Ready may be mutated.
 */
export interface Ready {
  /** Set when the leader or this node's role changed since the previous Ready. */
  readonly softState: SoftState | null;
  /** Set when term, vote or commit changed since the previous Ready. */
  readonly hardState: HardState | null;
  /** A snapshot from the leader to install, or null. */
  readonly snapshot: Snapshot | null;
  /** Entries to append to durable storage. */
  readonly entries: readonly Entry[];
  /** Committed entries to apply, in order. */
  readonly committedEntries: readonly Entry[];
  /** Messages to send once steps 1 to 3 are durable. */
  readonly messages: readonly Message[];
  /** Whether steps 1 to 3 need an fsync (false when only the commit index moved). */
  readonly mustSync: boolean;
}
