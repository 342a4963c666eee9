/**
 * One classic consumer group: its state machine, members, selected protocol, generation and
 * committed offsets. This is plain data with local invariants; the coordinator owns timers,
 * parked responses and persistence.
 *
 * States and the transitions Kafka allows (the target state lists where it may be entered from):
 *   PreparingRebalance  <- Empty, Stable, CompletingRebalance   (a member joined, left or timed out)
 *   CompletingRebalance <- PreparingRebalance                   (every member rejoined or the timeout passed)
 *   Stable              <- CompletingRebalance                  (the leader's assignment is durable)
 *   Empty               <- PreparingRebalance                   (the rebalance ended with no member)
 *   Dead                <- any                                  (deleted, or expired with no offsets)
 */
import { assert } from '../util/assert.ts';
import type { GroupState, JoinGroupResponseMember } from './group-api.ts';
import type { GroupMember } from './member.ts';
import type { TimerHandle } from '../io/clock.ts';
import { decodeSubscription } from '../protocol/kafka/consumer-protocol.ts';

/** The protocol type of Kafka's consumer groups, whose member metadata is a subscription. */
export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/** What a commit stores for one partition (the value of Kafka's offset commit record). */
export interface OffsetValue {
  readonly offset: bigint;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestampMs: number;
}

export interface CommittedOffset extends OffsetValue {
  /**
   * Where the record that wrote it lies in the offsets log, as a number that only grows in log order
   * (GroupStore): a transactional offset replaces a committed one only if it lies later.
   */
  readonly appendOrder: number;
}

const VALID_PREVIOUS: Record<GroupState, readonly GroupState[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Empty', 'Stable', 'CompletingRebalance'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'],
};

/** The timer that ends the PreparingRebalance phase. */
export interface JoinTimer {
  readonly handle: TimerHandle;
  /** 'initial': group.initial.rebalance.delay; never completes early. 'normal': completes once all joined. */
  readonly kind: 'initial' | 'normal';
  /** For 'initial': how much of the rebalance timeout is left for further extensions. */
  readonly remainingMs: number;
  readonly delayMs: number;
}

export class ClassicGroup {
  readonly groupId: string;
  state: GroupState;
  /** When the group entered its state; null when unknown (a group known only from offsets). */
  stateTimestampMs: number | null;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** In join order: the first member becomes the leader, and the leader gets the list in this order. */
  readonly members = new Map<string, GroupMember>();
  /** Ids handed out with MEMBER_ID_REQUIRED and not yet used to join, with their expiry timers. */
  readonly pendingMembers = new Map<string, TimerHandle>();
  /** group.instance.id -> member id of the static member that holds it. */
  readonly staticMembers = new Map<string, string>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  /** A new member joined during the initial delay: extend it once more. */
  newMemberAdded = false;
  joinTimer: JoinTimer | null = null;
  syncTimer: TimerHandle | null = null;
  /** topic -> partition -> committed offset. */
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();

