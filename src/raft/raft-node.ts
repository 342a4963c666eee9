import { assert } from '../util/assert.ts';
import type { ConfChange } from './conf-change.ts';
import type { RaftConfig } from './config.ts';
import { EntryType } from './messages.ts';
import type { ConfState, Entry, HardState, Message, NodeId, SnapshotMetadata } from './messages.ts';
import { Raft } from './raft.ts';
import type { ProposeResult, RefusalReason } from './raft.ts';
import type { Ready, Role, SoftState } from './ready.ts';
import type { PeerStatus, Status } from './status.ts';

export type TransferResult = { readonly accepted: true } | { readonly accepted: false; readonly reason: RefusalReason };

const NO_ENTRIES: readonly Entry[] = Object.freeze([]);

/**
 * One member of one Raft group, as a deterministic state machine (etcd's RawNode shape).
 *
 * Inputs: tick() once per tick of the driver's clock, step() for each message from a peer,
 * propose*() and transferLeader() from the application. Outputs: ready() hands out one Ready
 * (see ready.ts for the persistence contract), advance() acknowledges it. Nothing else happens
 * behind the driver's back: no I/O, timers or clock, and the only randomness comes from
 * `config.random`. The same inputs in the same order give the same outputs.
 *
 * Not re-entrant and not thread-safe: one driver calls it, one call at a time. Any exception
 * thrown out of a call is either an I/O failure from storage or a broken invariant (an assertion):
 * in both cases the node must be discarded and rebuilt from durable storage.
 */
export class RaftNode {
  private readonly raft: Raft;
  private previousSoftState: SoftState;
  private previousHardState: HardState;
  private outstanding: Ready | null = null;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.previousSoftState = this.softState();
    this.previousHardState = this.hardState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  get term(): number {
    return this.raft.term;
  }

  /** The leader this node knows of in its term, or 0. */
  get leader(): NodeId {
    return this.raft.lead;
  }

  get role(): Role {
    return this.raft.role;
  }

  get isLeader(): boolean {
    return this.raft.role === 'leader';
  }

  get commitIndex(): number {
    return this.raft.log.committed;
  }

  /** The last index the application acknowledged as applied (through advance()). */
  get appliedIndex(): number {
    return this.raft.log.applied;
  }

  get lastIndex(): number {
    return this.raft.log.lastIndex();
  }

  /** The first index still in the log (entries before it live only in the snapshot). */
  get firstIndex(): number {
    return this.raft.log.firstIndex();
  }

  /**
   * The term of entry `index` in this node's log, durable or not yet, or 0 when it is compacted or
   * past the end. After commitIndex >= i, termAt(i) tells whether a proposal accepted at (i, term)
   * was committed (same term) or lost to a leader change (another term).
   */
  termAt(index: number): number {
    return this.raft.log.term(index);
  }

  /**
   * Entries [lo, hi) of this node's log (durable or not yet), at most `maxBytes` (at least one
   * entry), or null when lo is compacted. hi must not pass lastIndex + 1. A caching storage may
   * answer a shorter prefix, or throw LogNotLoadedError when entry lo is on disk only (see
   * storage.ts): ask again after it reported the load.
   */
  entries(lo: number, hi: number, maxBytes = Number.MAX_SAFE_INTEGER): readonly Entry[] | null {
    return this.raft.log.slice(lo, hi, maxBytes);
  }

  /** Advances logical time by one tick: election timeouts, heartbeats, check-quorum. */
  tick(): void {
    // Committed entries that were being loaded are asked for again at least once per tick, even if
    // the owner never calls storageLoaded().
    this.raft.log.applyWaitsForLoad = false;
    this.raft.tick();
  }

  /**
   * Storage finished loading entries it had answered with LogNotLoadedError: hand out committed
   * entries again, and on a leader send the appends that waited for them at the next Ready.
   */
  storageLoaded(): void {
    this.raft.log.applyWaitsForLoad = false;
    if (this.raft.role === 'leader') this.raft.pendingFlush = true;
  }

