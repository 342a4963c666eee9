/**
 * Drives one Raft group: the loop etcd's node.go runs around its RawNode, here around RaftNode,
 * with the durable log, the network and the applied state injected and ticks coming from the
 * owner, so that the broker and the cluster simulator (test/sim) run this same code.
 *
 * The loop, for each Ready the core hands out (the order ready.ts prescribes):
 *   1. persist its snapshot, entries and hard state through the store, and wait for the store to
 *      say they are durable (fsynced when the Ready says it must be);
 *   2. send its messages, grouped by peer;
 *   3. restore the state machine from its snapshot, if any, then apply its committed entries;
 *   4. advance the core; then decide the proposals that were applied, overwritten or orphaned by a
 *      leadership change, take a snapshot if the policy asks, and only then call the proposers back.
 * One Ready is in flight at a time. While its write is in flight, ticks, messages and proposals
 * still reach the core and pile up into the next Ready: a slow fsync batches more per Ready.
 *
 * Conservative ordering: nothing of a Ready is sent before all of it is durable, the leader's
 * appends included. etcd lets a leader send its appends while its own write is in flight (Raft
 * thesis 10.2.1), which is safe only if the leader counts its own entries towards commitment once
 * they are durable. This core counts them when they are appended (docs/raft.md), so sending early
 * could commit an entry that a majority does not hold durably.
 *
 * The driver starts no timer: the owner calls tick() (a RaftTicker ticks every group of a broker
 * from one timer). Every input (tick, step, propose, ...) runs the loop synchronously until the
 * driver waits for a write or the core has nothing to do; at most READIES_PER_CALL_MAX Readies per
 * call, so one busy group cannot hold up the others (the rest waits for the next input or tick).
 * An input that arrives from inside the loop (a transport delivering at once, a proposer's
 * callback proposing again) reaches the core at once and is picked up by the loop already running.
 *
 * Quiescence (opt-in, `quiesce`): a group with nothing to do stops ticking, so that thousands of
 * idle groups cost neither heartbeats nor timer work. A leader that, for `afterTicks` consecutive
 * ticks, has nothing pending (no proposal, no Ready in flight, no leadership transfer), has
 * committed and applied its whole log, and sees every member match its last index with nothing in
 * flight and no snapshot on its way (members whose broker is down excepted, as long as a quorum of
 * voters holds the whole log; and, when it stops, every member recently active), sends a quiesce
 * notice (term, commit) to every member that is up and stops ticking. A
 * follower stops ticking on a notice from the leader it knows, in its term, once its own commit
 * index reached the notice's and it has nothing left to do (no Ready pending or in flight, the
 * notice's commit applied): with work left it keeps ticking, so its Ready loop goes on (a loop
 * stopped at READIES_PER_CALL_MAX waits for a tick), and stops once the loop ran dry. Every other input wakes the group before it runs (a message of any
 * kind, a proposal, a campaign, a transfer, a report), except that a quiesced follower ignores
 * reportUnreachable for a peer other than its leader, and that a quiesced leader still idle after a
 * heartbeat or append answer of its term (the answers to its last heartbeats arrive after it
 * quiesced) stays quiesced. A follower that missed the notice keeps ticking and in time campaigns:
 * its pre-vote wakes the leader, which heartbeats again. Ticks are the only thing suppressed, and Raft's safety never depends on timing;
 * liveness after a leader failure relies on the host reporting the leader's link down (which wakes
 * the follower) or on any message. docs/replication.md, "Quiescence".
 *
 * Failures: an exception from the core (a broken invariant, a storage read error) or a failed
 * write stops the group: pending proposals end as `stopped`, later inputs are ignored, and
 * `onFailure` is called once. The group must be rebuilt from its durable store.
 */
import { RaftNode } from '../raft/index.ts';
import type { ConfChange, Message, NodeId, ProposeResult, RaftConfig, Random, Ready, SoftState, Status, TransferResult } from '../raft/index.ts';
import { assert, AssertionError } from '../util/assert.ts';
import { PendingProposals, type ProposalCallback, type ProposalOutcome } from './pending-proposals.ts';
import { ProposalError } from './proposal-error.ts';
import type { RaftLogStore } from './raft-log-store.ts';
import type { RaftStateMachine } from './raft-state-machine.ts';
import type { RaftTransport } from './raft-transport.ts';

/** Raft settings of a group (timeouts in ticks, flow-control limits); see src/raft/config.ts. */
export type RaftSettings = Omit<RaftConfig, 'id' | 'storage' | 'random' | 'applied'>;

