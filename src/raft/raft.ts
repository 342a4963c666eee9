import { assert } from '../util/assert.ts';
import { applyConfChange, confChangeProblem, decodeConfChange, encodeConfChange } from './conf-change.ts';
import type { ConfChange } from './conf-change.ts';
import { resolveConfig } from './config.ts';
import { LogNotLoadedError } from './errors.ts';
import type { RaftConfig, ResolvedRaftConfig } from './config.ts';
import { stepCandidate, stepFollower } from './follower.ts';
import { bcastHeartbeat, flushAppends, maybeCommit, retryProbe, sendTimeoutNow, stepLeader } from './leader.ts';
import { EntryType, message, NO_NODE } from './messages.ts';
import type { ConfState, Entry, Message, NodeId } from './messages.ts';
import { ProgressTracker } from './progress-tracker.ts';
import type { Role } from './ready.ts';
import { RaftLog } from './raft-log.ts';

/** Why a proposal was not appended. The caller may retry elsewhere (another leader) or later. */
export type RefusalReason =
  | 'not-leader'
  | 'transferring-leadership'
  | 'too-many-uncommitted-bytes'
  | 'conf-change-pending'
  | 'learner-behind'
  | 'already-member'
  | 'not-learner'
  | 'not-member'
  | 'last-voter'
  | 'not-voter'
  | 'already-leader';

export type ProposeResult =
  | { readonly accepted: true; readonly index: number; readonly term: number }
  | { readonly accepted: false; readonly reason: RefusalReason };

export type CampaignKind = 'preElection' | 'election' | 'transfer';

/**
 * The Raft state machine proper (roles, terms, votes, elections, replication bookkeeping). It is
 * internal: RaftNode is the public surface and adds the Ready/advance protocol. Role-specific
 * message handling lives in leader.ts and follower.ts; they operate on this object's fields.
 *
 * Nothing here does I/O or reads a clock: outputs accumulate in `msgs` and in the unstable log,
 * and RaftNode hands them to the driver.
 */
export class Raft {
  readonly id: NodeId;
  readonly cfg: ResolvedRaftConfig;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  term = 0;
  vote: NodeId = NO_NODE;
  lead: NodeId = NO_NODE;
  role: Role = 'follower';
  msgs: Message[] = [];
  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  leadTransferee: NodeId = NO_NODE;
  /** Index of the latest conf-change entry a leader appended; no new one until it is applied. */
  pendingConfIndex = 0;
  /** Payload bytes a leader appended beyond what it handed out as committed. */
  uncommittedBytes = 0;
  /**
   * Per proposal call on the leader, flattened pairs (last index, payload bytes), so committed
   * bytes are released per proposal rather than by walking every committed entry again.
   */
  private uncommitted: number[] = [];
  private uncommittedHead = 0;
  /** A leader has appends (or a commit index) to send: done in flushAppends(), once per Ready. */
  pendingFlush = false;
  /** A send to a learner waited for the learners' allowance (config learnerSendBudget): retry at the next tick. */
  learnerThrottled = false;
  /** Joining (config `joining`): no campaign, no vote, until caught up (checkJoined). */
  joining: boolean;
  /** The commit index of the first append or snapshot a leader sent while joining; -1 before one came. */
  joinTarget = -1;
  /** Joining found the node caught up; with config `confirmJoining` it votes once the host calls endJoining(). */
  caughtUp = false;
  /**
   * A node that lost its log (config `lostLogMembers`) learns the group's term first: until a
   * majority of the members other than itself answered its query, it neither acknowledges nor votes.
   */
  learningTerm: boolean;
  /** The members asked, and those that answered. */
  private readonly termQuery: { readonly members: readonly NodeId[]; readonly need: number; readonly answered: Set<NodeId> } | null;

