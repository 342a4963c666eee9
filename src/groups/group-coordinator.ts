/**
 * The group coordinator of the classic consumer group protocol (JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups, ListGroups, DeleteGroups), and the group
 * side of transactions (TxnOffsetCommit, and completeTransaction when a marker decides one). A single broker
 * coordinates every group. Behaviour follows Apache Kafka 3.9's classic coordinator; the rules and
 * the storage format are written up in docs/consumer-groups.md.
 *
 * This class is the API the broker's handlers call: it checks the coordinator is loaded, validates
 * each request (ids, fencing, member, generation), and hands the rest to Membership (rebalances,
 * timers, parked answers) and OffsetManager (committed offsets).
 *
 * Time and timers come only from the injected Clock, ids only from the injected generator, and
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
import { coordinatorPhaseError, type CoordinatorPhase } from './coordinator-phase.ts';
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
  type TxnOffsetCommitRequest,
  type TxnOffsetCommitResponse,
} from './group-api.ts';
import { ClassicGroup, CONSUMER_PROTOCOL_TYPE } from './group.ts';
import { restoreGroup } from './group-restore.ts';
import { GroupStore, type TopicPartitionRef } from './group-store.ts';
import { EMPTY_BYTES } from './member.ts';
import { joinError, Membership, syncError } from './membership.ts';
import { everyPartition, OffsetManager, type ExpiredOffsets } from './offset-manager.ts';
import type { OffsetsLog } from './offsets-log.ts';
import { fitsRecordString } from './offsets-records.ts';
import type { Clock, TimerHandle } from '../io/clock.ts';

export interface GroupCoordinatorOptions {
  readonly log: OffsetsLog;
  /** Time, session and rebalance timers (real unref'd timers in production, hand-driven in tests). */
  readonly clock: Clock;
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

/** The offsets log of a coordinator that never loads (see GroupCoordinator.elsewhere). */
const NO_OFFSETS_LOG: OffsetsLog = {
  append: () => Promise.reject(new StreamBusError('SB_ERR_CLOSED', 'this broker does not coordinate groups')),
  replay: async function* () {},
};

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

export class GroupCoordinator {
  readonly config: GroupCoordinatorConfig;
  private readonly clock: Clock;
  private readonly onBackgroundError: (error: unknown, context: string) => void;
  private readonly store: GroupStore;
  private readonly groups = new Map<string, ClassicGroup>();
  private readonly membership: Membership;
  private readonly offsets: OffsetManager;
  private phase: CoordinatorPhase = 'new';
  private retentionTimer: TimerHandle | null = null;
  /** Transactions decided while the log was replayed: applied once it is loaded. */
  private completedWhileLoading: { producerId: bigint; commit: boolean }[] = [];

  constructor(options: GroupCoordinatorOptions) {
    this.config = resolveGroupCoordinatorConfig(options.config);
    this.clock = options.clock;
    this.onBackgroundError = options.onBackgroundError ?? (() => {});
    this.store = new GroupStore(options.log);
    this.membership = new Membership({
      groups: this.groups,
      store: this.store,
      clock: this.clock,
      config: this.config,
      newId: options.newId,
      onBackgroundError: this.onBackgroundError,
    });
    this.offsets = new OffsetManager(this.groups, this.store, this.clock, this.config);
  }

  // ============================================================================================ lifecycle