/** When the driver snapshots the state machine and compacts the log. */
export interface SnapshotPolicy {
  /** Snapshot once this many entries were applied since the store's latest snapshot. > 0. */
  readonly everyEntries: number;
  /**
   * Entries kept up to the snapshot's index (0: none, 1: the snapshot's own entry, ...), so that a
   * follower a little behind catches up from the log rather than from a snapshot.
   */
  readonly keepEntries: number;
}

/** When an idle group stops ticking (see "Quiescence" above). */
export interface QuiescePolicy {
  /** Consecutive idle ticks a leader waits before it quiesces the group. > 0. */
  readonly afterTicks: number;
}

export interface RaftDriverOptions {
  readonly id: NodeId;
  readonly store: RaftLogStore;
  readonly transport: RaftTransport;
  readonly stateMachine: RaftStateMachine;
  /** Election-timeout jitter (seeded in the simulator). */
  readonly random: Random;
  readonly settings?: RaftSettings;
  /** Without one, the log is never compacted by the driver. */
  readonly snapshots?: SnapshotPolicy;
  /**
   * For a state machine that keeps its state durably by itself (a partition: its state is its log):
   * the entries up to this index (at most the stored commit index) are reflected already and are not
   * applied again at start; the owner sets the state machine to match. Default: the snapshot's index.
   */
  readonly applied?: number;
  /** Without one, the group never quiesces; with one, the transport must implement quiesce(). */
  readonly quiesce?: QuiescePolicy;
  /** The group quiesced (true) or woke (false); the host stops and resumes ticking it. */
  readonly onQuiesce?: (quiesced: boolean) => void;
  /** The leader or this node's role changed; `term` is the durable term. Called once the Ready is durable. */
  readonly onSoftState?: (state: SoftState, term: number) => void;
  /** The group stopped after a failure (see above). Called once. */
  readonly onFailure: (error: unknown) => void;
  /** Start as a joining node (RaftConfig.joining): no campaign and no vote until caught up. */
  readonly joining?: boolean;
  /**
   * The joining node caught up, and the vote it counts as cast is durable (called once). It votes once
   * the promise returned settles (the owner first removes, durably, what keeps it joining across
   * restarts), at once when it returns nothing, and at once without an owner's hook.
   */
  readonly onJoined?: () => void | Promise<void>;
}

/** What the owner may read from the core; everything that changes it goes through the driver. */
export type RaftNodeView = Pick<
  RaftNode,
  'id' | 'term' | 'leader' | 'role' | 'isLeader' | 'commitIndex' | 'appliedIndex' | 'firstIndex' | 'lastIndex' | 'termAt' | 'entries' | 'confState' | 'status'
>;

/** Readies handled in one call; the rest waits for the next input or tick. */
export const READIES_PER_CALL_MAX = 64;

export class RaftDriver {
  readonly raft: RaftNodeView;
  private readonly node: RaftNode;
  private readonly store: RaftLogStore;
  private readonly transport: RaftTransport;
  private readonly stateMachine: RaftStateMachine;
  private readonly snapshots: SnapshotPolicy | undefined;
  private readonly onSoftState: ((state: SoftState, term: number) => void) | undefined;
  private readonly onFailure: (error: unknown) => void;
  private readonly proposals = new PendingProposals();
  /** Called once when a joining node caught up; undefined when not joining (any more). */
  private onJoined: (() => void | Promise<void>) | undefined;
  /** The Ready whose write is in flight. */
  private writing: Ready | null = null;
  /** The Ready whose write is durable and that the loop has not finished yet. */
  private durable: Ready | null = null;
  private driving = false;
  private stoppedFlag = false;
  /** A snapshot was asked for (raft.snapshotInterval) whatever the entry count. */
  private snapshotRequested = false;
  private durableTerm: number;
  /** The vote in the last hard state written. */
  private durableVote: number;
  private appliedIndex: number;
  private readonly quiescePolicy: QuiescePolicy | undefined;
  private readonly onQuiesce: ((quiesced: boolean) => void) | undefined;
  /** The group stopped ticking until the next input (see "Quiescence" above). */
  private quiescedFlag = false;
  /** Consecutive ticks a leader was idle. */
  private idleTicks = 0;
  /** While quiesced as leader: the voters holding its whole log when it quiesced, itself included. */
  private quiescedVoters: readonly NodeId[] | null = null;
  /** RaftConfig.leaderWritesInParallel: a leader sends a Ready's messages before writing it. */
  private readonly pipelines: boolean;
  /** The Ready in flight whose messages went out before its write. */
  private sentEarly: Ready | null = null;
  /** A follower's accepted quiesce notice, kept until its Ready loop has nothing left to do. */
  private quiesceWhenIdle: { from: NodeId; term: number; commit: number } | null = null;