  constructor(config: RaftConfig) {
    this.cfg = resolveConfig(config);
    this.id = this.cfg.id;
    this.joining = this.cfg.joining;
    const lost = this.cfg.joining ? this.cfg.lostLogMembers : undefined;
    if (lost !== undefined) {
      const others = [...new Set(lost)].filter((id) => id !== this.cfg.id);
      // A majority of the whole group, counted among the others only (at most all of them).
      this.termQuery = { members: others, need: Math.min(others.length, Math.floor(new Set([...lost, this.cfg.id]).size / 2) + 1), answered: new Set() };
    } else {
      this.termQuery = null;
    }
    this.learningTerm = this.termQuery !== null && this.termQuery.need > 0;
    const storage = this.cfg.storage;
    const { hardState, confState } = storage.initialState();
    this.log = new RaftLog(storage, this.cfg.maxApplyBytes);
    this.tracker = new ProgressTracker(confState, this.cfg.maxInflightMessages, this.cfg.maxInflightBytes);
    assert(hardState.commit >= 0 && hardState.commit <= this.log.lastIndex(), `stored commit ${hardState.commit} is past the stored log (${this.log.lastIndex()})`);
    this.term = hardState.term;
    this.vote = hardState.vote;
    // The snapshot may sit above firstIndex() - 1 when compaction kept some entries below it.
    const snapshotIndex = storage.snapshot().metadata.index;
    this.log.committed = Math.max(hardState.commit, snapshotIndex);
    const applied = this.cfg.applied ?? snapshotIndex;
    assert(applied >= snapshotIndex && applied <= this.log.committed, `applied ${applied} lies outside [snapshot ${snapshotIndex}, commit ${this.log.committed}]`);
    // Membership is the snapshot's, plus the conf changes the application already applied.
    // A storage that lists its conf changes from memory answers at once; otherwise the entries are
    // read, possibly in pieces (a caching one): LogNotLoadedError propagates, and the owner loads
    // [snapshot + 1, applied] before building a node with `applied` above the snapshot.
    if (storage.confChangeEntries !== undefined) {
      for (const entry of storage.confChangeEntries(snapshotIndex + 1, applied + 1)) this.applyConfChangeEntry(entry);
    } else {
      for (let lo = snapshotIndex + 1; lo <= applied; ) {
        const applying = this.log.slice(lo, applied + 1, Number.MAX_SAFE_INTEGER);
        assert(applying !== null && applying.length > 0, 'applied entries are compacted');
        for (const entry of applying) if (entry.type === EntryType.ConfChange) this.applyConfChangeEntry(entry);
        lo += applying.length;
      }
    }
    this.log.appliedTo(applied);
    this.becomeFollower(this.term, NO_NODE);
  }

  // ---- roles -------------------------------------------------------------------------------

  promotable(): boolean {
    return !this.joining && this.tracker.isVoter(this.id);
  }

  /**
   * While joining: the first append or snapshot from a leader sets the index to reach (a leader sends
   * to this node only once it applied the change that added it, so its commit index covers it).
   */
  heardFromLeader(commit: number): void {
    if (this.joining && this.joinTarget < 0) this.joinTarget = commit;
  }

  /**
   * Ends joining once everything up to the target is applied and the last entry applied is of the
   * current term, whose leader we follow. A node that lost its log (a replaced disk) may have helped
   * commit entries it no longer has; a leader's log holds every entry committed before its term
   * (paper 5.4), below its own first entry, but its commit index may lag them until an entry of its
   * term commits: an applied entry of its term is past all of them. Both conditions only become
   * true as entries are applied, so an idle leader (no more appends) lets the node finish. The node
   * also forgot the votes it cast: it counts itself as having voted for the leader of this term, so
   * no rival of this term gets its vote (the driver persists that before saying the node joined).
   */
  checkJoined(): void {
    if (!this.joining || this.caughtUp || this.joinTarget < 0 || this.log.applied < this.joinTarget) return;
    if (this.lead === NO_NODE || this.log.term(this.log.applied) !== this.term) return;
    this.caughtUp = true;
    if (this.vote === NO_NODE) this.vote = this.lead;
    if (!this.cfg.confirmJoining) this.joining = false;
  }