  constructor(groupId: string, state: GroupState, stateTimestampMs: number | null) {
    assert(state === 'Empty' || state === 'Stable', 'a group starts Empty (or Stable when restored)');
    this.groupId = groupId;
    this.state = state;
    this.stateTimestampMs = stateTimestampMs;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  transitionTo(target: GroupState, nowMs: number): void {
    assert(VALID_PREVIOUS[target].includes(this.state), `group ${this.groupId}: illegal transition ${this.state} -> ${target}`);
    this.state = target;
    this.stateTimestampMs = nowMs;
  }

  /** A rebalance may start from these states; in PreparingRebalance one is already under way. */
  canRebalance(): boolean {
    return this.state === 'Stable' || this.state === 'CompletingRebalance' || this.state === 'Empty';
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  get(memberId: string): GroupMember {
    const m = this.members.get(memberId);
    assert(m !== undefined, `group ${this.groupId} has no member ${memberId}`);
    return m;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  add(member: GroupMember): void {
    assert(!this.members.has(member.memberId), `member ${member.memberId} is already in group ${this.groupId}`);
    if (this.members.size === 0) this.protocolType = member.protocolType;
    assert(this.protocolType === member.protocolType, 'member protocol type differs from the group');
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) {
      assert(!this.staticMembers.has(member.groupInstanceId), `instance ${member.groupInstanceId} is already held`);
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.leaderId === null) this.leaderId = member.memberId;
    assert(this.leaderId !== null && this.members.has(this.leaderId), 'the leader must be a member');
  }

  /** Removes a member; the leadership passes to the next member in join order. */
  remove(memberId: string): GroupMember {
    const member = this.get(memberId);
    assert(member.joinWaiter === null && member.syncWaiter === null, 'answer a member before removing it');
    this.members.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === memberId) {
      const next = this.members.keys().next();
      this.leaderId = next.done ? null : next.value;
    }
    assert(this.leaderId === null ? this.members.size === 0 : this.members.has(this.leaderId), 'leader must be a member');
    return member;
  }

  /**
   * Moves a static member to a new member id (the same instance restarted). Join order and
   * leadership are kept; the caller has answered the old id's parked requests.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): GroupMember {
    assert(this.staticMembers.get(groupInstanceId) === oldMemberId, 'instance id is held by another member');
    assert(!this.members.has(newMemberId), 'new member id already in use');
    const member = this.get(oldMemberId);
    assert(member.joinWaiter === null && member.syncWaiter === null, 'answer the old member before replacing it');
    // Rebuild the map to keep the member at its place in join order.
    const entries = [...this.members.entries()];
    this.members.clear();
    for (const [id, m] of entries) this.members.set(id === oldMemberId ? newMemberId : id, m);
    member.memberId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    assert(this.members.get(newMemberId) === member, 'replacement lost the member');
    return member;
  }

  /** Kafka's isStaticMemberFenced: the instance id is held by a different member id. */
  isStaticMemberFenced(memberId: string, groupInstanceId: string | null): boolean {
    if (groupInstanceId === null) return false;
    const holder = this.staticMembers.get(groupInstanceId);
    return holder !== undefined && holder !== memberId;
  }

  /**
   * Whether a member of this protocol type with these protocols may join: an empty group takes any
   * non-empty type and protocol list; otherwise the type must match and at least one protocol must
   * be supported by every current member.
   */
  supportsProtocols(protocolType: string, protocolNames: readonly string[]): boolean {
    if (this.members.size === 0) return protocolType.length > 0 && protocolNames.length > 0;
    if (this.protocolType !== protocolType) return false;
    return protocolNames.some((name) => this.countSupporting(name) === this.members.size);
  }

  /**
   * The protocol every member supports that most members prefer. Ties go to the leader's preference
   * order, so the choice is deterministic.
   */
  selectProtocol(): string {
    assert(this.members.size > 0, 'cannot select a protocol for an empty group');
    const first = this.leaderId !== null ? this.get(this.leaderId) : this.members.values().next().value!;
    const candidates = new Set(first.protocols.map((p) => p.name).filter((n) => this.countSupporting(n) === this.members.size));
    assert(candidates.size > 0, `group ${this.groupId} has no protocol every member supports`);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const v = m.vote(candidates);
      votes.set(v, (votes.get(v) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = -1;
    for (const name of candidates) {
      const n = votes.get(name) ?? 0;
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    assert(best !== null && bestVotes > 0, 'protocol selection found no vote');
    return best;
  }

  /** Every member has a parked JoinGroup and no handed-out member id is still unused. */
  hasAllMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const m of this.members.values()) if (m.joinWaiter === null) return false;
    return true;
  }

  /** The rebalance waits this long for members: the largest rebalance timeout of any member. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** The member list the leader receives: every member with its metadata for the selected protocol. */
  currentMemberMetadata(): JoinGroupResponseMember[] {
    assert(this.protocolName !== null, 'no protocol selected');
    const protocol = this.protocolName;
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadataFor(protocol),
    }));
  }

  // -------------------------------------------------------------------------------------------- offsets

  getOffset(topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  setOffset(topic: string, partition: number, committed: CommittedOffset): void {
    let partitions = this.offsets.get(topic);
    if (partitions === undefined) {
      partitions = new Map();
      this.offsets.set(topic, partitions);
    }
    partitions.set(partition, committed);
  }

  removeOffset(topic: string, partition: number): boolean {
    const partitions = this.offsets.get(topic);
    if (partitions === undefined) return false;
    const removed = partitions.delete(partition);
    if (partitions.size === 0) this.offsets.delete(topic);
    return removed;
  }

  hasOffsets(): boolean {
    return this.offsets.size > 0;
  }

  /**
   * The topics the members of a "consumer" group subscribe to under the chosen protocol, or null
   * when that cannot be told (another protocol type, no protocol chosen yet, a subscription that
   * does not decode): callers then take every topic as subscribed, as Kafka does.
   */
  subscribedTopics(): Set<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE || this.protocolName === null) return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      try {
        for (const t of decodeSubscription(m.metadataFor(this.protocolName)).topics) topics.add(t);
      } catch {
        return null;
      }
    }
    return topics;
  }

  offsetCount(): number {
    let n = 0;
    for (const partitions of this.offsets.values()) n += partitions.size;
    return n;
  }

  private countSupporting(protocolName: string): number {
    let n = 0;
    for (const m of this.members.values()) if (m.supports(protocolName)) n++;
    return n;
  }
}