  /** Boots from the store: the state machine restarts from the latest snapshot. Sends nothing yet. */
  constructor(options: RaftDriverOptions) {
    this.store = options.store;
    this.transport = options.transport;
    this.stateMachine = options.stateMachine;
    this.snapshots = options.snapshots;
    this.onSoftState = options.onSoftState;
    this.onFailure = options.onFailure;
    this.quiescePolicy = options.quiesce;
    this.pipelines = options.settings?.leaderWritesInParallel === true;
    this.onQuiesce = options.onQuiesce;
    assert(this.quiescePolicy === undefined || (Number.isSafeInteger(this.quiescePolicy.afterTicks) && this.quiescePolicy.afterTicks > 0), 'quiesce afterTicks must be a positive integer');
    assert(this.quiescePolicy === undefined || this.transport.quiesce !== undefined, 'a quiescing group needs a transport that sends quiesce notices');
    assert(this.snapshots === undefined || this.snapshots.everyEntries > 0, 'snapshot interval must be positive');
    const snapshot = this.store.snapshot();
    this.stateMachine.restore(snapshot);
    this.appliedIndex = Math.max(snapshot.metadata.index, options.applied ?? 0);
    assert(this.appliedIndex <= Math.max(snapshot.metadata.index, this.store.initialState().hardState.commit), 'applied past the stored commit index');
    this.durableTerm = this.store.initialState().hardState.term;
    this.durableVote = this.store.initialState().hardState.vote;
    this.node = new RaftNode({ ...options.settings, id: options.id, storage: this.store, random: options.random, applied: this.appliedIndex, joining: options.joining === true, confirmJoining: options.joining === true && options.onJoined !== undefined });
    this.onJoined = options.joining === true ? options.onJoined : undefined;
    this.raft = this.node;
  }

  /** Still joining (RaftConfig.joining): it neither campaigns nor votes until caught up. */
  get joining(): boolean {
    return this.node.joining;
  }

  get stopped(): boolean {
    return this.stoppedFlag;
  }

  /** Pending proposals (accepted, outcome not known yet). */
  get pendingProposals(): number {
    return this.proposals.size;
  }

  /**
   * While quiesced as leader, the voters that held its whole log when it quiesced (itself
   * included; a member whose broker was down is not among them); null otherwise. They still do:
   * anything that could change it wakes the group.
   */
  get quiescedLeaderVoters(): readonly NodeId[] | null {
    return this.quiescedFlag && this.node.isLeader ? this.quiescedVoters : null;
  }

  /** Whether the group is quiesced: ticks do nothing until the next other input. */
  get quiesced(): boolean {
    return this.quiescedFlag;
  }

  /**
   * One tick of the group's logical clock (election and heartbeat timeouts count ticks). Nothing
   * while quiesced; on an idle leader, may quiesce the group.
   */
  tick(): void {
    if (this.quiescedFlag || this.stoppedFlag) return;
    this.input(() => this.node.tick(), false);
    if (this.quiescePolicy !== undefined) this.maybeQuiesce(this.quiescePolicy);
  }

  /**
   * A quiesce notice from peer `from`: it leads in `term` and everything up to `commit` is
   * committed everywhere. A follower of `from` in that term whose commit index reached `commit`
   * stops ticking; anything else (another term or leader, a follower behind, a group without the
   * option) ignores the notice and keeps ticking. Returns whether the group is quiesced now.
   */
  quiesceNotice(from: NodeId, term: number, commit: number): boolean {
    if (this.stoppedFlag || this.quiescePolicy === undefined) return false;
    const node = this.node;
    if (node.role !== 'follower' || node.term !== term || node.leader !== from || node.commitIndex < commit) return this.quiescedFlag;
    this.quiesceWhenIdle = { from, term, commit };
    return this.quiesceIfIdle();
  }