  /** Feeds a message received from a peer. Messages from any term, duplicated or reordered, are fine. */
  step(message: Message): void {
    this.raft.step(message);
  }

  /** Starts an election now (pre-vote first when enabled), as if the election timeout had passed. */
  campaign(): void {
    this.raft.hup('election');
  }

  /**
   * Appends one entry with opaque `data` if this node is the leader. On acceptance, the entry is
   * committed once index `index` is committed with term `term` (a committed entry at that index
   * with another term means it was lost to a leader change and must be retried). `data` must not
   * be mutated afterwards.
   */
  propose(data: Uint8Array): ProposeResult {
    return this.raft.propose(EntryType.Normal, [data]);
  }

  /** Appends several entries at consecutive indexes starting at `index`, all or none. */
  proposeBatch(data: readonly Uint8Array[]): ProposeResult {
    assert(data.length > 0, 'empty proposal batch');
    return this.raft.propose(EntryType.Normal, data);
  }

  /**
   * Proposes a single-server membership change (see conf-change.ts). Refused while another change
   * is not yet applied, while a transfer is in progress, and for promoting a learner that has not
   * caught up. The change takes effect on each node when its entry is committed and handed out
   * in a Ready.
   */
  proposeConfChange(change: ConfChange): ProposeResult {
    return this.raft.proposeConfChange(change);
  }

  /**
   * Hands leadership to voter `target`: new proposals are refused while the target catches up;
   * then it is told to campaign at once (TimeoutNow). Abandoned after an election timeout.
   */
  transferLeader(target: NodeId): TransferResult {
    const refusal = this.raft.transferLeader(target);
    return refusal === null ? { accepted: true } : { accepted: false, reason: refusal };
  }

