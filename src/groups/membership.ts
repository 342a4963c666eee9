/**
 * The rebalance state machine of classic groups: JoinGroup parking and completion, the initial
 * rebalance delay, protocol selection, SyncGroup assignment hand-out, static member replacement,
 * member liveness (session, new-member and sync timeouts) and removal. The GroupCoordinator
 * validates requests and calls in here; this module owns every timer of a group and every parked
 * JoinGroup/SyncGroup answer.
 *
 * Every parked promise is resolved exactly once: by the rebalance, by a timeout, by the member's
 * removal, by a newer request of the same member, or by `shutGroup`. None ever rejects.
 */
import { assert } from '../util/assert.ts';
import type { GroupCoordinatorConfig } from './coordinator-config.ts';
import { KafkaErrorCode } from './error-codes.ts';
import type { HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, SyncGroupRequest, SyncGroupResponse } from './group-api.ts';
import type { ClassicGroup } from './group.ts';
import type { GroupStore } from './group-store.ts';
import { copyProtocols, EMPTY_BYTES, GroupMember } from './member.ts';
import type { Clock, TimerHandle } from '../io/clock.ts';

export function joinError(memberId: string, errorCode: number): JoinGroupResponse {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

export function syncError(errorCode: number): SyncGroupResponse {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}

export interface MembershipContext {
  readonly groups: Map<string, ClassicGroup>;
  readonly store: GroupStore;
  readonly clock: Clock;
  readonly config: GroupCoordinatorConfig;
  readonly newId: () => string;
  readonly onBackgroundError: (error: unknown, context: string) => void;
}

export class Membership {
  private readonly groups: Map<string, ClassicGroup>;
  private readonly store: GroupStore;
  private readonly clock: Clock;
  private readonly config: GroupCoordinatorConfig;
  private readonly newId: () => string;
  private readonly onBackgroundError: (error: unknown, context: string) => void;

  constructor(ctx: MembershipContext) {
    this.groups = ctx.groups;
    this.store = ctx.store;
    this.clock = ctx.clock;
    this.config = ctx.config;
    this.newId = ctx.newId;
    this.onBackgroundError = ctx.onBackgroundError;
  }

  // ============================================================================================ JoinGroup

  /** JoinGroup without a member id (the group may have just been created for it). */
  joinNewMember(group: ClassicGroup, req: JoinGroupRequest, rebalanceTimeoutMs: number): Promise<JoinGroupResponse> {
    if (group.is('Dead')) return Promise.resolve(joinError('', KafkaErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(req.protocolType, req.protocols.map((p) => p.name))) {
      return Promise.resolve(joinError('', KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const instanceId = req.groupInstanceId;
    const oldMemberId = instanceId !== null ? group.staticMembers.get(instanceId) : undefined;
    if (oldMemberId === undefined && group.members.size >= this.config.groupMaxSize) {
      return Promise.resolve(joinError('', KafkaErrorCode.GROUP_MAX_SIZE_REACHED));
    }
    const memberId = `${instanceId ?? req.clientId}-${this.newId()}`;
    assert(!group.members.has(memberId) && !group.pendingMembers.has(memberId), 'id generator repeated an id');
    if (instanceId !== null) {
      if (oldMemberId !== undefined) return this.replaceStaticMember(group, oldMemberId, memberId, req, rebalanceTimeoutMs);
      return this.addMemberAndRebalance(group, memberId, req, rebalanceTimeoutMs);
    }
    if (req.apiVersion >= 4) {
      // KIP-394: hand out the id first, so that a client that retries after a lost response does
      // not leave an orphan member behind. The id is kept for one session timeout.
      const handle = this.clock.setTimer(req.sessionTimeoutMs, () => this.onPendingMemberExpired(group, memberId, handle));
      group.pendingMembers.set(memberId, handle);
      return Promise.resolve(joinError(memberId, KafkaErrorCode.MEMBER_ID_REQUIRED));
    }
    return this.addMemberAndRebalance(group, memberId, req, rebalanceTimeoutMs);
  }

  /** JoinGroup with a member id: a pending id from MEMBER_ID_REQUIRED, or a member's rejoin. */
  joinKnownMember(group: ClassicGroup, req: JoinGroupRequest, rebalanceTimeoutMs: number): Promise<JoinGroupResponse> {
    const memberId = req.memberId;
    if (group.is('Dead')) return Promise.resolve(joinError(memberId, KafkaErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(req.protocolType, req.protocols.map((p) => p.name))) {
      return Promise.resolve(joinError(memberId, KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    if (group.pendingMembers.has(memberId)) {
      // Ids from MEMBER_ID_REQUIRED are only handed to dynamic members.
      if (req.groupInstanceId !== null) return Promise.resolve(joinError(memberId, KafkaErrorCode.UNKNOWN_MEMBER_ID));
      if (group.members.size >= this.config.groupMaxSize) return Promise.resolve(joinError(memberId, KafkaErrorCode.GROUP_MAX_SIZE_REACHED));
      return this.addMemberAndRebalance(group, memberId, req, rebalanceTimeoutMs);
    }
    if (group.isStaticMemberFenced(memberId, req.groupInstanceId)) return Promise.resolve(joinError(memberId, KafkaErrorCode.FENCED_INSTANCE_ID));
    if (!group.has(memberId)) return Promise.resolve(joinError(memberId, KafkaErrorCode.UNKNOWN_MEMBER_ID));
    const member = group.get(memberId);
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(group, member, req, rebalanceTimeoutMs);
      case 'CompletingRebalance':
        // The member lost its join response: answer it again rather than start over.
        if (member.matches(req.protocols)) return Promise.resolve(this.currentJoinInfo(group, member, group.isLeader(memberId)));
        return this.updateMemberAndRebalance(group, member, req, rebalanceTimeoutMs);
      case 'Stable':
        // A follower rejoining unchanged gets the current generation; a leader rejoining means it
        // wants a new assignment (for instance, its subscription's topics changed).
        if (group.isLeader(memberId) || !member.matches(req.protocols)) return this.updateMemberAndRebalance(group, member, req, rebalanceTimeoutMs);
        return Promise.resolve(this.currentJoinInfo(group, member, false));
      case 'Empty':
      case 'Dead':
        return Promise.resolve(joinError(memberId, KafkaErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private currentJoinInfo(group: ClassicGroup, member: GroupMember, withMembers: boolean): JoinGroupResponse {
    this.touch(group, member);
    return {
      errorCode: KafkaErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: false,
      memberId: member.memberId,
      members: withMembers ? group.currentMemberMetadata() : [],
    };
  }

  private addMemberAndRebalance(group: ClassicGroup, memberId: string, req: JoinGroupRequest, rebalanceTimeoutMs: number): Promise<JoinGroupResponse> {
    return new Promise((resolve) => {
      const nowMs = this.clock.now();
      const member = new GroupMember({
        memberId,
        groupInstanceId: req.groupInstanceId,
        clientId: req.clientId,
        clientHost: req.clientHost,
        rebalanceTimeoutMs,
        sessionTimeoutMs: req.sessionTimeoutMs,
        protocolType: req.protocolType,
        protocols: copyProtocols(req.protocols),
        nowMs,
      });
      // A new member cannot heartbeat until its join is answered, so it is timed by the new-member
      // join timeout rather than its session; see memberDueMs.
      member.isNew = true;
      // Members joining during the initial delay of a brand-new group extend that delay.
      if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
      const pending = group.pendingMembers.get(memberId);
      if (pending !== undefined) {
        this.clock.clearTimer(pending);
        group.pendingMembers.delete(memberId);
      }
      group.add(member);
      member.joinWaiter = resolve;
      this.scheduleExpiry(group, member);
      if (group.canRebalance()) this.prepareRebalance(group);
      else this.tryCompleteJoin(group);
    });
  }

  private updateMemberAndRebalance(group: ClassicGroup, member: GroupMember, req: JoinGroupRequest, rebalanceTimeoutMs: number): Promise<JoinGroupResponse> {
    return new Promise((resolve) => {
      // A second JoinGroup while one is parked (the client gave up on the first): the newer one waits.
      this.answerJoin(member, joinError(member.memberId, KafkaErrorCode.REBALANCE_IN_PROGRESS));
      member.protocols = copyProtocols(req.protocols);
      member.rebalanceTimeoutMs = rebalanceTimeoutMs;
      member.sessionTimeoutMs = req.sessionTimeoutMs;
      member.joinWaiter = resolve;
      this.touch(group, member);
      if (group.canRebalance()) this.prepareRebalance(group);
      else this.tryCompleteJoin(group);
    });
  }

  /**
   * KIP-345: a static member restarted (same group.instance.id, no member id). It takes over the old
   * member's place under a new id, and the old id is fenced. In a Stable group whose selected protocol
   * stays the same, no rebalance happens: the member gets the current generation and its old
   * assignment on SyncGroup.
   */
  private replaceStaticMember(
    group: ClassicGroup,
    oldMemberId: string,
    newMemberId: string,
    req: JoinGroupRequest,
    rebalanceTimeoutMs: number,
  ): Promise<JoinGroupResponse> {
    const instanceId = req.groupInstanceId;
    assert(instanceId !== null, 'only static members are replaced');
    const currentLeader = group.leaderId;
    const old = group.get(oldMemberId);
    this.answerJoin(old, joinError(oldMemberId, KafkaErrorCode.FENCED_INSTANCE_ID));
    this.answerSync(old, syncError(KafkaErrorCode.FENCED_INSTANCE_ID));
    const saved = { protocols: old.protocols, rebalanceTimeoutMs: old.rebalanceTimeoutMs, sessionTimeoutMs: old.sessionTimeoutMs };
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
    member.protocols = copyProtocols(req.protocols);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    this.touch(group, member);

    if (group.is('Stable') && group.selectProtocol() === group.protocolName) {
      const generationId = group.generationId;
      // KIP-814 (v9+): a replaced leader learns it leads but must not reassign, since a Stable group
      // would not pass a new assignment on. Before v9 it gets the old leader id, so it does not
      // believe it leads and runs no assignment.
      const skipAssignment = req.apiVersion >= 9 && group.isLeader(newMemberId);
      const response: JoinGroupResponse = {
        errorCode: KafkaErrorCode.NONE,
        generationId,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        leader: skipAssignment ? newMemberId : (currentLeader ?? ''),
        skipAssignment,
        memberId: newMemberId,
        members: skipAssignment ? group.currentMemberMetadata() : [],
      };
      return this.store.storeGroup(group).then(
        () => response,
        (error: unknown) => {
          this.onBackgroundError(error, `storing group ${group.groupId} after static member replacement`);
          // Undo the replacement if nothing else touched the member meanwhile, so the old id works on.
          if (
            this.groups.get(group.groupId) === group &&
            group.members.get(newMemberId) === member &&
            member.joinWaiter === null &&
            member.syncWaiter === null
          ) {
            group.replaceStaticMember(instanceId, newMemberId, oldMemberId);
            member.protocols = saved.protocols;
            member.rebalanceTimeoutMs = saved.rebalanceTimeoutMs;
            member.sessionTimeoutMs = saved.sessionTimeoutMs;
          }
          return joinError('', KafkaErrorCode.COORDINATOR_NOT_AVAILABLE);
        },
      );
    }
    return new Promise((resolve) => {
      member.joinWaiter = resolve;
      switch (group.state) {
        case 'Stable': // the selected protocol would change
        case 'CompletingRebalance': // the leader may be assigning to the old id: start over
          this.prepareRebalance(group);
          break;
        case 'PreparingRebalance':
          this.tryCompleteJoin(group);
          break;
        default:
          assert(false, `a static member exists in a ${group.state} group`);
      }
    });
  }

  // ============================================================================================ rebalance

  private prepareRebalance(group: ClassicGroup): void {
    assert(group.canRebalance(), `cannot start a rebalance from ${group.state}`);
    // Members parked in SyncGroup must rejoin.
    if (group.is('CompletingRebalance')) this.resetAndPropagateAssignmentError(group, KafkaErrorCode.REBALANCE_IN_PROGRESS);
    this.cancelSyncTimer(group);
    group.pendingSyncMembers.clear();
    const initial = group.is('Empty');
    group.transitionTo('PreparingRebalance', this.clock.now());
    assert(group.joinTimer === null, 'a join timer is already running');
    const delayMs = this.config.groupInitialRebalanceDelayMs;
    if (initial && delayMs > 0) {
      this.startJoinTimer(group, 'initial', delayMs, Math.max(group.rebalanceTimeoutMs() - delayMs, 0));
    } else {
      this.startJoinTimer(group, 'normal', group.rebalanceTimeoutMs(), 0);
      this.tryCompleteJoin(group);
    }
  }

  private startJoinTimer(group: ClassicGroup, kind: 'initial' | 'normal', delayMs: number, remainingMs: number): void {
    const handle = this.clock.setTimer(delayMs, () => {
      const timer = group.joinTimer;
      if (this.groups.get(group.groupId) !== group || timer === null || timer.handle !== handle) return;
      group.joinTimer = null;
      if (timer.kind === 'initial' && group.newMemberAdded && timer.remainingMs > 0) {
        // More members arrived during the delay: wait once more, within the rebalance timeout.
        group.newMemberAdded = false;
        const next = Math.min(this.config.groupInitialRebalanceDelayMs, timer.remainingMs);
        this.startJoinTimer(group, 'initial', next, Math.max(timer.remainingMs - timer.delayMs, 0));
      } else {
        this.completeJoin(group);
      }
    });
    group.joinTimer = { handle, kind, delayMs, remainingMs };
  }

  /** Ends PreparingRebalance early once every member has rejoined (never during the initial delay). */
  private tryCompleteJoin(group: ClassicGroup): void {
    if (!group.is('PreparingRebalance') || group.joinTimer?.kind !== 'normal') return;
    if (!group.hasAllMembersJoined()) return;
    this.clock.clearTimer(group.joinTimer.handle);
    group.joinTimer = null;
    this.completeJoin(group);
  }

  private completeJoin(group: ClassicGroup): void {
    assert(group.is('PreparingRebalance'), 'join completes only while preparing');
    assert(group.joinTimer === null, 'the join timer is cleared before completion');
    // Dynamic members that did not rejoin are gone. Static members stay until their session
    // expires: a restarting static member must not cost a rebalance.
    for (const m of [...group.members.values()]) {
      if (m.joinWaiter === null && m.groupInstanceId === null) this.dropMember(group, m);
    }
    // The leader must be a member that is waiting for this answer.
    if (group.leaderId !== null && !group.get(group.leaderId).isAwaitingJoin()) {
      const joined = [...group.members.values()].find((m) => m.isAwaitingJoin());
      if (joined !== undefined) group.leaderId = joined.memberId;
      else {
        // Only absent static members are left: wait another round for them to rejoin or expire.
        this.startJoinTimer(group, 'normal', group.rebalanceTimeoutMs(), 0);
        return;
      }
    }
    const nowMs = this.clock.now();
    group.generationId++;
    if (group.members.size === 0) {
      group.protocolName = null;
      group.transitionTo('Empty', nowMs);
      this.storeInBackground(group, 'storing empty group');
      return;
    }
    group.protocolName = group.selectProtocol();
    group.transitionTo('CompletingRebalance', nowMs);
    for (const m of group.members.values()) {
      m.assignment = EMPTY_BYTES;
      group.pendingSyncMembers.add(m.memberId);
    }
    // Members that never send SyncGroup are removed after the rebalance timeout, so a vanished
    // leader cannot leave the group waiting forever.
    const generationId = group.generationId;
    group.syncTimer = this.clock.setTimer(group.rebalanceTimeoutMs(), () => this.onSyncTimeout(group, generationId));
    const leaderMembers = group.currentMemberMetadata();
    for (const m of group.members.values()) {
      const waiter = m.joinWaiter;
      if (waiter === null) continue;
      m.joinWaiter = null;
      m.isNew = false;
      this.touch(group, m);
      waiter({
        errorCode: KafkaErrorCode.NONE,
        generationId,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        leader: group.leaderId!,
        skipAssignment: false,
        memberId: m.memberId,
        members: group.isLeader(m.memberId) ? leaderMembers : [],
      });
    }
  }

  private onSyncTimeout(group: ClassicGroup, generationId: number): void {
    if (this.groups.get(group.groupId) !== group) return;
    group.syncTimer = null;
    if (group.generationId !== generationId || !(group.is('CompletingRebalance') || group.is('Stable'))) return;
    if (group.pendingSyncMembers.size === 0) return;
    for (const memberId of [...group.pendingSyncMembers]) this.dropMember(group, group.get(memberId));
    this.prepareRebalance(group);
  }

  private cancelSyncTimer(group: ClassicGroup): void {
    if (group.syncTimer !== null) this.clock.clearTimer(group.syncTimer);
    group.syncTimer = null;
  }

  // ============================================================================================ SyncGroup

  /** SyncGroup for a validated member of the current generation. */
  sync(group: ClassicGroup, member: GroupMember, req: SyncGroupRequest): Promise<SyncGroupResponse> {
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return Promise.resolve(syncError(KafkaErrorCode.UNKNOWN_MEMBER_ID));
      case 'PreparingRebalance':
        return Promise.resolve(syncError(KafkaErrorCode.REBALANCE_IN_PROGRESS));
      case 'Stable':
        this.markSynced(group, member);
        this.touch(group, member);
        return Promise.resolve({
          errorCode: KafkaErrorCode.NONE,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: member.assignment,
        });
      case 'CompletingRebalance':
        return new Promise((resolve) => {
          this.answerSync(member, syncError(KafkaErrorCode.REBALANCE_IN_PROGRESS));
          member.syncWaiter = resolve;
          this.markSynced(group, member);
          this.touch(group, member);
          if (group.isLeader(member.memberId)) this.applyLeaderAssignment(group, req);
        });
    }
  }

  private markSynced(group: ClassicGroup, member: GroupMember): void {
    group.pendingSyncMembers.delete(member.memberId);
    if (group.pendingSyncMembers.size === 0) this.cancelSyncTimer(group);
  }

  /** Stores the leader's assignment durably, then hands each member its part and goes Stable. */
  private applyLeaderAssignment(group: ClassicGroup, req: SyncGroupRequest): void {
    const given = new Map<string, Uint8Array>();
    for (const a of req.assignments) given.set(a.memberId, a.assignment);
    // Members the leader left out get an empty assignment, as in Kafka.
    const assignments = new Map<string, Buffer>();
    for (const id of group.members.keys()) {
      const a = given.get(id);
      assignments.set(id, a === undefined ? EMPTY_BYTES : Buffer.from(a));
    }
    const generationId = group.generationId;
    const stillCurrent = (): boolean =>
      this.groups.get(group.groupId) === group && group.is('CompletingRebalance') && group.generationId === generationId;
    this.store.storeGroup(group, assignments).then(
      () => {
        if (!stillCurrent()) return;
        for (const m of group.members.values()) m.assignment = assignments.get(m.memberId) ?? EMPTY_BYTES;
        group.transitionTo('Stable', this.clock.now());
        this.propagateAssignment(group, KafkaErrorCode.NONE);
      },
      (error: unknown) => {
        this.onBackgroundError(error, `storing the assignment of group ${group.groupId}`);
        if (!stillCurrent()) return;
        this.resetAndPropagateAssignmentError(group, KafkaErrorCode.COORDINATOR_NOT_AVAILABLE);
        this.prepareRebalance(group);
      },
    );
  }

  private resetAndPropagateAssignmentError(group: ClassicGroup, errorCode: number): void {
    assert(group.is('CompletingRebalance'), 'assignments are reset only while completing a rebalance');
    assert(errorCode !== KafkaErrorCode.NONE, 'reset needs an error');
    for (const m of group.members.values()) m.assignment = EMPTY_BYTES;
    this.propagateAssignment(group, errorCode);
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) {
      const waiter = m.syncWaiter;
      if (waiter === null) continue;
      m.syncWaiter = null;
      this.touch(group, m);
      waiter(
        errorCode === KafkaErrorCode.NONE
          ? { errorCode, protocolType: group.protocolType, protocolName: group.protocolName, assignment: m.assignment }
          : syncError(errorCode),
      );
    }
  }

  // ============================================================================================ Heartbeat

  /** Heartbeat of a validated member of the current generation (Kafka 3.9 answers per state). */
  heartbeat(group: ClassicGroup, member: GroupMember): HeartbeatResponse {
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return { errorCode: KafkaErrorCode.UNKNOWN_MEMBER_ID };
      case 'PreparingRebalance':
        this.touch(group, member);
        return { errorCode: KafkaErrorCode.REBALANCE_IN_PROGRESS };
      case 'CompletingRebalance':
      case 'Stable':
        this.touch(group, member);
        return { errorCode: KafkaErrorCode.NONE };
    }
  }

  // ============================================================================================ liveness and removal

  /** Removes a member (left, expired) and moves the group on: rebalance, or finish the one under way. */
  removeMemberAndUpdateGroup(group: ClassicGroup, member: GroupMember): void {
    this.dropMember(group, member);
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.prepareRebalance(group);
        break;
      case 'PreparingRebalance':
        this.tryCompleteJoin(group);
        break;
      case 'Empty':
      case 'Dead':
        break;
    }
  }

  /** Answers the member's parked requests UNKNOWN_MEMBER_ID (so it rejoins if alive) and removes it. */
  private dropMember(group: ClassicGroup, member: GroupMember): void {
    this.answerJoin(member, joinError('', KafkaErrorCode.UNKNOWN_MEMBER_ID));
    this.answerSync(member, syncError(KafkaErrorCode.UNKNOWN_MEMBER_ID));
    if (member.expiryTimer !== null) this.clock.clearTimer(member.expiryTimer);
    member.expiryTimer = null;
    group.remove(member.memberId);
  }

  removePendingMember(group: ClassicGroup, memberId: string): void {
    const handle = group.pendingMembers.get(memberId);
    assert(handle !== undefined, 'not a pending member');
    this.clock.clearTimer(handle);
    group.pendingMembers.delete(memberId);
    this.tryCompleteJoin(group);
  }

  private onPendingMemberExpired(group: ClassicGroup, memberId: string, handle: TimerHandle): void {
    if (this.groups.get(group.groupId) !== group || group.pendingMembers.get(memberId) !== handle) return;
    group.pendingMembers.delete(memberId);
    this.tryCompleteJoin(group);
  }

  private answerJoin(member: GroupMember, response: JoinGroupResponse): void {
    const waiter = member.joinWaiter;
    if (waiter === null) return;
    member.joinWaiter = null;
    waiter(response);
  }

  private answerSync(member: GroupMember, response: SyncGroupResponse): void {
    const waiter = member.syncWaiter;
    if (waiter === null) return;
    member.syncWaiter = null;
    waiter(response);
  }

  /** The member showed it is alive. */
  touch(group: ClassicGroup, member: GroupMember): void {
    member.lastHeartbeatMs = this.clock.now();
    this.scheduleExpiry(group, member);
  }

  /**
   * When the member's liveness must next be checked. A parked member is kept alive (its request is
   * timed by the rebalance), except a new member, which gets newMemberJoinTimeoutMs from its join.
   */
  private memberDueMs(member: GroupMember, nowMs: number): number {
    if (member.joinWaiter !== null && member.isNew) return member.joinedAtMs + this.config.newMemberJoinTimeoutMs;
    if (member.joinWaiter !== null || member.syncWaiter !== null) return nowMs + member.sessionTimeoutMs;
    return member.lastHeartbeatMs + member.sessionTimeoutMs;
  }

  /**
   * One timer per member. A heartbeat only moves the deadline later, so an existing timer that is
   * due no later than the new deadline is kept: it re-checks when it fires. This keeps heartbeats
   * from setting and clearing a timer each.
   */
  scheduleExpiry(group: ClassicGroup, member: GroupMember): void {
    const nowMs = this.clock.now();
    const dueMs = this.memberDueMs(member, nowMs);
    if (member.expiryTimer !== null) {
      if (member.expiryDueMs <= dueMs) return;
      this.clock.clearTimer(member.expiryTimer);
    }
    member.expiryDueMs = dueMs;
    member.expiryTimer = this.clock.setTimer(Math.max(dueMs - nowMs, 0), () => {
      member.expiryTimer = null;
      if (this.groups.get(group.groupId) !== group || group.members.get(member.memberId) !== member) return;
      const now = this.clock.now();
      const keepAlive =
        member.joinWaiter !== null ? !member.isNew || now < member.joinedAtMs + this.config.newMemberJoinTimeoutMs
        : member.syncWaiter !== null ? true
        : now < member.lastHeartbeatMs + member.sessionTimeoutMs;
      if (keepAlive) this.scheduleExpiry(group, member);
      else this.removeMemberAndUpdateGroup(group, member);
    });
  }

  private storeInBackground(group: ClassicGroup, context: string): void {
    this.store.storeGroup(group).catch((e: unknown) => this.onBackgroundError(e, `${context} ${group.groupId}`));
  }

  /** Answers everything parked on the group and cancels its timers (close, failed load). */
  shutGroup(group: ClassicGroup, errorCode: number): void {
    if (group.joinTimer !== null) this.clock.clearTimer(group.joinTimer.handle);
    group.joinTimer = null;
    this.cancelSyncTimer(group);
    for (const handle of group.pendingMembers.values()) this.clock.clearTimer(handle);
    group.pendingMembers.clear();
    for (const m of group.members.values()) {
      if (m.expiryTimer !== null) this.clock.clearTimer(m.expiryTimer);
      m.expiryTimer = null;
      this.answerJoin(m, joinError(m.memberId, errorCode));
      this.answerSync(m, syncError(errorCode));
    }
  }
}