  /**
   * Ends joining without catching up: the host learnt that no member of the group ever held an entry
   * (a new group whose members all start empty), so there is nothing this node could have lost.
   */
  endJoining(): void {
    this.joining = false;
    this.learningTerm = false;
    this.joinTarget = -1;
  }

  /**
   * Asks the members that have not answered for their term: a pre-vote for term 1, which any member
   * in a later term refuses with its term and none grants with anything but term 1 (no state
   * changes on their side).
   */
  private queryTerm(): void {
    for (const id of this.termQuery!.members) {
      if (this.termQuery!.answered.has(id)) continue;
      this.send(message({ type: 'preVote', from: this.id, to: id, term: 1, index: 0, logTerm: 0 }));
    }
  }

  /** While learning the term: adopt higher terms, count answers, acknowledge nothing. */
  private stepLearningTerm(m: Message): void {
    const query = this.termQuery!;
    const grantedPreVote = m.type === 'preVoteResp' && !m.reject;
    if (m.term > this.term && m.type !== 'preVote' && !grantedPreVote) {
      this.becomeFollower(m.term, m.type === 'app' || m.type === 'heartbeat' || m.type === 'snapshot' ? m.from : NO_NODE);
    }
    if (m.type === 'preVoteResp') {
      if (query.members.includes(m.from)) query.answered.add(m.from);
      // The answers' terms are adopted above (made durable before anything this node sends next).
      if (query.answered.size >= query.need) this.learningTerm = false;
      return;
    }
    // No answer to vote requests, term queries included: the term this node would answer with is not
    // known yet (two members back from replaced disks must not teach each other an old term).
    if (m.type === 'vote' || m.type === 'preVote') return;
    // A deposed leader learns our newer term, as a follower would tell it; anything else waits.
    if (m.term < this.term && (m.type === 'app' || m.type === 'heartbeat')) {
      this.send(message({ type: 'appResp', from: this.id, to: m.from, term: this.term }));
    }
  }

  /**
   * The link to `id` came back: its process may have restarted with a lost log (a replaced disk), so
   * what it acknowledged before no longer counts. The leader probes it afresh from its last index;
   * forgetting a match only delays commits that rely on that member, never undoes one.
   */
  peerReconnected(id: NodeId): void {
    if (this.role !== 'leader' || id === this.id) return;
    const pr = this.tracker.progress.get(id);
    if (pr === undefined) return;
    pr.forget(this.log.lastIndex() + 1);
    // A transfer to it is void: the TimeoutNow may have gone to the old process.
    if (this.leadTransferee === id) this.leadTransferee = NO_NODE;
    this.pendingFlush = true;
  }

  private reset(term: number): void {
    if (this.term !== term) {
      assert(term > this.term, 'term must not go back');
      this.term = term;
      this.vote = NO_NODE;
    }
    this.lead = NO_NODE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.cfg.electionTicks + this.cfg.random.nextInt(this.cfg.electionTicks);
    assert(this.randomizedElectionTimeout >= this.cfg.electionTicks && this.randomizedElectionTimeout < 2 * this.cfg.electionTicks, 'Random.nextInt out of bounds');
    this.leadTransferee = NO_NODE;
    this.tracker.resetVotes();
    this.tracker.resetProgress(this.log.lastIndex());
    const self = this.tracker.progress.get(this.id);
    if (self !== undefined) self.match = this.log.lastIndex();
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.uncommitted = [];
    this.uncommittedHead = 0;
    this.pendingFlush = false;
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
  }

  becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    // A pre-candidate keeps its term and vote: it only asks whether it could win.
    this.tracker.resetVotes();
    this.lead = NO_NODE;
    this.role = 'preCandidate';
  }

  becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  becomeLeader(): void {
    assert(this.role === 'candidate', 'only a candidate becomes leader');
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    const self = this.tracker.progress.get(this.id)!;
    self.becomeReplicate();
    self.recentActive = true;
    // A no-op entry of the new term: committing it commits every earlier entry (paper 5.4.2),
    // and until it is applied no membership change may start (the single-server change fix).
    this.appendEntries(EntryType.Normal, [new Uint8Array(0)], 0);
    this.pendingConfIndex = this.log.lastIndex();
  }

  // ---- inputs ------------------------------------------------------------------------------

  tick(): void {
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.learningTerm) {
      if (this.electionElapsed % this.cfg.heartbeatTicks === 0) this.queryTerm();
      return;
    }
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup('election');
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum && !this.tracker.quorumActiveAndReset(this.id)) {
        this.becomeFollower(this.term, NO_NODE);
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.leadTransferee !== NO_NODE) this.leadTransferee = NO_NODE;
    }
    for (const [id, pr] of this.tracker.progress) {
      if (pr.state === 'snapshot' && ++pr.snapshotTicks >= this.cfg.snapshotTimeoutTicks) {
        pr.becomeProbe();
        this.pendingFlush = true;
      } else if (pr.state === 'probe' && pr.probeSent && pr.probeSentTicks >= 0 && this.cfg.probeRetryTicks > 0 && ++pr.probeSentTicks >= this.cfg.probeRetryTicks) {
        retryProbe(this, id, pr);
      }
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      bcastHeartbeat(this);
    }
    if (this.learnerThrottled) {
      this.learnerThrottled = false;
      this.pendingFlush = true;
    }
  }

  /** Starts an election if this node may (voter, not leader, no unapplied membership change). */
  hup(kind: CampaignKind): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) return;
    // Our membership could be stale until committed conf changes are applied.
    if (this.hasUnappliedConfChanges()) return;
    this.campaign(this.cfg.preVote && kind === 'election' ? 'preElection' : kind);
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.log.applying >= this.log.committed) return false;
    for (let lo = Math.max(this.log.applying + 1, this.log.firstIndex()); lo <= this.log.committed; ) {
      let entries: readonly Entry[] | null;
      try {
        entries = this.log.slice(lo, this.log.committed + 1, Number.MAX_SAFE_INTEGER);
      } catch (e) {
        // Not in memory yet: assume the worst and do not campaign now. Applying loads these
        // entries, and the next election timeout asks again.
        if (e instanceof LogNotLoadedError) return true;
        throw e;
      }
      if (entries === null) return false;
      for (const entry of entries) if (entry.type === EntryType.ConfChange) return true;
      lo += entries.length;
    }
    return false;
  }

  campaign(kind: CampaignKind): void {
    let voteTerm: number;
    let type: 'preVote' | 'vote';
    if (kind === 'preElection') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
      type = 'preVote';
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
      type = 'vote';
    }
    if (this.poll(this.id, true) === 'won') {
      // A single-voter group wins at once.
      if (kind === 'preElection') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.tracker.conf.voters) {
      if (id === this.id) continue;
      this.send(message({ type, from: this.id, to: id, term: voteTerm, index: lastIndex, logTerm: lastTerm, leaderTransfer: kind === 'transfer' }));
    }
  }

  poll(id: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    this.tracker.recordVote(id, granted);
    return this.tracker.tallyVotes();
  }

  step(m: Message): void {
    assert(m.to === this.id, `message for ${m.to} stepped into node ${this.id}`);
    assert(m.from !== this.id, 'a node does not message itself');
    if (this.learningTerm) {
      this.stepLearningTerm(m);
      return;
    }
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        // Leader stickiness: while we hear from a leader, ignore candidates (unless a transfer
        // asked for the election), so a node that was partitioned away cannot depose it.
        const inLease = this.cfg.checkQuorum && this.lead !== NO_NODE && this.electionElapsed < this.cfg.electionTicks;
        if (!m.leaderTransfer && inLease) return;
      }
      if (m.type === 'preVote') {
        // A pre-vote never changes our term.
      } else if (m.type === 'preVoteResp' && !m.reject) {
        // A granted pre-vote carries the term we would campaign in, not a term anyone is in.
      } else if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snapshot') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NO_NODE);
      }
    } else if (m.term < this.term) {
      if (m.type === 'heartbeat' || m.type === 'app') {
        // Paper 5.1: a request with a stale term is rejected with our term, so a deposed leader
        // (for instance one cut off by a partition that check-quorum or pre-vote kept from
        // hearing about the new term) learns it and steps down.
        this.send(message({ type: 'appResp', from: this.id, to: m.from, term: this.term }));
      } else if (m.type === 'preVote') {
        this.send(message({ type: 'preVoteResp', from: this.id, to: m.from, term: this.term, reject: true }));
      }
      return;
    }
    if (m.type === 'vote' || m.type === 'preVote') {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        stepLeader(this, m);
        break;
      case 'candidate':
      case 'preCandidate':
        stepCandidate(this, m);
        break;
      case 'follower':
        stepFollower(this, m);
        break;
    }
  }

  private handleVoteRequest(m: Message): void {
    const responseType = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
    if (this.joining) {
      this.send(message({ type: responseType, from: this.id, to: m.from, term: this.term, reject: true }));
      return;
    }
    // One vote per term (paper 5.2): we may vote again only for the same candidate. A pre-vote
    // for a future term is not a vote.
    const canVote =
      this.vote === m.from ||
      (this.vote === NO_NODE && this.lead === NO_NODE) ||
      (m.type === 'preVote' && m.term > this.term);
    // The election restriction (paper 5.4.1): only for a log at least as up-to-date as ours.
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      this.send(message({ type: responseType, from: this.id, to: m.from, term: m.term }));
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send(message({ type: responseType, from: this.id, to: m.from, term: this.term, reject: true }));
    }
  }

  // ---- leader-side local inputs ----------------------------------------------------------

  /**
   * Appends entries with the given payloads (`bytes` in total) at the end of the leader's log;
   * returns the first index.
   */
  appendEntries(type: EntryType, payloads: readonly Uint8Array[], bytes: number): number {
    assert(this.role === 'leader', 'only a leader appends new entries');
    let index = this.log.lastIndex();
    const first = index + 1;
    const term = this.term;
    const unstable = this.log.unstable;
    for (let i = 0; i < payloads.length; i++) unstable.push({ term, index: ++index, type, data: payloads[i]! });
    if (bytes > 0) {
      this.uncommittedBytes += bytes;
      this.uncommitted.push(index, bytes);
    }
    // The leader counts its own copy at once: the driver persists these entries before sending
    // any message of the same Ready, so no follower can acknowledge them before they are durable here.
    // With leaderWritesInParallel it counts them once they are durable instead (leaderStable).
    if (!this.cfg.leaderWritesInParallel) {
      this.tracker.progress.get(this.id)!.maybeUpdate(index);
      maybeCommit(this);
    }
    this.pendingFlush = true;
    return first;
  }

  /** Committed entries up to `index` were handed out: their bytes no longer count as uncommitted. */
  releaseUncommitted(index: number): void {
    const queue = this.uncommitted;
    let head = this.uncommittedHead;
    while (head < queue.length && queue[head]! <= index) {
      this.uncommittedBytes -= queue[head + 1]!;
      head += 2;
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head > 1024) {
      queue.splice(0, head);
      head = 0;
    }
    this.uncommittedHead = head;
    assert(this.uncommittedBytes >= 0, 'uncommitted bytes went negative');
  }

  propose(type: EntryType, payloads: readonly Uint8Array[]): ProposeResult {
    if (this.role !== 'leader') return { accepted: false, reason: 'not-leader' };
    if (this.leadTransferee !== NO_NODE) return { accepted: false, reason: 'transferring-leadership' };
    let bytes = 0;
    for (let i = 0; i < payloads.length; i++) bytes += payloads[i]!.byteLength;
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.cfg.maxUncommittedBytes) {
      return { accepted: false, reason: 'too-many-uncommitted-bytes' };
    }
    const index = this.appendEntries(type, payloads, bytes);
    return { accepted: true, index, term: this.term };
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    if (this.role !== 'leader') return { accepted: false, reason: 'not-leader' };
    if (this.leadTransferee !== NO_NODE) return { accepted: false, reason: 'transferring-leadership' };
    if (this.pendingConfIndex > this.log.applied) return { accepted: false, reason: 'conf-change-pending' };
    const problem = confChangeProblem(this.tracker.conf, change);
    if (problem !== null) return { accepted: false, reason: problem as RefusalReason };
    if (change.type === 'promoteLearner') {
      const pr = this.tracker.progress.get(change.nodeId)!;
      if (pr.state !== 'replicate' || pr.match + this.cfg.promotionMaxLagEntries < this.log.committed) {
        return { accepted: false, reason: 'learner-behind' };
      }
    }
    const result = this.propose(EntryType.ConfChange, [encodeConfChange(change)]);
    if (result.accepted) this.pendingConfIndex = result.index;
    return result;
  }

  /**
   * With leaderWritesInParallel: entries up to `index` of `term` are durable here. A leader of that
   * term counts its own copy of them now, which may commit them (a quorum of followers may already
   * hold them).
   */
  leaderStable(index: number, term: number): void {
    if (!this.cfg.leaderWritesInParallel || this.role !== 'leader' || term !== this.term) return;
    const self = this.tracker.progress.get(this.id);
    if (self !== undefined && self.maybeUpdate(index) && maybeCommit(this)) this.pendingFlush = true;
  }

  /** Starts (or keeps) a leadership transfer to `target`; returns why not, or null. */
  transferLeader(target: NodeId): RefusalReason | null {
    if (this.role !== 'leader') return 'not-leader';
    if (target === this.id) return 'already-leader';
    if (!this.tracker.isVoter(target)) return 'not-voter';
    if (this.leadTransferee !== target) {
      this.leadTransferee = target;
      // The transfer must finish within an election timeout, counted from now.
      this.electionElapsed = 0;
      const pr = this.tracker.progress.get(target)!;
      if (pr.match === this.log.lastIndex()) {
        sendTimeoutNow(this, target);
      } else {
        // Bring the target up to date now, even if the appends already sent to it were lost.
        pr.probeDue = true;
        this.pendingFlush = true;
      }
    }
    return null;
  }

  /** The transport could not reach `id`: stop pipelining to it and probe instead. */
  reportUnreachable(id: NodeId): void {
    if (this.role !== 'leader') return;
    const pr = this.tracker.progress.get(id);
    if (pr !== undefined && pr.state === 'replicate') pr.becomeProbe();
  }

  /** The transport finished sending a snapshot to `id` (ok) or gave up (not ok). */
  reportSnapshot(id: NodeId, ok: boolean): void {
    if (this.role !== 'leader') return;
    const pr = this.tracker.progress.get(id);
    if (pr === undefined || pr.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // After a delivered snapshot, wait for the follower's answer before probing.
    if (ok) pr.probeSent = true;
    this.pendingFlush = true;
  }

  // ---- membership --------------------------------------------------------------------------

  /** Applies a committed conf-change entry as it is handed to the application. */
  applyConfChangeEntry(entry: Entry): void {
    assert(entry.type === EntryType.ConfChange, 'not a conf-change entry');
    const conf = applyConfChange(this.tracker.conf, decodeConfChange(entry.data));
    this.tracker.setConf(conf, this.log.lastIndex() + 1);
    if (this.role !== 'leader') return;
    if (!this.tracker.isVoter(this.id)) {
      // Removed (the leader does not lead a group it is no longer a voter of): the remaining
      // voters elect a new leader after their election timeout.
      this.becomeFollower(this.term, NO_NODE);
      return;
    }
    if (this.leadTransferee !== NO_NODE && !this.tracker.isVoter(this.leadTransferee)) this.leadTransferee = NO_NODE;
    // A smaller voter set may commit more; new members need appends.
    maybeCommit(this);
    this.pendingFlush = true;
  }

  confState(): ConfState {
    return this.tracker.conf;
  }

  send(m: Message): void {
    this.msgs.push(m);
  }

  flush(): void {
    if (this.role === 'leader' && this.pendingFlush) flushAppends(this);
    this.pendingFlush = false;
  }
}