  /** Quiesces a follower holding an accepted notice once nothing is left to do; whether it is quiesced. */
  private quiesceIfIdle(): boolean {
    const notice = this.quiesceWhenIdle;
    if (notice === null || this.stoppedFlag) return this.quiescedFlag;
    const node = this.node;
    if (node.role !== 'follower' || node.term !== notice.term || node.leader !== notice.from) {
      this.quiesceWhenIdle = null;
      return this.quiescedFlag;
    }
    if (this.driving || this.writing !== null || this.durable !== null || this.appliedIndex < notice.commit || node.hasReady()) return this.quiescedFlag;
    this.quiesceWhenIdle = null;
    this.idleTicks = 0;
    this.setQuiesced(true);
    return true;
  }

  /** Starts an election now (a new group's preferred leader, so the group need not wait a timeout). */
  campaign(): void {
    this.input(() => this.node.campaign());
  }

  /**
   * The store finished loading entries it had answered with LogNotLoadedError (a partition's Raft
   * log calls its onLoaded callback): retry the appends and the applying that waited for them.
   */
  storageLoaded(): void {
    this.input(() => this.node.storageLoaded(), false);
  }

  /** A message from a peer. Any term, duplicated or reordered, is fine. */
  step(message: Message): void {
    // Answers to the last heartbeats (or appends) before the leader quiesced are still on their
    // way: they change nothing that matters to an idle leader, so it stays quiesced if still idle.
    const node = this.node;
    const answer =
      this.quiescedFlag && node.isLeader && message.term === node.term && (message.type === 'heartbeatResp' || (message.type === 'appResp' && !message.reject));
    this.input(() => node.step(message));
    if (!answer) return;
    const idle = this.leaderIdle();
    if (idle === null) return;
    this.setQuiesced(true);
    this.quiescedVoters = idle.voters;
  }

  /**
   * Proposes `data` as consecutive entries, all or none. On acceptance `done` later receives the
   * outcome, exactly once (see ProposalOutcome); a refusal is returned at once and `done` is never
   * called. The entries must not be mutated afterwards.
   */
  propose(data: readonly Uint8Array[], done: ProposalCallback): ProposeResult {
    assert(data.length > 0, 'empty proposal');
    return this.accept(() => this.node.proposeBatch(data), data.length, done);
  }

  /** propose() as a promise: resolves once applied here, rejects with a ProposalError otherwise. */
  proposeAndWait(data: readonly Uint8Array[]): Promise<ProposalOutcome> {
    return new Promise((resolve, reject) => {
      const result = this.propose(data, (outcome) => (outcome.kind === 'applied' ? resolve(outcome) : reject(ProposalError.lost(outcome))));
      if (!result.accepted) reject(ProposalError.refused(result.reason));
    });
  }

  /** A single-server membership change (see src/raft/conf-change.ts), decided like a proposal. */
  proposeConfChange(change: ConfChange, done: ProposalCallback): ProposeResult {
    return this.accept(() => this.node.proposeConfChange(change), 1, done);
  }

  /** Hands leadership to voter `target` (before a controlled shutdown, for instance). */
  transferLeader(target: NodeId): TransferResult {
    let result: TransferResult = { accepted: false, reason: 'not-leader' };
    this.input(() => (result = this.node.transferLeader(target)));
    return result;
  }

  /**
   * Snapshots the state machine at the next opportunity if anything was applied since the latest
   * snapshot, even short of the policy's entry count (the time-based trigger, raft.snapshotInterval).
   * Now when the group is idle, else once the Ready in flight is done. No-op without a policy.
   */
  requestSnapshot(): void {
    if (this.stoppedFlag || this.snapshots === undefined) return;
    this.snapshotRequested = true;
    if (this.driving || this.writing !== null || this.durable !== null) return;
    try {
      this.maybeSnapshot();
    } catch (error) {
      this.fail(error);
    }
  }

  /** Wakes a quiesced leader (a member's link came back and it must be caught up and heartbeated). */
  wakeLeader(): void {
    if (this.quiescedFlag && this.node.isLeader) this.input(() => {});
  }

  /**
   * The link to `peer` came back after being down, to another process. A leader forgets what it acknowledged (its process
   * may have restarted on a replaced disk) and catches it up, waking if quiesced.
   */
  peerReconnected(peer: NodeId): void {
    if (this.node.isLeader) this.input(() => this.node.peerReconnected(peer));
  }

  /** Ends joining without catching up: no member of the group ever held an entry (RaftNode.endJoining). */
  endJoining(): void {
    this.input(() => this.node.endJoining());
  }

