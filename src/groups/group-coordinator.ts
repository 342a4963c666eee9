/**
 * The group coordinator of the classic consumer group protocol (JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups, ListGroups, DeleteGroups). A single broker
 * coordinates every group. Behaviour follows Apache Kafka 3.9's classic coordinator; the rules and
 * the storage format are written up in docs/consumer-groups.md.
 *
 * Time comes only from the injected Clock and Scheduler, ids only from the injected generator, and
 * durability only from the injected OffsetsLog, so the whole state machine replays in tests.
 *
 * Parked answers: a JoinGroup waits for the rebalance to complete and a follower's SyncGroup for the
 * leader's assignment. Every parked promise is resolved exactly once: by the rebalance, by a timeout
 * (rebalance timeout, new-member join timeout, session timeout), by the member's removal, by a newer
 * request of the same member, or by `close()`. No promise returned here ever rejects.
 */
import { assert } from '../util/assert.ts';
import { StreamBusError } from '../util/errors.ts';
import { resolveGroupCoordinatorConfig, type GroupCoordinatorConfig } from './coordinator-config.ts';
import { KafkaErrorCode } from './error-codes.ts';
import {
  COORDINATOR_KEY_TYPE_GROUP,
  COORDINATOR_KEY_TYPE_TRANSACTION,
  type DeletableGroupResult,
  type DescribedGroup,
  type GroupPartitionLag,
  type GroupSnapshot,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type LeaveGroupMemberResponse,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
  type ListGroupsRequest,
  type ListGroupsResponse,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from './group-api.ts';
import { ClassicGroup } from './group.ts';
import { GroupStore } from './group-store.ts';
import { copyProtocols, EMPTY_BYTES, GroupMember } from './member.ts';
import { OffsetManager, type ExpiredOffsets } from './offset-manager.ts';
import type { OffsetsLog } from './offsets-log.ts';
import { fitsRecordString, type GroupMetadataValue } from './offsets-records.ts';
import type { Clock, Scheduler, TimerHandle } from './timer.ts';

export interface GroupCoordinatorOptions {
  readonly log: OffsetsLog;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  /** A fresh unique id per call (a random UUID in production); member ids are `${clientId}-${id}`. */
  readonly newId: () => string;
  readonly config?: Partial<GroupCoordinatorConfig>;
  /**
   * Failures nobody awaits: the empty-group metadata written after a rebalance, retention
   * tombstones. Such a failure loses nothing a client was told is durable; the broker logs it.
   */
  readonly onBackgroundError?: (error: unknown, context: string) => void;
}

export interface LoadSummary {
  readonly records: number;
  readonly groups: number;
  readonly offsets: number;
  /** Records of kinds this coordinator does not use (newer Kafka record types). */
  readonly skipped: number;
}

type Phase = 'new' | 'loading' | 'active' | 'failed' | 'closed';

function joinError(memberId: string, errorCode: number): JoinGroupResponse {
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

/** Room left in a record string for the '-' and generated id appended to make a member id. */
const MEMBER_ID_SUFFIX_BYTES_MAX = 128;

/**
 * Group ids are stored in int16-length record strings: longer ones (possible with compact strings
 * in flexible request versions) are invalid here. The empty id is invalid for the membership APIs.
 */
function badGroupId(groupId: string, allowEmpty: boolean): boolean {
  return (!allowEmpty && groupId.length === 0) || !fitsRecordString(groupId);
}

/** Strings of a JoinGroup that end up in the group metadata record must fit its string fields. */
function joinStringsFit(req: JoinGroupRequest): boolean {
  return (
    fitsRecordString(req.memberId) &&
    fitsRecordString(req.clientId, MEMBER_ID_SUFFIX_BYTES_MAX) &&
    (req.groupInstanceId === null || fitsRecordString(req.groupInstanceId, MEMBER_ID_SUFFIX_BYTES_MAX)) &&
    fitsRecordString(req.clientHost) &&
    fitsRecordString(req.protocolType) &&
    req.protocols.every((p) => fitsRecordString(p.name))
  );
}

function syncError(errorCode: number): SyncGroupResponse {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}

export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly newId: () => string;
  private readonly onBackgroundError: (error: unknown, context: string) => void;
  private readonly store: GroupStore;
  private readonly groups = new Map<string, ClassicGroup>();
  private readonly offsets: OffsetManager;
  private phase: Phase = 'new';
  private retentionTimer: TimerHandle | null = null;

  constructor(options: GroupCoordinatorOptions) {
    this.config = resolveGroupCoordinatorConfig(options.config);
    this.clock = options.clock;
    this.scheduler = options.scheduler;
    this.newId = options.newId;
    this.onBackgroundError = options.onBackgroundError ?? (() => {});
    this.store = new GroupStore(options.log);
    this.offsets = new OffsetManager(this.groups, this.store, this.clock, this.config);
  }

  // ============================================================================================ lifecycle

  /**
   * Replays the offsets log and restores committed offsets and group metadata. A group that had
   * members comes back Stable with them, as Kafka restores it; members that do not heartbeat within
   * their session timeout expire and the group rebalances (and ends Empty if nobody rejoins). Until
   * this resolves, requests are answered COORDINATOR_LOAD_IN_PROGRESS. Throws SB_ERR_CORRUPT on a
   * record that does not parse; the coordinator then answers COORDINATOR_NOT_AVAILABLE.
   */
  async load(): Promise<LoadSummary> {
    assert(this.phase === 'new', 'load() runs once, on a new coordinator');
    this.phase = 'loading';
    try {
      const state = await this.store.replay();
      if (this.phase !== 'loading') throw new StreamBusError('SB_ERR_CLOSED', 'group coordinator closed while loading');
      const nowMs = this.clock.now();
      for (const [groupId, value] of state.groups) this.groups.set(groupId, this.restoreGroup(groupId, value, nowMs));
      let offsetCount = 0;
      for (const [groupId, topics] of state.offsets) {
        let group = this.groups.get(groupId);
        if (group === undefined) {
          group = new ClassicGroup(groupId, 'Empty', null);
          this.groups.set(groupId, group);
        }
        for (const [topic, partitions] of topics) {
          for (const [partition, committed] of partitions) {
            group.setOffset(topic, partition, committed);
            offsetCount++;
          }
        }
      }
      this.phase = 'active';
      for (const group of this.groups.values()) for (const m of group.members.values()) this.scheduleExpiry(group, m);
      this.scheduleRetention();
      return { records: state.records, groups: state.groups.size, offsets: offsetCount, skipped: state.skipped };
    } catch (e) {
      if (this.phase === 'loading') this.phase = 'failed';
      for (const group of this.groups.values()) this.shutGroup(group, KafkaErrorCode.COORDINATOR_NOT_AVAILABLE);
      this.groups.clear();
      throw e;
    }
  }

  /**
   * Stops the coordinator: cancels every timer and answers every parked request NOT_COORDINATOR
   * (clients then look for the coordinator again). Later requests get COORDINATOR_NOT_AVAILABLE.
   */
  close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    if (this.retentionTimer !== null) this.scheduler.clearTimer(this.retentionTimer);
    this.retentionTimer = null;
    for (const group of this.groups.values()) this.shutGroup(group, KafkaErrorCode.NOT_COORDINATOR);
    this.groups.clear();
  }

  // ============================================================================================ FindCoordinator (10)

  /** This broker coordinates every group; there is no transaction coordinator. */
  findCoordinator(keyType: number): { errorCode: number } {
    if (keyType === COORDINATOR_KEY_TYPE_GROUP) {
      const ok = this.phase === 'active' || this.phase === 'loading' || this.phase === 'new';
      return { errorCode: ok ? KafkaErrorCode.NONE : KafkaErrorCode.COORDINATOR_NOT_AVAILABLE };
    }
    if (keyType === COORDINATOR_KEY_TYPE_TRANSACTION) return { errorCode: KafkaErrorCode.COORDINATOR_NOT_AVAILABLE };
    return { errorCode: KafkaErrorCode.INVALID_REQUEST };
  }

  // ============================================================================================ JoinGroup (11)

  joinGroup(req: JoinGroupRequest): Promise<JoinGroupResponse> {
    const unavailable = this.unavailableCode();
    if (unavailable !== null) return Promise.resolve(joinError(req.memberId, unavailable));
    if (badGroupId(req.groupId, false)) return Promise.resolve(joinError(req.memberId, KafkaErrorCode.INVALID_GROUP_ID));
    if (!joinStringsFit(req)) return Promise.resolve(joinError('', KafkaErrorCode.INVALID_REQUEST));
    if (req.sessionTimeoutMs < this.config.groupMinSessionTimeoutMs || req.sessionTimeoutMs > this.config.groupMaxSessionTimeoutMs) {
      return Promise.resolve(joinError(req.memberId, KafkaErrorCode.INVALID_SESSION_TIMEOUT));
    }
    // JoinGroup v0 has no rebalance timeout: Kafka uses the session timeout. Treating the missing
    // value as -1 instead makes rebalances end at once, over and over.
    const rebalanceTimeoutMs = req.apiVersion === 0 || req.rebalanceTimeoutMs <= 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs;
    let group = this.groups.get(req.groupId);
    if (req.memberId.length === 0) {
      if (group === undefined) {
        if (req.protocolType.length === 0 || req.protocols.length === 0) {
          return Promise.resolve(joinError('', KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL));
        }
        group = new ClassicGroup(req.groupId, 'Empty', this.clock.now());
        this.groups.set(req.groupId, group);
      }
      return this.joinNewMember(group, req, rebalanceTimeoutMs);
    }
    if (group === undefined) return Promise.resolve(joinError(req.memberId, KafkaErrorCode.UNKNOWN_MEMBER_ID));
    return this.joinKnownMember(group, req, rebalanceTimeoutMs);
  }

  private joinNewMember(group: ClassicGroup, req: JoinGroupRequest, rebalanceTimeoutMs: number): Promise<JoinGroupResponse> {
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
      const handle = this.scheduler.setTimer(req.sessionTimeoutMs, () => this.onPendingMemberExpired(group, memberId, handle));
      group.pendingMembers.set(memberId, handle);
      return Promise.resolve(joinError(memberId, KafkaErrorCode.MEMBER_ID_REQUIRED));
    }
    return this.addMemberAndRebalance(group, memberId, req, rebalanceTimeoutMs);
  }

  private joinKnownMember(group: ClassicGroup, req: JoinGroupRequest, rebalanceTimeoutMs: number): Promise<JoinGroupResponse> {
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
        this.scheduler.clearTimer(pending);
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
    const handle = this.scheduler.setTimer(delayMs, () => {
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
    this.scheduler.clearTimer(group.joinTimer.handle);
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
    group.syncTimer = this.scheduler.setTimer(group.rebalanceTimeoutMs(), () => this.onSyncTimeout(group, generationId));
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
    if (group.syncTimer !== null) this.scheduler.clearTimer(group.syncTimer);
    group.syncTimer = null;
  }

  // ============================================================================================ SyncGroup (14)

  syncGroup(req: SyncGroupRequest): Promise<SyncGroupResponse> {
    const unavailable = this.unavailableCode();
    if (unavailable !== null) return Promise.resolve(syncError(unavailable));
    if (badGroupId(req.groupId, false)) return Promise.resolve(syncError(KafkaErrorCode.INVALID_GROUP_ID));
    const group = this.groups.get(req.groupId);
    if (group === undefined) return Promise.resolve(syncError(KafkaErrorCode.UNKNOWN_MEMBER_ID));
    if (group.is('Dead')) return Promise.resolve(syncError(KafkaErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (group.isStaticMemberFenced(req.memberId, req.groupInstanceId)) return Promise.resolve(syncError(KafkaErrorCode.FENCED_INSTANCE_ID));
    if (!group.has(req.memberId)) return Promise.resolve(syncError(KafkaErrorCode.UNKNOWN_MEMBER_ID));
    if (req.generationId !== group.generationId) return Promise.resolve(syncError(KafkaErrorCode.ILLEGAL_GENERATION));
    // SyncGroup v5 names the protocol the client believes in; a mismatch means a broken client.
    if ((req.protocolType !== null && req.protocolType !== group.protocolType) || (req.protocolName !== null && req.protocolName !== group.protocolName)) {
      return Promise.resolve(syncError(KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const member = group.get(req.memberId);
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

  // ============================================================================================ Heartbeat (12)

  heartbeat(req: HeartbeatRequest): HeartbeatResponse {
    // While loading, Kafka answers heartbeats blindly with success so that members do not rejoin.
    if (this.phase === 'loading') return { errorCode: KafkaErrorCode.NONE };
    const unavailable = this.unavailableCode();
    if (unavailable !== null) return { errorCode: unavailable };
    if (badGroupId(req.groupId, false)) return { errorCode: KafkaErrorCode.INVALID_GROUP_ID };
    const group = this.groups.get(req.groupId);
    if (group === undefined) return { errorCode: KafkaErrorCode.UNKNOWN_MEMBER_ID };
    if (group.is('Dead')) return { errorCode: KafkaErrorCode.COORDINATOR_NOT_AVAILABLE };
    if (group.isStaticMemberFenced(req.memberId, req.groupInstanceId)) return { errorCode: KafkaErrorCode.FENCED_INSTANCE_ID };
    if (!group.has(req.memberId)) return { errorCode: KafkaErrorCode.UNKNOWN_MEMBER_ID };
    if (req.generationId !== group.generationId) return { errorCode: KafkaErrorCode.ILLEGAL_GENERATION };
    const member = group.get(req.memberId);
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

  // ============================================================================================ LeaveGroup (13)

  leaveGroup(req: LeaveGroupRequest): LeaveGroupResponse {
    const unavailable = this.unavailableCode();
    if (unavailable !== null) return { errorCode: unavailable, members: [] };
    if (badGroupId(req.groupId, false)) return { errorCode: KafkaErrorCode.INVALID_GROUP_ID, members: [] };
    const group = this.groups.get(req.groupId);
    const results: LeaveGroupMemberResponse[] = [];
    const answer = (m: { memberId: string; groupInstanceId: string | null }, errorCode: number): void => {
      results.push({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode });
    };
    if (group === undefined) {
      for (const m of req.members) answer(m, KafkaErrorCode.UNKNOWN_MEMBER_ID);
      return { errorCode: KafkaErrorCode.NONE, members: results };
    }
    if (group.is('Dead')) return { errorCode: KafkaErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    for (const m of req.members) {
      if (m.groupInstanceId !== null) {
        const holder = group.staticMembers.get(m.groupInstanceId);
        if (holder === undefined) answer(m, KafkaErrorCode.UNKNOWN_MEMBER_ID);
        else if (m.memberId.length > 0 && m.memberId !== holder) answer(m, KafkaErrorCode.FENCED_INSTANCE_ID);
        else {
          this.removeMemberAndUpdateGroup(group, group.get(holder));
          answer(m, KafkaErrorCode.NONE);
        }
      } else if (group.pendingMembers.has(m.memberId)) {
        this.removePendingMember(group, m.memberId);
        answer(m, KafkaErrorCode.NONE);
      } else if (!group.has(m.memberId)) {
        answer(m, KafkaErrorCode.UNKNOWN_MEMBER_ID);
      } else {
        this.removeMemberAndUpdateGroup(group, group.get(m.memberId));
        answer(m, KafkaErrorCode.NONE);
      }
    }
    return { errorCode: KafkaErrorCode.NONE, members: results };
  }

  // ============================================================================================ membership helpers

  /** Removes a member (left, expired) and moves the group on: rebalance, or finish the one under way. */
  private removeMemberAndUpdateGroup(group: ClassicGroup, member: GroupMember): void {
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
    if (member.expiryTimer !== null) this.scheduler.clearTimer(member.expiryTimer);
    member.expiryTimer = null;
    group.remove(member.memberId);
  }

  private removePendingMember(group: ClassicGroup, memberId: string): void {
    const handle = group.pendingMembers.get(memberId);
    assert(handle !== undefined, 'not a pending member');
    this.scheduler.clearTimer(handle);
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
  private touch(group: ClassicGroup, member: GroupMember): void {
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
  private scheduleExpiry(group: ClassicGroup, member: GroupMember): void {
    const nowMs = this.clock.now();
    const dueMs = this.memberDueMs(member, nowMs);
    if (member.expiryTimer !== null) {
      if (member.expiryDueMs <= dueMs) return;
      this.scheduler.clearTimer(member.expiryTimer);
    }
    member.expiryDueMs = dueMs;
    member.expiryTimer = this.scheduler.setTimer(Math.max(dueMs - nowMs, 0), () => {
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
  private shutGroup(group: ClassicGroup, errorCode: number): void {
    if (group.joinTimer !== null) this.scheduler.clearTimer(group.joinTimer.handle);
    group.joinTimer = null;
    this.cancelSyncTimer(group);
    for (const handle of group.pendingMembers.values()) this.scheduler.clearTimer(handle);
    group.pendingMembers.clear();
    for (const m of group.members.values()) {
      if (m.expiryTimer !== null) this.scheduler.clearTimer(m.expiryTimer);
      m.expiryTimer = null;
      this.answerJoin(m, joinError(m.memberId, errorCode));
      this.answerSync(m, syncError(errorCode));
    }
  }

  // ============================================================================================ OffsetCommit (8)

  /** Resolves once the commit is durable (or failed); never rejects. */
  async offsetCommit(req: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    const all = (errorCode: number): OffsetCommitResponse => ({
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) })),
    });
    const unavailable = this.unavailableCode();
    if (unavailable !== null) return all(unavailable);
    // The empty group id is allowed for commits (Kafka keeps it for old tools).
    if (badGroupId(req.groupId, true)) return all(KafkaErrorCode.INVALID_GROUP_ID);
    let group = this.groups.get(req.groupId);
    if (group === undefined) {
      if (req.generationId >= 0) {
        // OffsetCommit v9 reports the missing group as such; older versions say ILLEGAL_GENERATION.
        return all(req.apiVersion >= 9 ? KafkaErrorCode.GROUP_ID_NOT_FOUND : KafkaErrorCode.ILLEGAL_GENERATION);
      }
      // A group that uses Kafka only to store offsets (admin tools, standalone consumers).
      group = new ClassicGroup(req.groupId, 'Empty', this.clock.now());
      this.groups.set(req.groupId, group);
    }
    const errorCode = this.validateCommit(group, req);
    if (errorCode !== KafkaErrorCode.NONE) return all(errorCode);
    return { topics: await this.offsets.commit(group, req.topics) };
  }

  private validateCommit(group: ClassicGroup, req: OffsetCommitRequest): number {
    if (group.is('Dead')) return KafkaErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(req.memberId, req.groupInstanceId)) return KafkaErrorCode.FENCED_INSTANCE_ID;
    if (req.generationId < 0 && group.is('Empty')) return KafkaErrorCode.NONE;
    if (!group.has(req.memberId)) return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    if (req.generationId !== group.generationId) return KafkaErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case 'Stable':
      case 'PreparingRebalance':
        // Commits during PreparingRebalance are accepted: the member still owns its partitions
        // until it rejoins, and committing before rejoining is exactly what a consumer should do.
        this.touch(group, group.get(req.memberId));
        return KafkaErrorCode.NONE;
      case 'CompletingRebalance':
        // The member already has the new generation but not its assignment yet.
        return KafkaErrorCode.REBALANCE_IN_PROGRESS;
      case 'Empty':
      case 'Dead':
        return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    }
  }

  // ============================================================================================ OffsetFetch (9)

  offsetFetch(req: OffsetFetchRequest): OffsetFetchResponse {
    const unavailable = this.unavailableCode();
    if (unavailable !== null) {
      return {
        errorCode: unavailable,
        topics: (req.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: unavailable })),
        })),
      };
    }
    return { errorCode: KafkaErrorCode.NONE, topics: this.offsets.fetch(this.groups.get(req.groupId), req.topics) };
  }

  // ============================================================================================ DescribeGroups (15)

  describeGroups(groupIds: readonly string[]): DescribedGroup[] {
    const unavailable = this.unavailableCode();
    return groupIds.map((groupId) => {
      const group = unavailable === null ? this.groups.get(groupId) : undefined;
      if (group === undefined) {
        return { errorCode: unavailable ?? KafkaErrorCode.NONE, groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [] };
      }
      const stable = group.is('Stable');
      return {
        errorCode: KafkaErrorCode.NONE,
        groupId,
        groupState: group.state,
        protocolType: group.protocolType ?? '',
        protocolData: stable ? (group.protocolName ?? '') : '',
        members: [...group.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: stable ? m.metadataFor(group.protocolName!) : EMPTY_BYTES,
          memberAssignment: stable ? m.assignment : EMPTY_BYTES,
        })),
      };
    });
  }

  // ============================================================================================ ListGroups (16)

  listGroups(req: ListGroupsRequest): ListGroupsResponse {
    const unavailable = this.unavailableCode();
    if (unavailable !== null) return { errorCode: unavailable, groups: [] };
    const states = new Set(req.statesFilter.map((s) => s.toLowerCase()));
    const types = new Set(req.typesFilter.map((s) => s.toLowerCase()));
    if (types.size > 0 && !types.has('classic')) return { errorCode: KafkaErrorCode.NONE, groups: [] };
    const groups = [...this.groups.values()]
      .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state, groupType: 'classic' as const }));
    return { errorCode: KafkaErrorCode.NONE, groups };
  }

  // ============================================================================================ DeleteGroups (42)

  /**
   * Deletes Empty groups with their offsets (tombstones, one append). Non-empty groups get
   * NON_EMPTY_GROUP, unknown ones GROUP_ID_NOT_FOUND. Resolves once the tombstones are durable; if
   * they could not be written the groups are already gone from memory and report
   * COORDINATOR_NOT_AVAILABLE (they would come back after a restart).
   */
  async deleteGroups(groupIds: readonly string[]): Promise<DeletableGroupResult[]> {
    const unavailable = this.unavailableCode();
    if (unavailable !== null) return groupIds.map((groupId) => ({ groupId, errorCode: unavailable }));
    const results = new Map<string, number>();
    const deleted: { groupId: string; offsets: { topic: string; partition: number }[]; deleteGroup: boolean }[] = [];
    const nowMs = this.clock.now();
    for (const groupId of groupIds) {
      if (results.has(groupId)) continue;
      const group = this.groups.get(groupId);
      if (group === undefined || group.is('Dead')) results.set(groupId, KafkaErrorCode.GROUP_ID_NOT_FOUND);
      else if (!group.is('Empty')) results.set(groupId, KafkaErrorCode.NON_EMPTY_GROUP);
      else {
        const offsets: { topic: string; partition: number }[] = [];
        for (const [topic, partitions] of group.offsets) for (const partition of partitions.keys()) offsets.push({ topic, partition });
        this.shutGroup(group, KafkaErrorCode.UNKNOWN_MEMBER_ID);
        group.transitionTo('Dead', nowMs);
        this.groups.delete(groupId);
        deleted.push({ groupId, offsets, deleteGroup: true });
        results.set(groupId, KafkaErrorCode.NONE);
      }
    }
    if (deleted.length > 0) {
      try {
        await this.store.storeTombstoneSets(deleted);
      } catch (e) {
        this.onBackgroundError(e, 'storing group deletions');
        for (const d of deleted) results.set(d.groupId, KafkaErrorCode.COORDINATOR_NOT_AVAILABLE);
      }
    }
    return [...results].map(([groupId, errorCode]) => ({ groupId, errorCode }));
  }

  // ============================================================================================ offsets: admin, retention, lag

  /**
   * Sets committed offsets of one topic for an inactive group (the CLI's reset-offsets). Only an
   * Empty or unknown group may be reset: NON_EMPTY_GROUP otherwise. Resolves with an error code once
   * the offsets are durable.
   */
  async resetOffsets(groupId: string, topic: string, offsets: ReadonlyMap<number, bigint>): Promise<number> {
    const unavailable = this.unavailableCode();
    if (unavailable !== null) return unavailable;
    if (badGroupId(groupId, true)) return KafkaErrorCode.INVALID_GROUP_ID;
    let group = this.groups.get(groupId);
    if (group !== undefined && !group.is('Empty')) return KafkaErrorCode.NON_EMPTY_GROUP;
    if (group === undefined) {
      group = new ClassicGroup(groupId, 'Empty', this.clock.now());
      this.groups.set(groupId, group);
    }
    return this.offsets.reset(group, topic, offsets);
  }

  /** Runs offset retention now (it also runs every offsetsRetentionCheckIntervalMs). */
  async expireOffsets(): Promise<ExpiredOffsets> {
    if (this.phase !== 'active') return { offsetsRemoved: 0, groupsRemoved: 0 };
    return this.offsets.expire();
  }

  private scheduleRetention(): void {
    this.retentionTimer = this.scheduler.setTimer(this.config.offsetsRetentionCheckIntervalMs, () => {
      this.retentionTimer = null;
      if (this.phase !== 'active') return;
      this.offsets.expire().catch((e: unknown) => this.onBackgroundError(e, 'offset retention'));
      this.scheduleRetention();
    });
  }

  /**
   * Committed offset and lag per group and partition, for the consumer-group lag metric. The
   * callback returns the partition's high watermark, or undefined for a partition that no longer
   * exists (skipped).
   */
  consumerLag(highWatermark: (topic: string, partition: number) => bigint | number | undefined): GroupPartitionLag[] {
    if (this.phase !== 'active') return [];
    return this.offsets.lag(highWatermark);
  }

  // ============================================================================================ inspection

  inspectGroup(groupId: string): GroupSnapshot | undefined {
    const group = this.groups.get(groupId);
    if (group === undefined) return undefined;
    return {
      groupId,
      state: group.state,
      stateTimestampMs: group.stateTimestampMs ?? -1,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leaderId: group.leaderId,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        sessionTimeoutMs: m.sessionTimeoutMs,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        protocols: m.protocols.map((p) => p.name),
        assignment: m.assignment,
        awaitingJoin: m.isAwaitingJoin(),
        awaitingSync: m.isAwaitingSync(),
      })),
      pendingMemberIds: [...group.pendingMembers.keys()],
      committedOffsetCount: group.offsetCount(),
    };
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  // ============================================================================================ internals

  private unavailableCode(): number | null {
    switch (this.phase) {
      case 'active':
        return null;
      case 'new':
      case 'loading':
        return KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
      case 'failed':
      case 'closed':
        return KafkaErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  private restoreGroup(groupId: string, value: GroupMetadataValue, nowMs: number): ClassicGroup {
    const corrupt = (why: string): never => {
      throw new StreamBusError('SB_ERR_CORRUPT', `__consumer_offsets group ${groupId}: ${why}`);
    };
    if (value.members.length > 0 && value.protocol === null) corrupt('members without a selected protocol');
    if (value.generation < 0) corrupt(`negative generation ${value.generation}`);
    const group = new ClassicGroup(groupId, value.members.length > 0 ? 'Stable' : 'Empty', value.currentStateTimestampMs >= 0 ? value.currentStateTimestampMs : null);
    group.generationId = value.generation;
    group.protocolType = value.protocolType.length > 0 ? value.protocolType : null;
    group.protocolName = value.members.length > 0 ? value.protocol : null;
    for (const r of value.members) {
      if (r.sessionTimeoutMs <= 0 || r.rebalanceTimeoutMs <= 0 || r.memberId.length === 0) corrupt(`bad member ${r.memberId}`);
      if (group.members.has(r.memberId)) corrupt(`duplicate member ${r.memberId}`);
      if (r.groupInstanceId !== null && group.staticMembers.has(r.groupInstanceId)) corrupt(`duplicate instance ${r.groupInstanceId}`);
      const member = new GroupMember({
        memberId: r.memberId,
        groupInstanceId: r.groupInstanceId,
        clientId: r.clientId,
        clientHost: r.clientHost,
        rebalanceTimeoutMs: r.rebalanceTimeoutMs,
        sessionTimeoutMs: r.sessionTimeoutMs,
        protocolType: value.protocolType,
        protocols: [{ name: value.protocol!, metadata: Buffer.from(r.subscription) }],
        nowMs,
      });
      member.assignment = Buffer.from(r.assignment);
      group.add(member);
    }
    if (value.leader !== null && group.members.has(value.leader)) group.leaderId = value.leader;
    return group;
  }
}