  /**
   * A coordinator for a broker that coordinates no group: every group request is answered
   * NOT_COORDINATOR, so clients look the coordinator up again; ListGroups answers an empty list.
   */
  static elsewhere(options: Omit<GroupCoordinatorOptions, 'log'>): GroupCoordinator {
    const coordinator = new GroupCoordinator({ ...options, log: NO_OFFSETS_LOG });
    coordinator.phase = 'elsewhere';
    return coordinator;
  }

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
      for (const [groupId, value] of state.groups) this.groups.set(groupId, restoreGroup(groupId, value, nowMs));
      let offsetCount = 0;
      this.offsets.restorePending(state.pending, state.producerEpochs);
      // A group known only from a transaction's offsets (TxnOffsetCommit creates it, as Kafka does).
      for (const groupId of state.pending.groupIds()) {
        if (!this.groups.has(groupId) && !state.offsets.has(groupId)) this.groups.set(groupId, new ClassicGroup(groupId, 'Empty', null));
      }
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
      // A marker the replay already saw left nothing pending for its producer: applying it again is a no-op.
      for (const c of this.completedWhileLoading) this.offsets.completeTransaction(c.producerId, c.commit);
      this.completedWhileLoading = [];
      for (const group of this.groups.values()) for (const m of group.members.values()) this.membership.scheduleExpiry(group, m);
      this.scheduleRetention();
      return { records: state.records, groups: state.groups.size, offsets: offsetCount, skipped: state.skipped };
    } catch (e) {
      if (this.phase === 'loading') this.phase = 'failed';
      for (const group of this.groups.values()) this.membership.shutGroup(group, KafkaErrorCode.COORDINATOR_NOT_AVAILABLE);
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
    if (this.retentionTimer !== null) this.clock.clearTimer(this.retentionTimer);
    this.retentionTimer = null;
    for (const group of this.groups.values()) this.membership.shutGroup(group, KafkaErrorCode.NOT_COORDINATOR);
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
      return this.membership.joinNewMember(group, req, rebalanceTimeoutMs);
    }
    if (group === undefined) return Promise.resolve(joinError(req.memberId, KafkaErrorCode.UNKNOWN_MEMBER_ID));
    return this.membership.joinKnownMember(group, req, rebalanceTimeoutMs);
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
    return this.membership.sync(group, member, req);
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
    return this.membership.heartbeat(group, member);
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
          this.membership.removeMemberAndUpdateGroup(group, group.get(holder));
          answer(m, KafkaErrorCode.NONE);
        }
      } else if (group.pendingMembers.has(m.memberId)) {
        this.membership.removePendingMember(group, m.memberId);
        answer(m, KafkaErrorCode.NONE);
      } else if (!group.has(m.memberId)) {
        answer(m, KafkaErrorCode.UNKNOWN_MEMBER_ID);
      } else {
        this.membership.removeMemberAndUpdateGroup(group, group.get(m.memberId));
        answer(m, KafkaErrorCode.NONE);
      }
    }
    return { errorCode: KafkaErrorCode.NONE, members: results };
  }
  // ============================================================================================ OffsetCommit (8)

  /** Resolves once the commit is durable (or failed); never rejects. */
  async offsetCommit(req: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    const all = (errorCode: number): OffsetCommitResponse => ({ topics: everyPartition(req.topics, errorCode) });
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
        this.membership.touch(group, group.get(req.memberId));
        return KafkaErrorCode.NONE;
      case 'CompletingRebalance':
        // The member already has the new generation but not its assignment yet.
        return KafkaErrorCode.REBALANCE_IN_PROGRESS;
      case 'Empty':
      case 'Dead':
        return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    }
  }

  // ============================================================================================ TxnOffsetCommit (28)

  /**
   * Stores offsets committed in the producer's transaction: one transactional batch of that producer
   * on this coordinator's `__consumer_offsets` partition, answered once durable. The offsets stay
   * pending, invisible to OffsetFetch, until completeTransaction. Checks follow Kafka 3.9's classic
   * coordinator (GroupCoordinator.handleTxnCommitOffsets): the group id must not be empty; an unknown
   * group is created Empty; a request naming a member (v3+, KIP-447) must name a current one of the
   * current generation (FENCED_INSTANCE_ID, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION), one naming none
   * is accepted whatever the group's state (older clients send no member). Resolves; never rejects.
   */
  async txnOffsetCommit(req: TxnOffsetCommitRequest): Promise<TxnOffsetCommitResponse> {
    const all = (errorCode: number): TxnOffsetCommitResponse => ({ topics: everyPartition(req.topics, errorCode) });
    const unavailable = this.unavailableCode();
    if (unavailable !== null) return all(unavailable);
    if (badGroupId(req.groupId, false)) return all(KafkaErrorCode.INVALID_GROUP_ID);
    // A batch without a producer id would be no transaction at all.
    if (req.producerId < 0n || req.producerEpoch < 0) return all(KafkaErrorCode.INVALID_REQUEST);
    let group = this.groups.get(req.groupId);
    if (group === undefined) {
      group = new ClassicGroup(req.groupId, 'Empty', this.clock.now());
      this.groups.set(req.groupId, group);
    }
    const errorCode = this.validateTxnCommit(group, req);
    if (errorCode !== KafkaErrorCode.NONE) return all(errorCode);
    const producer = { producerId: req.producerId, producerEpoch: req.producerEpoch };
    return { topics: await this.offsets.commitTransactional(group, producer, req.topics) };
  }

  private validateTxnCommit(group: ClassicGroup, req: TxnOffsetCommitRequest): number {
    if (group.is('Dead')) return KafkaErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (req.generationId < 0 && req.memberId.length === 0 && req.groupInstanceId === null) return KafkaErrorCode.NONE;
    if (group.isStaticMemberFenced(req.memberId, req.groupInstanceId)) return KafkaErrorCode.FENCED_INSTANCE_ID;
    if (!group.has(req.memberId)) return KafkaErrorCode.UNKNOWN_MEMBER_ID;
    if (req.generationId !== group.generationId) return KafkaErrorCode.ILLEGAL_GENERATION;
    return KafkaErrorCode.NONE;
  }

  /**
   * The producer's transaction was decided on this coordinator's `__consumer_offsets` partition: its
   * commit or abort marker is visible there. On commit its pending offsets become the committed ones
   * (each only where it lies later in the log than the committed offset, Kafka's rule), on abort they
   * are dropped. Memory only: the marker is the durable record, and replay reaches the same state.
   * While loading, the decision is applied once the log is replayed; a closed coordinator ignores it
   * (the next one replays the marker). Returns how many offsets were applied.
   */
  completeTransaction(producerId: bigint, commit: boolean): number {
    if (this.phase === 'new' || this.phase === 'loading') {
      this.completedWhileLoading.push({ producerId, commit });
      return 0;
    }
    if (this.phase !== 'active') return 0;
    return this.offsets.completeTransaction(producerId, commit);
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
    return { errorCode: KafkaErrorCode.NONE, topics: this.offsets.fetch(this.groups.get(req.groupId), req.topics, req.requireStable) };
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
    // A broker that coordinates no group lists none, without an error (admin clients ask every broker).
    if (this.phase === 'elsewhere') return { errorCode: KafkaErrorCode.NONE, groups: [] };
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
   * Deletes Empty groups with their offsets (tombstones, one append). Offsets of transactions not
   * ended yet go too: their partitions get a tombstone as well, which drops them (live and on replay),
   * so a commit marker that comes later cannot bring back offsets of a deleted group. Non-empty groups get
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
        const pending = this.offsets.pendingPartitionsOf(groupId);
        for (const p of pending) if (group.getOffset(p.topic, p.partition) === undefined) offsets.push(p);
        this.offsets.dropPending(groupId, pending);
        this.membership.shutGroup(group, KafkaErrorCode.UNKNOWN_MEMBER_ID);
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

  // ============================================================================================ OffsetDelete (47)

  /**
   * Deletes a group's committed offsets of `partitions` (Kafka's OffsetDelete): any of an Empty
   * group's; of a consumer group with members, those of topics no member subscribes to (the others
   * get GROUP_SUBSCRIBED_TO_TOPIC); a group of another protocol with members is NON_EMPTY_GROUP.
   * Pending transactional offsets of those partitions go too, as with DeleteGroups. An Empty group
   * left with nothing is deleted, as Kafka's clean-up does. Resolves once the tombstones are
   * durable, with a group error code and one code per partition in request order; if they could not
   * be written the offsets are already gone from memory and report COORDINATOR_NOT_AVAILABLE.
   */
  async deleteOffsets(groupId: string, partitions: readonly TopicPartitionRef[]): Promise<{ errorCode: number; partitionErrors: number[] }> {
    const failed = (errorCode: number) => ({ errorCode, partitionErrors: [] });
    const unavailable = this.unavailableCode();
    if (unavailable !== null) return failed(unavailable);
    if (badGroupId(groupId, false)) return failed(KafkaErrorCode.INVALID_GROUP_ID);
    const group = this.groups.get(groupId);
    if (group === undefined || group.is('Dead')) return failed(KafkaErrorCode.GROUP_ID_NOT_FOUND);
    let subscribed: Set<string> | null = null;
    if (!group.is('Empty')) {
      if (group.protocolType !== CONSUMER_PROTOCOL_TYPE) return failed(KafkaErrorCode.NON_EMPTY_GROUP);
      subscribed = group.subscribedTopics() ?? new Set(partitions.map((p) => p.topic));
    }
    const partitionErrors: number[] = partitions.map((p) => (subscribed?.has(p.topic) === true ? KafkaErrorCode.GROUP_SUBSCRIBED_TO_TOPIC : KafkaErrorCode.NONE));
    const keyOf = (p: TopicPartitionRef) => `${p.topic}\0${p.partition}`;
    // Each deletable partition once (a request may name one twice).
    const deletable = new Map(partitions.filter((_, i) => partitionErrors[i] === KafkaErrorCode.NONE).map((p) => [keyOf(p), p]));
    const pending = this.offsets.pendingPartitionsOf(groupId).filter((p) => deletable.has(keyOf(p)));
    this.offsets.dropPending(groupId, pending);
    const pendingKeys = new Set(pending.map(keyOf));
    const tombstones: TopicPartitionRef[] = [];
    for (const [key, p] of deletable) {
      if (group.removeOffset(p.topic, p.partition) || pendingKeys.has(key)) tombstones.push({ topic: p.topic, partition: p.partition });
    }
    const deleteGroup = group.is('Empty') && !group.hasOffsets() && group.pendingMembers.size === 0 && this.offsets.pendingPartitionsOf(groupId).length === 0;
    if (deleteGroup) {
      group.transitionTo('Dead', this.clock.now());
      this.groups.delete(groupId);
    }
    if (tombstones.length > 0 || deleteGroup) {
      try {
        await this.store.storeTombstoneSets([{ groupId, offsets: tombstones, deleteGroup }]);
      } catch (e) {
        this.onBackgroundError(e, 'storing offset deletions');
        const lost = new Set(tombstones.map(keyOf));
        partitions.forEach((p, i) => {
          if (lost.has(keyOf(p))) partitionErrors[i] = KafkaErrorCode.COORDINATOR_NOT_AVAILABLE;
        });
      }
    }
    return { errorCode: KafkaErrorCode.NONE, partitionErrors };
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

  /**
   * Deletes the committed offsets of deleted topics from every group (call after DeleteTopics).
   * Resolves with the number of offsets removed once their tombstones are durable; rejects with the
   * log's error if they could not be written (the offsets are already gone from memory).
   */
  async removeTopicOffsets(topics: readonly string[]): Promise<number> {
    if (this.phase !== 'active') return 0;
    return this.offsets.removeTopics(new Set(topics));
  }

  /** Runs offset retention now (it also runs every offsetsRetentionCheckIntervalMs). */
  async expireOffsets(): Promise<ExpiredOffsets> {
    if (this.phase !== 'active') return { offsetsRemoved: 0, groupsRemoved: 0 };
    return this.offsets.expire();
  }

  private scheduleRetention(): void {
    this.retentionTimer = this.clock.setTimer(this.config.offsetsRetentionCheckIntervalMs, () => {
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
    return coordinatorPhaseError(this.phase, KafkaErrorCode.COORDINATOR_NOT_AVAILABLE);
  }
}
