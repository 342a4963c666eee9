/**
 * Who leads each Raft group, as far as this broker knows: what a broker that is not a member of a
 * group answers when a Kafka client asks it for Metadata. Entries come from the leadership gossip
 * (leadership-gossip.ts) and from the groups this broker hosts; docs/replication.md, "Leadership gossip".
 *
 * The rules keep the table moving forward whatever order reports arrive in: a higher term always wins,
 * because Raft elects at most one leader per term and terms never go down; a lower term is stale and
 * ignored. Within one term, "no leader known" (-1) gives way to a named leader, and the named leader's
 * later report replaces its ISR. A different leader named at the same term cannot happen in Raft, so
 * such a report is ignored rather than trusted over the first.
 *
 * Deterministic and synchronous: no clock, no I/O. Listeners run inside the call that changed the table
 * and must not throw.
 */
import { assert } from '../util/assert.ts';

/** No leader known for the group at this term. */
export const NO_LEADER = -1;

export interface LeadershipEntry {
  /** A broker id, or NO_LEADER. */
  readonly leader: number;
  readonly term: number;
  /** Broker ids of the in-sync replicas, as the leader last reported them. */
  readonly isr: readonly number[];
}

export type LeadershipListener = (groupIds: readonly number[]) => void;

const GROUP_ID_MAX = 0x7fffffff;
const BROKER_ID_MAX = 0x7fffffff;
const EMPTY: readonly number[] = Object.freeze([]);

export class LeadershipTable {
  private readonly entries = new Map<number, LeadershipEntry>();
  /** Group ids per leader, so a full digest from one broker is checked against its own groups only. */
  private readonly byLeader = new Map<number, Set<number>>();
  private readonly listeners: LeadershipListener[] = [];
  /** Changed group ids held back while batch() runs, so that listeners hear once per digest. */
  private pending: Set<number> | null = null;

  get size(): number {
    return this.entries.size;
  }

  get(groupId: number): LeadershipEntry | undefined {
    return this.entries.get(groupId);
  }

  /** The groups whose entry names `leader`, in no particular order. */
  ledBy(leader: number): readonly number[] {
    const groups = this.byLeader.get(leader);
    return groups === undefined ? EMPTY : [...groups];
  }

  /** How many groups name `leader`. */
  ledByCount(leader: number): number {
    return this.byLeader.get(leader)?.size ?? 0;
  }

  /**
   * Records that `leader` (a broker id or NO_LEADER) leads `groupId` at `term` with `isr`. Returns
   * whether the entry changed; see the header for which report wins.
   */
  observe(groupId: number, leader: number, term: number, isr: readonly number[]): boolean {
    checkGroupId(groupId);
    assert(leader === NO_LEADER || (Number.isSafeInteger(leader) && leader >= 1 && leader <= BROKER_ID_MAX), `leader must be a broker id or ${NO_LEADER}, got ${leader}`);
    assert(Number.isSafeInteger(term) && term >= 0, `term must be a non-negative integer, got ${term}`);
    const current = this.entries.get(groupId);
    if (current !== undefined) {
      if (term < current.term) return false;
      if (term === current.term) {
        if (leader === NO_LEADER) return false;
        if (current.leader !== NO_LEADER && current.leader !== leader) return false;
        if (current.leader === leader && sameIds(current.isr, isr)) return false;
      }
    }
    this.put(groupId, { leader, term, isr: Object.freeze([...isr]) });
    return true;
  }

  /**
   * Records that broker `leader` no longer leads `groupId` at `term`: an entry naming it at a term up to
   * `term` becomes NO_LEADER at `term`. Returns whether the entry changed.
   */
  stepDown(groupId: number, leader: number, term: number): boolean {
    checkGroupId(groupId);
    assert(leader !== NO_LEADER, 'only a named leader steps down');
    const current = this.entries.get(groupId);
    if (current === undefined || current.leader !== leader || current.term > term) return false;
    this.put(groupId, { leader: NO_LEADER, term, isr: EMPTY });
    return true;
  }

  /** Drops the entry of a deleted group. Returns whether there was one. */
  forget(groupId: number): boolean {
    const current = this.entries.get(groupId);
    if (current === undefined) return false;
    this.unindex(groupId, current.leader);
    this.entries.delete(groupId);
    this.changed(groupId);
    return true;
  }

  /** Calls `listener` with the ids of the groups whose entry changed, once per change or per batch(). */
  onChange(listener: LeadershipListener): void {
    this.listeners.push(listener);
  }

  /** Runs `fn`, telling the listeners once at the end about everything it changed. */
  batch(fn: () => void): void {
    if (this.pending !== null) {
      fn(); // nested: the outer batch reports
      return;
    }
    const pending = new Set<number>();
    this.pending = pending;
    try {
      fn();
    } finally {
      this.pending = null;
      if (pending.size > 0) this.notify([...pending]);
    }
  }

  private put(groupId: number, entry: LeadershipEntry): void {
    const previous = this.entries.get(groupId);
    if (previous !== undefined && previous.leader !== entry.leader) this.unindex(groupId, previous.leader);
    this.entries.set(groupId, entry);
    if (entry.leader !== NO_LEADER) {
      let groups = this.byLeader.get(entry.leader);
      if (groups === undefined) this.byLeader.set(entry.leader, (groups = new Set()));
      groups.add(groupId);
    }
    this.changed(groupId);
  }

  private unindex(groupId: number, leader: number): void {
    const groups = this.byLeader.get(leader);
    if (groups === undefined) return;
    groups.delete(groupId);
    if (groups.size === 0) this.byLeader.delete(leader);
  }

  private changed(groupId: number): void {
    if (this.pending !== null) this.pending.add(groupId);
    else this.notify([groupId]);
  }

  private notify(groupIds: readonly number[]): void {
    for (const listener of this.listeners) listener(groupIds);
  }
}

function checkGroupId(groupId: number): void {
  assert(Number.isSafeInteger(groupId) && groupId >= 0 && groupId <= GROUP_ID_MAX, `group id must be 0..2^31-1, got ${groupId}`);
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
