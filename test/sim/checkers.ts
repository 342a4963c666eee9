import { EntryType } from '../../src/raft/index.ts';
import type { Entry, NodeId, Snapshot } from '../../src/raft/index.ts';
import type { MemoryStorage } from '../../src/raft/index.ts';
import type { RaftNodeView } from '../../src/replication/raft-driver.ts';
import { decodePayload } from './payload.ts';

/**
 * The simulator's safety invariants, checked after every event (and at every durable write).
 * The first broken one is kept with a description; the run stops there.
 *
 * - election safety: at most one leader per term.
 * - log matching: two logs with an entry of the same index and term hold the same entry there
 *   and agree on the term of the entry before it (by induction, the whole prefix matches).
 * - committed entries never change or vanish: once any node reports index i committed, every
 *   node's committed entry at i is that same entry, and no durable write replaces or truncates it.
 * - state-machine safety: every replica applies the same entry at each index, in index order.
 * - exactly once: no replica applies a proposal twice.
 * - monotonic: within one incarnation a node's term and commit index never go down.
 *
 * A node whose disk was replaced is checked as a new replica (wiped()): its log, commit index and
 * applied state start again from nothing, and everything it commits, stores or applies from then on
 * is held to the same record of committed and applied entries as every other node's.
 */
export class InvariantChecker {
  violation: string | null = null;
  private readonly leaders = new Map<number, NodeId>();
  /** index -> term -> {key of the entry, term of the entry before it (-1 = unknown)} */
  private readonly logIndex = new Map<number, Map<number, { key: string; prevTerm: number }>>();
  /** index -> key of the committed entry there. */
  readonly committed = new Map<number, string>();
  /** The highest index any node reported committed. */
  highestCommitted = 0;
  private readonly applied = new Map<number, string>();
  private readonly lastCommitSeen = new Map<NodeId, number>();
  private readonly lastTermSeen = new Map<NodeId, number>();

  /**
   * `describe` names a normal entry's payload in violation messages and entry keys; the default
   * reads the proposal ids of this simulator's own payloads (payload.ts).
   */
  constructor(private readonly describe: PayloadDescriber = describeProposal) {}

  fail(invariant: string, detail: string): void {
    if (this.violation === null) this.violation = `${invariant}: ${detail}`;
  }

  /** A node restarted: its in-memory commit index may legitimately be lower than before the crash. */
  restarted(id: NodeId): void {
    // Its term too: a term it moved to but had not yet made durable is legitimately forgotten.
    this.lastCommitSeen.delete(id);
    this.lastTermSeen.delete(id);
  }

  /**
   * A node lost its disk (crashed, restarts empty under the same id). Nothing recorded about other
   * nodes or about entries changes: what it committed and applied before stays in the record that
   * every later commit, write and application is compared with, its own included. Only what is
   * tied to its lost state goes: the term and commit index it reached may start again from 0, as
   * after a restart, and its applied state is a new one (the simulator gives it a fresh state machine).
   */
  wiped(id: NodeId): void {
    this.restarted(id);
  }

  /** After every event: roles, terms and commit indexes of the live nodes. */
  observe(nodes: readonly { id: NodeId; raft: RaftNodeView | null }[]): void {
    for (const { id, raft } of nodes) {
      if (raft === null) continue;
      if (raft.isLeader) {
        const known = this.leaders.get(raft.term);
        if (known === undefined) this.leaders.set(raft.term, id);
        else if (known !== id) this.fail('election safety', `nodes ${known} and ${id} are both leader in term ${raft.term}`);
      }
      const lastTerm = this.lastTermSeen.get(id) ?? 0;
      if (raft.term < lastTerm) this.fail('monotonic term', `node ${id} went from term ${lastTerm} to ${raft.term}`);
      this.lastTermSeen.set(id, raft.term);
      const seen = this.lastCommitSeen.get(id);
      if (seen !== undefined && raft.commitIndex < seen) {
        this.fail('monotonic commit', `node ${id} commit went from ${seen} to ${raft.commitIndex}`);
      }
      this.observeCommits(id, raft, seen ?? raft.firstIndex - 1);
      if (raft.commitIndex > this.highestCommitted) this.highestCommitted = raft.commitIndex;
      this.lastCommitSeen.set(id, raft.commitIndex);
    }
  }