  /** The transport could not reach `peer`: the leader stops pipelining to it. */
  reportUnreachable(peer: NodeId): void {
    // Only a leader reacts to this; a quiesced follower wakes only when it may have lost its leader
    // (so that its election timer runs), not for every peer of the broker that goes down.
    if (this.quiescedFlag && !this.node.isLeader && peer !== this.node.leader) return;
    this.input(() => this.node.reportUnreachable(peer));
  }

  /** The transport delivered (`ok`) or gave up on a snapshot message to `peer`. */
  reportSnapshot(peer: NodeId, ok: boolean): void {
    this.input(() => this.node.reportSnapshot(peer, ok));
  }

  /**
   * Stops the group: a write in flight is abandoned (its completion is ignored), pending proposals
   * end as `stopped`, later inputs are ignored. Idempotent.
   */
  stop(): void {
    if (this.stoppedFlag) return;
    this.stoppedFlag = true;
    this.writing = null;
    this.durable = null;
    this.proposals.stopped();
    this.proposals.notify();
  }

  private accept(propose: () => ProposeResult, count: number, done: ProposalCallback): ProposeResult {
    let result: ProposeResult = { accepted: false, reason: 'not-leader' };
    this.input(() => {
      result = propose();
      if (result.accepted) this.proposals.add(result.index, result.index + count - 1, result.term, done);
    });
    return result;
  }

  /** `activity`: the input is news from outside (not a tick, not the store catching up): a notice waiting for the loop to run dry no longer holds. */
  private input(apply: () => void, activity = true): void {
    if (this.stoppedFlag) return;
    if (activity) this.quiesceWhenIdle = null;
    // Any input wakes a quiesced group: the leader heartbeats again, a follower counts its
    // election timeout again.
    if (this.quiescedFlag) this.setQuiesced(false);
    try {
      apply();
    } catch (error) {
      this.fail(error);
      return;
    }
    this.drive();
  }

  private drive(): void {
    if (this.driving || this.stoppedFlag) return;
    this.driving = true;
    try {
      for (let handled = 0; handled < READIES_PER_CALL_MAX && !this.stoppedFlag; ) {
        const durable = this.durable;
        if (durable !== null) {
          this.durable = null;
          this.finish(durable);
          handled++;
          continue;
        }
        if (this.writing !== null || !this.node.hasReady()) break;
        const rd = this.node.ready();
        if (rd.snapshot === null && rd.entries.length === 0 && rd.hardState === null) {
          this.durable = rd;
          continue;
        }
        this.writing = rd;
        // A leader that counts its own copy only once durable (RaftConfig.leaderWritesInParallel)
        // sends its appends now, so the followers write while it does; anything that changes its
        // term or vote, or installs a snapshot, still waits for the write.
        if (this.pipelines && this.node.isLeader && rd.snapshot === null && (rd.hardState === null || (rd.hardState.term === this.durableTerm && rd.hardState.vote === this.durableVote))) {
          this.send(rd.messages);
          this.sentEarly = rd;
        }
        this.store.persist(rd, (error) => this.persisted(rd, error));
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.driving = false;
    }
    if (this.quiesceWhenIdle !== null) this.quiesceIfIdle();
  }

  /** The store's completion of `rd`'s write; may come synchronously from inside persist(). */
  private persisted(rd: Ready, error: Error | null): void {
    if (this.stoppedFlag) return;
    if (this.writing !== rd) {
      this.fail(new AssertionError('the store completed a write that was not in flight'));
      return;
    }
    this.writing = null;
    if (error !== null) {
      this.fail(error);
      return;
    }
    this.durable = rd;
    this.drive();
  }

  /** Steps 2 to 4 for a Ready whose writes are durable. */
  private finish(rd: Ready): void {
    if (rd.hardState !== null) {
      this.durableTerm = rd.hardState.term;
      this.durableVote = rd.hardState.vote;
    }
    if (rd.softState !== null) this.onSoftState?.(rd.softState, this.durableTerm);
    if (this.sentEarly === rd) this.sentEarly = null;
    else this.send(rd.messages);
    if (rd.snapshot !== null) {
      this.stateMachine.restore(rd.snapshot);
      this.appliedIndex = rd.snapshot.metadata.index;
    }
    const committed = rd.committedEntries;
    if (committed.length > 0) {
      assert(committed[0]!.index === this.appliedIndex + 1, `applying index ${committed[0]!.index} after ${this.appliedIndex}`);
      this.stateMachine.apply(committed);
      this.appliedIndex = committed[committed.length - 1]!.index;
      this.proposals.applied(committed);
    }
    this.node.advance(rd);
    // Caught up once the vote it counts as cast (Raft.checkJoined) is durable: the next Ready writes it.
    if (this.onJoined !== undefined && this.node.caughtUp && this.node.vote === this.durableVote) {
      const joined = this.onJoined;
      this.onJoined = undefined;
      const done = joined();
      if (done instanceof Promise) {
        void done.catch(() => undefined).then(() => this.input(() => this.node.endJoining(), false));
      } else {
        this.node.endJoining();
      }
    }
    this.proposals.leadershipChanged(this.node.term, this.node.isLeader);
    this.maybeSnapshot();
    this.proposals.notify();
  }

  private send(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    const byPeer = new Map<NodeId, Message[]>();
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const list = byPeer.get(m.to);
      if (list === undefined) byPeer.set(m.to, [m]);
      else list.push(m);
    }
    for (const [to, list] of byPeer) this.transport.send(to, list);
  }

