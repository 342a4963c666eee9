/**
 * A minimal member of a classic consumer group, for `streambus consume --group`:
 * JoinGroup (retrying once with the id MEMBER_ID_REQUIRED hands out), SyncGroup (the leader runs the
 * range or round-robin assignor over the members' subscriptions), OffsetFetch for the starting positions
 * (the reset policy where nothing is committed), Heartbeat in the background, OffsetCommit of the
 * positions handed out, LeaveGroup on close.
 *
 * Rebalances: a heartbeat or commit answered REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION or
 * UNKNOWN_MEMBER_ID marks the member for rejoining; the next poll() commits what it can and rejoins.
 * Delivery is at least once: records handed out but not committed before a rebalance are read again by
 * their next owner.
 *
 * Contract: one poll() at a time; close() once, after which the consumer is unusable.
 */
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import { StreamBusError } from '../util/errors.ts';
import { assign, type AssignorName } from './assignors.ts';
import type { ClientCore } from './client-core.ts';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from '../protocol/kafka/consumer-protocol.ts';
import type { FetchOptions } from './fetch.ts';
import { Fetcher, type ResetPolicy } from './fetcher.ts';
import { offsetCommit, offsetFetch } from './group-offsets.ts';
import { errorFor, KafkaResponseError } from './kafka-error.ts';
import { listOffsets } from './list-offsets.ts';
import type { ConsumedRecord, TopicPartitionOffset, TopicPartitions } from './types.ts';

export interface GroupConsumerOptions {
  groupId: string;
  topics: readonly string[];
  assignor?: AssignorName;
  /** Kafka's broker accepts 6,000 to 1,800,000 ms by default. */
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Where to start on partitions without a committed offset. */
  resetPolicy?: Exclude<ResetPolicy, 'none'>;
  /** Static membership (KIP-345): a static member keeps its assignment across restarts and does not leave on close. */
  groupInstanceId?: string | null;
  fetch?: FetchOptions;
}

/** Errors after which the member must rejoin (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID). */
const REJOIN = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);
const MAX_JOIN_ATTEMPTS = 10;
let membersCreated = 0;

export class GroupConsumer {
  private memberId = '';
  private generationId = -1;
  private joined = false;
  private rejoinNeeded = false;
  private closed = false;
  private heartbeatTimer: ReturnType<typeof setTimeout> | null = null;
  /** A heartbeat error that no rejoin can fix (authorization, fencing); thrown by the next poll. */
  private fatal: KafkaResponseError | null = null;
  private assigned: TopicPartitions[] = [];
  private readonly fetcher: Fetcher;
  private readonly o: Required<Omit<GroupConsumerOptions, 'fetch'>>;
  /** This member's own coordinator connection (see Target). */
  private readonly coordinator: { coordinator: string; link: string };

  constructor(
    private readonly core: ClientCore,
    options: GroupConsumerOptions,
  ) {
    this.o = {
      assignor: 'range',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 30_000,
      heartbeatIntervalMs: 3_000,
      resetPolicy: 'earliest',
      groupInstanceId: null,
      ...options,
    };
    this.fetcher = new Fetcher(core, this.o.resetPolicy, options.fetch);
    this.coordinator = { coordinator: options.groupId, link: `member-${++membersCreated}` };
  }

  get assignment(): TopicPartitions[] {
    return this.assigned;
  }

  get generation(): number {
    return this.generationId;
  }

  get member(): string {
    return this.memberId;
  }

  /**
   * Records from the assigned partitions (at most `maxRecords`, after a long poll of at most
   * `maxWaitMs`); joins (or rejoins) the group first when needed.
   */
  async poll(maxRecords?: number, maxWaitMs?: number): Promise<ConsumedRecord[]> {
    if (this.closed) throw new StreamBusError('SB_ERR_CLOSED', 'the group consumer is closed');
    if (this.fatal) throw this.fatal;
    if (!this.joined || this.rejoinNeeded) {
      if (this.joined) await this.commit().catch(() => false);
      await this.join();
    }
    return this.fetcher.poll(maxRecords, maxWaitMs);
  }

  /** True when every assigned partition reached its end (false before the first fetch). */
  atEnd(): boolean {
    return this.joined && !this.rejoinNeeded && this.fetcher.atEnd();
  }

  /**
   * Commits the positions handed out so far. Resolves false (and marks the member for rejoining) when
   * the group moved on to another generation; throws other errors.
   */
  async commit(): Promise<boolean> {
    const positions = this.fetcher.positions();
    if (!this.joined || positions.length === 0) return true;
    try {
      await offsetCommit(this.core, this.o.groupId, positions, { generationId: this.generationId, memberId: this.memberId, groupInstanceId: this.o.groupInstanceId });
      return true;
    } catch (err) {
      if (err instanceof KafkaResponseError && REJOIN.has(err.kafkaName)) {
        this.markRejoin(err);
        return false;
      }
      throw err;
    }
  }