  /** The transport failed to deliver to `id`; the leader stops pipelining to it. */
  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id);
  }

  /** The transport finished (`ok`) or abandoned sending a snapshot message to `id`. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.reportSnapshot(id, ok);
  }

  /**
   * Whether ready() would return something to do. False while a Ready is outstanding. It may
   * prepare outgoing appends (which the next ready() returns), so it is not free of effects, but
   * calling it any number of times changes nothing else.
   */
  hasReady(): boolean {
    if (this.outstanding !== null) return false;
    const r = this.raft;
    // Pending appends are prepared here already, so that a flush with nothing to send does not
    // cost the driver an empty Ready.
    r.flush();
    if (r.msgs.length > 0) return true;
    if (r.log.unstable.hasNextEntries() || r.log.unstable.hasNextSnapshot()) return true;
    if (r.log.hasNextCommittedEntries()) return true;
    const soft = this.previousSoftState;
    if (r.lead !== soft.lead || r.role !== soft.role) return true;
    const hard = this.previousHardState;
    return r.term !== hard.term || r.vote !== hard.vote || r.log.committed !== hard.commit;
  }

  /** Collects the work to do. Must be followed by advance() before the next ready(). */
  ready(): Ready {
    assert(this.outstanding === null, 'ready() called again before advance()');
    const r = this.raft;
    const committedEntries = r.log.nextCommittedEntries();
    for (let i = 0; i < committedEntries.length; i++) {
      const entry = committedEntries[i]!;
      if (entry.type === EntryType.ConfChange) r.applyConfChangeEntry(entry);
    }
    r.flush();
    const unstable = r.log.unstable;
    const previousSoft = this.previousSoftState;
    const previousHard = this.previousHardState;
    const softChanged = r.lead !== previousSoft.lead || r.role !== previousSoft.role;
    const hardChanged = r.term !== previousHard.term || r.vote !== previousHard.vote || r.log.committed !== previousHard.commit;
    const softState = softChanged ? this.softState() : previousSoft;
    const hardState = hardChanged ? this.hardState() : previousHard;
    const entries = unstable.hasNextEntries() ? unstable.nextEntries() : NO_ENTRIES;
    const snapshot = unstable.hasNextSnapshot() ? unstable.snapshot : null;
    const mustSync =
      entries.length > 0 ||
      snapshot !== null ||
      hardState.term !== previousHard.term ||
      hardState.vote !== previousHard.vote;
    const rd: Ready = {
      softState: softChanged ? softState : null,
      hardState: hardChanged ? hardState : null,
      snapshot,
      entries,
      committedEntries,
      messages: r.msgs,
      mustSync,
    };
    r.msgs = [];
    unstable.acceptInProgress();
    if (committedEntries.length > 0) r.log.applying = committedEntries[committedEntries.length - 1]!.index;
    this.previousSoftState = softState;
    this.previousHardState = hardState;
    this.outstanding = rd;
    return rd;
  }

  /** Acknowledges that the driver did everything `rd` asked (persisted, sent, applied). */
  advance(rd: Ready): void {
    assert(rd === this.outstanding, 'advance() with a Ready that is not the outstanding one');
    this.outstanding = null;
    const log = this.raft.log;
    if (rd.snapshot !== null) {
      log.unstable.stableSnapshotTo(rd.snapshot.metadata.index);
      log.appliedTo(rd.snapshot.metadata.index);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      log.unstable.stableTo(last.index, last.term);
      this.raft.leaderStable(last.index, last.term);
    }
    const applied = rd.committedEntries;
    if (applied.length > 0) {
      const last = applied[applied.length - 1]!.index;
      log.appliedTo(last);
      if (this.raft.role === 'leader') this.raft.releaseUncommitted(last);
    }
    this.raft.checkJoined();
  }

  /** Still joining (RaftConfig.joining): neither campaigns nor votes yet. */
  get joining(): boolean {
    return this.raft.joining;
  }

  /** A joining node found itself caught up (RaftConfig.confirmJoining: it votes after endJoining()). */
  get caughtUp(): boolean {
    return this.raft.caughtUp;
  }

  /** The vote cast in the current term (0: none). */
  get vote(): NodeId {
    return this.raft.vote;
  }

  /** Ends joining at once: no member of the group ever held an entry (Raft.endJoining). */
  endJoining(): void {
    this.raft.endJoining();
  }

  /** The link to `id` came back, possibly to a process that lost its log (Raft.peerReconnected). */
  peerReconnected(id: NodeId): void {
    this.raft.peerReconnected(id);
  }

  /** The membership in force: the one of the last committed entry handed out. */
  confState(): ConfState {
    return this.raft.confState();
  }

  /**
   * Where a snapshot of the applied state would sit: the applied index, its term, and the
   * membership there. Call it right after advance(); the application's snapshot of its state at
   * that point plus this metadata is a valid Snapshot for LogStorage. Null while that is not
   * well defined: a Ready is outstanding, or a leader's snapshot is being installed (the
   * membership already moved past the applied index).
   */
  appliedSnapshotMetadata(): SnapshotMetadata | null {
    const log = this.raft.log;
    if (this.outstanding !== null || log.applying !== log.applied || log.unstable.snapshot !== null) return null;
    return { index: log.applied, term: log.term(log.applied), confState: this.raft.confState() };
  }

  status(): Status {
    const r = this.raft;
    let progress: Map<NodeId, PeerStatus> | null = null;
    if (r.role === 'leader') {
      progress = new Map();
      for (const [id, pr] of r.tracker.progress) {
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          recentActive: pr.recentActive,
          isLearner: pr.isLearner,
          inflightBytes: pr.inflights.bytes,
        });
      }
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      lead: r.lead,
      role: r.role,
      leadTransferee: r.leadTransferee,
      confState: r.confState(),
      progress,
    };
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, role: this.raft.role };
  }

  private hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }
}