  private maybeSnapshot(): void {
    const policy = this.snapshots;
    if (policy === undefined) return;
    const since = this.appliedIndex - this.store.snapshot().metadata.index;
    if (since < policy.everyEntries && !(this.snapshotRequested && since > 0)) return;
    const meta = this.node.appliedSnapshotMetadata();
    if (meta === null) return;
    this.snapshotRequested = false;
    assert(meta.index === this.appliedIndex, `state machine applied ${this.appliedIndex}, the core ${meta.index}`);
    this.store.createSnapshot(meta.index, meta.confState, this.stateMachine.snapshot());
    this.store.compact(Math.max(this.store.firstIndex(), meta.index - policy.keepEntries + 1));
  }

  private setQuiesced(quiesced: boolean): void {
    if (this.quiescedFlag === quiesced) return;
    this.quiescedFlag = quiesced;
    if (!quiesced) this.quiescedVoters = null;
    this.onQuiesce?.(quiesced);
  }

  /** The leader side of "Quiescence" above, after a tick. */
  private maybeQuiesce(policy: QuiescePolicy): void {
    const idle = this.leaderIdle();
    if (idle === null) {
      this.idleTicks = 0;
      return;
    }
    this.idleTicks++;
    // Every member recently active: the first check-quorum round after waking then passes even
    // though the members' answers were not counted while quiesced.
    if (this.idleTicks < policy.afterTicks || !idle.allActive) return;
    this.idleTicks = 0;
    this.setQuiesced(true);
    this.quiescedVoters = idle.voters;
    const { id: self, term, commit } = idle.status;
    for (const id of idle.status.progress!.keys()) if (id !== self && this.transport.peerDown?.(id) !== true) this.transport.quiesce!(id, term, commit);
  }

  /**
   * The status of this node if it leads and is idle: nothing pending, its whole log committed,
   * applied and matched by every member, nothing in flight to any; null otherwise.
   */
  private leaderIdle(): { status: Status; allActive: boolean; voters: NodeId[] } | null {
    const node = this.node;
    const last = node.lastIndex;
    const cheap =
      !this.stoppedFlag &&
      node.isLeader &&
      this.proposals.size === 0 &&
      this.writing === null &&
      this.durable === null &&
      node.commitIndex === last &&
      this.appliedIndex === last &&
      node.appliedIndex === last;
    if (!cheap) return null;
    // status() allocates, so it is read only once the cheap conditions hold; an idle leader reads
    // it for about afterTicks ticks and then stops ticking.
    const status = node.status();
    if (status.leadTransferee !== 0 || status.progress === null) return null;
    let allActive = true;
    // Voters holding the whole log, this one included: a quorum of them must, whoever is down.
    const voters: NodeId[] = [];
    for (const [id, peer] of status.progress) {
      if (id === status.id) {
        if (!peer.isLearner) voters.push(id);
        continue;
      }
      // A member whose broker is down is not waited for (the host wakes the group when it is back);
      // every other one must hold the whole log. Probe state is fine once it matches the last index:
      // a leader that lost touch with a member probes it, and with nothing new to send it stays in
      // probe although the member has everything.
      if (this.transport.peerDown?.(id) === true) continue;
      if (peer.match !== last || peer.state === 'snapshot' || peer.inflightBytes !== 0) return null;
      if (!peer.isLearner) voters.push(id);
      if (!peer.recentActive) allActive = false;
    }
    if (2 * voters.length <= status.confState.voters.length) return null;
    return { status, allActive, voters };
  }

  private fail(error: unknown): void {
    if (this.stoppedFlag) return;
    this.stop();
    this.onFailure(error);
  }
}