  /** Stops heartbeats and leaves the group (static members stay, as Kafka's clients do). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopHeartbeats();
    if (!this.joined || this.o.groupInstanceId !== null) return;
    this.joined = false;
    await this.core
      .request(this.coordinator, API_KEYS.LeaveGroup, (v) =>
        v >= 3 ? { groupId: this.o.groupId, members: [{ memberId: this.memberId, groupInstanceId: null, reason: null }] } : { groupId: this.o.groupId, memberId: this.memberId },
      )
      .catch(() => undefined); // leaving is best effort: the session timeout removes us anyway
  }

  private markRejoin(err: KafkaResponseError): void {
    this.rejoinNeeded = true;
    if (err.kafkaName === 'UNKNOWN_MEMBER_ID') this.memberId = '';
  }

  private async join(): Promise<void> {
    this.stopHeartbeats();
    this.joined = false;
    for (let attempt = 1; ; attempt++) {
      if (attempt > MAX_JOIN_ATTEMPTS) throw new StreamBusError('SB_ERR_KAFKA', `could not join group ${this.o.groupId} after ${MAX_JOIN_ATTEMPTS} attempts`);
      try {
        const assignment = await this.joinAndSync();
        await this.start(assignment);
        return;
      } catch (err) {
        if (!(err instanceof KafkaResponseError)) throw err;
        if (err.kafkaName === 'MEMBER_ID_REQUIRED') continue; // the id was stored by joinAndSync
        if (REJOIN.has(err.kafkaName)) {
          this.markRejoin(err);
          continue;
        }
        if (!err.retriable) throw err;
        this.core.invalidate(err);
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2_000)));
      }
    }
  }

  private async joinAndSync(): Promise<TopicPartitions[]> {
    const { groupId } = this.o;
    const subscription = encodeSubscription(this.o.topics);
    const { body: joined } = await this.core.request(
      this.coordinator,
      API_KEYS.JoinGroup,
      () => ({
        groupId,
        sessionTimeoutMs: this.o.sessionTimeoutMs,
        rebalanceTimeoutMs: this.o.rebalanceTimeoutMs,
        memberId: this.memberId,
        groupInstanceId: this.o.groupInstanceId,
        protocolType: 'consumer',
        protocols: [{ name: this.o.assignor, metadata: subscription }],
        reason: null,
      }),
      // The coordinator holds JoinGroup until the rebalance completes (up to the rebalance timeout).
      this.o.rebalanceTimeoutMs + 10_000,
    );
    if (joined.errorCode === 79) this.memberId = joined.memberId; // MEMBER_ID_REQUIRED (KIP-394)
    const joinError = errorFor(joined.errorCode, `join group ${groupId}`);
    if (joinError) throw joinError;
    this.memberId = joined.memberId;
    this.generationId = joined.generationId;
    const protocolName = joined.protocolName ?? this.o.assignor;
    const assignments = joined.leader === joined.memberId ? await this.leaderAssignments(protocolName, joined.members) : [];
    const { body: synced } = await this.core.request(
      this.coordinator,
      API_KEYS.SyncGroup,
      () => ({ groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: this.o.groupInstanceId, protocolType: 'consumer', protocolName, assignments }),
      this.o.rebalanceTimeoutMs + 10_000,
    );
    const syncError = errorFor(synced.errorCode, `sync group ${groupId}`);
    if (syncError) throw syncError;
    const topics = new Set(this.o.topics);
    return decodeAssignment(synced.assignment).filter((a) => topics.has(a.topic));
  }

  private async leaderAssignments(protocolName: string, members: readonly { memberId: string; metadata: Buffer }[]): Promise<{ memberId: string; assignment: Buffer }[]> {
    if (protocolName !== 'range' && protocolName !== 'roundrobin') {
      throw new StreamBusError('SB_ERR_KAFKA', `group ${this.o.groupId} chose assignor ${protocolName}, which this consumer cannot run`);
    }
    const subscriptions = members.map((m) => ({ memberId: m.memberId, topics: decodeSubscription(m.metadata).topics }));
    const allTopics = [...new Set(subscriptions.flatMap((s) => s.topics))];
    const md = await this.core.metadata(allTopics);
    const counts = new Map(md.topics.filter((t) => t.error === null).map((t) => [t.name, t.partitions.length]));
    const plan = assign(protocolName, subscriptions, counts);
    return members.map((m) => ({ memberId: m.memberId, assignment: encodeAssignment(plan.get(m.memberId) ?? []) }));
  }

  private async start(assignment: TopicPartitions[]): Promise<void> {
    this.assigned = assignment;
    const committed = assignment.length > 0 ? await offsetFetch(this.core, this.o.groupId, assignment) : [];
    const positions: TopicPartitionOffset[] = [];
    for (const a of assignment) {
      const missing: number[] = [];
      for (const partition of a.partitions) {
        const c = committed.find((x) => x.topic === a.topic && x.partition === partition);
        if (c && c.error === null && c.offset >= 0n) positions.push({ topic: a.topic, partition, offset: c.offset });
        else missing.push(partition);
      }
      if (missing.length > 0) {
        for (const o of await listOffsets(this.core, a.topic, missing, this.o.resetPolicy)) positions.push({ topic: a.topic, partition: o.partition, offset: o.offset });
      }
    }
    this.fetcher.assign(positions);
    this.joined = true;
    this.rejoinNeeded = false;
    this.scheduleHeartbeat();
  }

  private scheduleHeartbeat(): void {
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = null;
      void this.heartbeat().finally(() => {
        if (this.joined && !this.closed && !this.rejoinNeeded) this.scheduleHeartbeat();
      });
    }, this.o.heartbeatIntervalMs);
  }

  private async heartbeat(): Promise<void> {
    try {
      const { body } = await this.core.request(this.coordinator, API_KEYS.Heartbeat, () => ({
        groupId: this.o.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.o.groupInstanceId,
      }));
      const err = errorFor(body.errorCode, `heartbeat in group ${this.o.groupId}`);
      if (err && REJOIN.has(err.kafkaName)) this.markRejoin(err);
      else if (err?.retriable) this.core.invalidate(err);
      else if (err) this.fatal = err;
    } catch (err) {
      // A lost connection: the next heartbeat reconnects; the session timeout bounds how long we may miss.
      this.core.invalidate(err);
    }
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}