  private observeCommits(id: NodeId, raft: RaftNodeView, from: number): void {
    const lo = Math.max(from + 1, raft.firstIndex);
    const hi = raft.commitIndex;
    if (lo > hi) return;
    const entries = raft.entries(lo, hi + 1);
    if (entries === null) return;
    for (const entry of entries) {
      const key = entryKey(entry, this.describe);
      const known = this.committed.get(entry.index);
      if (known === undefined) this.committed.set(entry.index, key);
      else if (known !== key) {
        this.fail('committed entries never change', `node ${id} has ${key} committed at index ${entry.index}, another node committed ${known}`);
      }
    }
  }

  /**
   * Before a durable append of `entries` to `storage` (truncating at entries[0].index): the write
   * must not replace or drop a committed entry, and must respect log matching.
   */
  beforeAppend(id: NodeId, storage: MemoryStorage, entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const last = entries[entries.length - 1]!.index;
    const storedLast = storage.lastIndex();
    const from = Math.max(first, storage.firstIndex());
    const stored = from <= storedLast ? storage.entries(from, storedLast + 1, Number.MAX_SAFE_INTEGER) : [];
    for (let index = from; index <= storedLast; index++) {
      const committedKey = this.committed.get(index);
      // A stale entry (from a deposed leader) may be replaced; only the committed one must stay.
      if (committedKey === undefined || entryKey(stored[index - from]!, this.describe) !== committedKey) continue;
      if (index > last) {
        this.fail('committed entries never vanish', `node ${id} truncates committed index ${index} (${committedKey})`);
        return;
      }
      const replacement = entryKey(entries[index - first]!, this.describe);
      if (replacement !== committedKey) {
        this.fail('committed entries never change', `node ${id} overwrites committed index ${index} (${committedKey}) with ${replacement}`);
        return;
      }
    }
    let prevTerm = -1;
    if (first - 1 >= storage.firstIndex() - 1 && first - 1 <= storedLast) prevTerm = storage.term(first - 1);
    for (const entry of entries) {
      this.recordLogEntry(id, entry, prevTerm);
      prevTerm = entry.term;
    }
  }

  private recordLogEntry(id: NodeId, entry: Entry, prevTerm: number): void {
    let byTerm = this.logIndex.get(entry.index);
    if (byTerm === undefined) {
      byTerm = new Map();
      this.logIndex.set(entry.index, byTerm);
    }
    const key = entryKey(entry, this.describe);
    const known = byTerm.get(entry.term);
    if (known === undefined) {
      byTerm.set(entry.term, { key, prevTerm });
      return;
    }
    if (known.key !== key) {
      this.fail('log matching', `node ${id} stores ${key} at index ${entry.index}, another log has ${known.key} with the same term`);
    } else if (known.prevTerm >= 0 && prevTerm >= 0 && known.prevTerm !== prevTerm) {
      this.fail('log matching', `node ${id} has term ${prevTerm} before index ${entry.index} term ${entry.term}, another log has term ${known.prevTerm}`);
    } else if (known.prevTerm < 0 && prevTerm >= 0) {
      known.prevTerm = prevTerm;
    }
  }

  /** Before a node durably installs a snapshot: it must agree with what is committed at its index. */
  beforeSnapshot(id: NodeId, snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata;
    const known = this.committed.get(index);
    if (known !== undefined && !known.startsWith(`${term}/`)) {
      this.fail('committed entries never change', `node ${id} installs a snapshot at index ${index} term ${term}, committed entry there is ${known}`);
    }
  }

  /** A replica applied a committed entry. `count` is how many times its proposal was applied there now. */
  onApply(id: NodeId, entry: Entry, proposal: string | null, count: number): void {
    const key = entryKey(entry, this.describe);
    const known = this.applied.get(entry.index);
    if (known === undefined) this.applied.set(entry.index, key);
    else if (known !== key) {
      this.fail('state-machine safety', `node ${id} applied ${key} at index ${entry.index}, another replica applied ${known}`);
    }
    if (proposal !== null && count > 1) {
      this.fail('exactly once', `node ${id} applied proposal ${proposal} ${count} times (index ${entry.index})`);
    }
  }
}

/** Names the payload of a normal, non-empty entry. */
export type PayloadDescriber = (data: Uint8Array) => string;

function describeProposal(data: Uint8Array): string {
  return decodePayload(data) ?? 'noop';
}

/** Identifies an entry by term, type and content. */
export function entryKey(entry: Entry, describe: PayloadDescriber = describeProposal): string {
  if (entry.type === EntryType.ConfChange) return `${entry.term}/conf/${Array.from(entry.data).join('.')}`;
  return `${entry.term}/${entry.data.length === 0 ? 'noop' : describe(entry.data)}`;
}
