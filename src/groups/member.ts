/**
 * One member of a classic group: what it sent in its last JoinGroup, its assignment, and the parked
 * JoinGroup/SyncGroup answers the coordinator owes it.
 */
import { assert } from '../util/assert.ts';
import type { JoinGroupProtocol, JoinGroupResponse, SyncGroupResponse } from './group-api.ts';
import type { TimerHandle } from '../io/clock.ts';

export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

export interface MemberProtocol {
  readonly name: string;
  readonly metadata: Buffer;
}

/** Copies protocol metadata out of the request frame: the member keeps it across requests. */
export function copyProtocols(protocols: readonly JoinGroupProtocol[]): MemberProtocol[] {
  return protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) }));
}

export class GroupMember {
  memberId: string;
  readonly groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: MemberProtocol[];
  /** The assignment of the current generation; empty until the leader's SyncGroup arrived. */
  assignment: Buffer = EMPTY_BYTES;
  /** Set while a JoinGroup of this member is parked; called exactly once, then cleared. */
  joinWaiter: ((response: JoinGroupResponse) => void) | null = null;
  /** Set while a SyncGroup of this member is parked; called exactly once, then cleared. */
  syncWaiter: ((response: SyncGroupResponse) => void) | null = null;
  /** True from the first JoinGroup until the first join response: such members expire by newMemberJoinTimeoutMs. */
  isNew = false;
  joinedAtMs: number;
  lastHeartbeatMs: number;
  /** The one liveness timer of this member and when it is due (see GroupCoordinator.scheduleExpiry). */
  expiryTimer: TimerHandle | null = null;
  expiryDueMs = 0;

  constructor(init: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    rebalanceTimeoutMs: number;
    sessionTimeoutMs: number;
    protocolType: string;
    protocols: MemberProtocol[];
    nowMs: number;
  }) {
    assert(init.memberId.length > 0, 'member id must not be empty');
    assert(init.sessionTimeoutMs > 0 && init.rebalanceTimeoutMs > 0, 'member timeouts must be positive');
    this.memberId = init.memberId;
    this.groupInstanceId = init.groupInstanceId;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.protocolType = init.protocolType;
    this.protocols = init.protocols;
    this.joinedAtMs = init.nowMs;
    this.lastHeartbeatMs = init.nowMs;
  }

  supports(protocolName: string): boolean {
    return this.protocols.some((p) => p.name === protocolName);
  }

  /** True when the member rejoins with exactly the protocols (names, order, metadata) it has. */
  matches(protocols: readonly JoinGroupProtocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    for (let i = 0; i < protocols.length; i++) {
      const mine = this.protocols[i]!;
      const theirs = protocols[i]!;
      if (mine.name !== theirs.name || !mine.metadata.equals(theirs.metadata)) return false;
    }
    return true;
  }

  metadataFor(protocolName: string): Buffer {
    const p = this.protocols.find((x) => x.name === protocolName);
    assert(p !== undefined, `member ${this.memberId} does not support protocol ${protocolName}`);
    return p.metadata;
  }

  /** The member's vote: its most preferred protocol among the candidates every member supports. */
  vote(candidates: ReadonlySet<string>): string {
    const choice = this.protocols.find((p) => candidates.has(p.name));
    assert(choice !== undefined, `member ${this.memberId} supports none of the candidate protocols`);
    return choice.name;
  }

  isAwaitingJoin(): boolean {
    return this.joinWaiter !== null;
  }

  isAwaitingSync(): boolean {
    return this.syncWaiter !== null;
  }
}
