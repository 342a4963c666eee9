// Goal: a storage that caches the recent log and throws LogNotLoadedError for entries it holds on
// disk only (a partition's Raft log) never crashes the core and never makes a leader send a
// snapshot: the leader sends nothing to that follower until the entries are loaded, the apply path
// hands out nothing meanwhile (without spinning on empty Readies), an election waits, and
// storageLoaded() (or the next tick) resumes everything with the same entries.
// Method: RaftNodes over MemoryStorage wrapped so that chosen indexes throw LogNotLoadedError
// from entries(), driven by hand (persist, deliver, apply, advance) as in raft-node.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, LogNotLoadedError, MemoryStorage, RaftNode } from '../../src/raft/index.ts';
import type { Entry, Message, Ready } from '../../src/raft/index.ts';

const fixed = (value: number) => ({ nextInt: (bound: number) => value % bound });
const text = (s: string) => new TextEncoder().encode(s);

/** MemoryStorage whose entries() throws LogNotLoadedError when the range starts at an unloaded index. */
class CachingStorage extends MemoryStorage {
  /** Indexes below this are "on disk only" (0: everything loaded). */
  loadedFrom = 0;
  notLoadedReads = 0;
  override entries(lo: number, hi: number, maxBytes: number): readonly Entry[] {
    if (lo < this.loadedFrom) {
      this.notLoadedReads++;
      throw new LogNotLoadedError(lo);
    }
    return super.entries(lo, hi, maxBytes);
  }
}

class Group {
  readonly storages = new Map<number, CachingStorage>();
  readonly nodes = new Map<number, RaftNode>();
  readonly applied = new Map<number, string[]>();
  readonly sent: Message[] = [];
  /** Messages for which this returns true are lost. */
  drop: (m: Message) => boolean = () => false;
  private queue: Message[] = [];

  constructor(ids: number[]) {
    for (const id of ids) {
      const storage = new CachingStorage({ voters: ids, learners: [] });
      this.storages.set(id, storage);
      this.applied.set(id, []);
      this.nodes.set(id, new RaftNode({ id, storage, random: fixed(id), preVote: false, electionTicks: 10, heartbeatTicks: 1 }));
    }
  }

  handle(id: number, rd: Ready): void {
    const storage = this.storages.get(id)!;
    if (rd.snapshot) storage.applySnapshot(rd.snapshot);
    storage.append(rd.entries);
    if (rd.hardState) storage.setHardState(rd.hardState);
    this.queue.push(...rd.messages);
    this.sent.push(...rd.messages);
    for (const e of rd.committedEntries) if (e.type === EntryType.Normal && e.data.length > 0) this.applied.get(id)!.push(new TextDecoder().decode(e.data));
    this.nodes.get(id)!.advance(rd);
  }

  settle(): void {
    for (let round = 0; round < 1000; round++) {
      let busy = false;
      for (const [id, node] of this.nodes) {
        let readies = 0;
        while (node.hasReady()) {
          busy = true;
          assert.ok(++readies < 100, `node ${id} spins on Readies`);
          this.handle(id, node.ready());
        }
      }
      const messages = this.queue;
      this.queue = [];
      for (const m of messages) {
        busy = true;
        if (!this.drop(m)) this.nodes.get(m.to)?.step(m);
      }
      if (!busy) return;
    }
    throw new Error('group did not settle');
  }
}

test('a leader whose storage has not loaded a follower\'s entries sends nothing, then catches it up after storageLoaded()', () => {
  const g = new Group([1, 2, 3]);
  const leader = g.nodes.get(1)!;
  leader.campaign();
  g.settle();
  assert.equal(leader.isLeader, true);
  // Node 3 misses ten proposals.
  g.drop = (m) => m.to === 3 || m.from === 3;
  for (let i = 0; i < 10; i++) leader.propose(text(`v${i}`));
  g.settle();
  assert.equal(g.applied.get(1)!.length, 10);
  // The leader's storage now holds everything node 3 lacks on "disk" only.
  const storage = g.storages.get(1)!;
  storage.loadedFrom = storage.lastIndex() + 1;
  g.drop = () => false;
  g.sent.length = 0;
  for (let t = 0; t < 5; t++) {
    leader.tick();
    g.settle();
  }
  assert.ok(storage.notLoadedReads > 0, 'the leader tried to read the missing entries');
  assert.equal(g.sent.filter((m) => m.type === 'snapshot').length, 0, 'no snapshot because of LogNotLoadedError');
  assert.equal(g.sent.filter((m) => m.to === 3 && m.type === 'app' && m.entries.length > 0).length, 0, 'nothing sent while not loaded');
  assert.equal(g.applied.get(3)!.length, 0);
  // The load finishes.
  storage.loadedFrom = 0;
  leader.storageLoaded();
  g.settle();
  assert.deepEqual(g.applied.get(3), g.applied.get(1));
  assert.equal(g.sent.filter((m) => m.type === 'snapshot').length, 0);
});

/** A three-node group whose leader (1) stored `value` but has not seen it committed: the followers' answers were lost. */
function leaderWithUncommittedEntry(value: string): Group {
  const g = new Group([1, 2, 3]);
  g.nodes.get(1)!.campaign();
  g.settle();
  g.drop = (m) => m.to === 1;
  g.nodes.get(1)!.propose(text(value));
  g.settle();
  assert.deepEqual(g.applied.get(1), []);
  // From now on the entry is "on disk only" in the leader's storage.
  const storage = g.storages.get(1)!;
  storage.loadedFrom = storage.lastIndex() + 1;
  g.drop = () => false;
  return g;
}

test('committed entries that are not loaded are handed out later, without empty Readies meanwhile', () => {
  const g = leaderWithUncommittedEntry('a');
  const leader = g.nodes.get(1)!;
  leader.tick(); // a heartbeat round: the followers answer, the entry commits
  g.settle(); // asserts that no node spins on Readies
  assert.equal(leader.commitIndex, g.storages.get(1)!.lastIndex());
  assert.deepEqual(g.applied.get(1), [], 'nothing applied while the entry loads');
  assert.equal(leader.hasReady(), false);
  g.storages.get(1)!.loadedFrom = 0;
  leader.storageLoaded();
  g.settle();
  assert.deepEqual(g.applied.get(1), ['a']);
});

test('a tick retries applying even without storageLoaded()', () => {
  const g = leaderWithUncommittedEntry('b');
  const leader = g.nodes.get(1)!;
  leader.tick();
  g.settle();
  assert.deepEqual(g.applied.get(1), []);
  g.storages.get(1)!.loadedFrom = 0;
  leader.tick();
  g.settle();
  assert.deepEqual(g.applied.get(1), ['b']);
});

test('an election waits while committed, unapplied entries are not loaded (they may change the membership)', () => {
  const g = new Group([1, 2, 3]);
  g.nodes.get(1)!.campaign();
  g.settle();
  g.nodes.get(1)!.propose(text('x'));
  g.settle();
  // Node 2 learns the commit of 'x' but the entry is "on disk" when it wants to campaign.
  const node = g.nodes.get(2)!;
  const storage = g.storages.get(2)!;
  // Pretend it has not applied yet by rebuilding it from its storage with applied = 0.
  storage.loadedFrom = storage.lastIndex() + 1;
  const fresh = new RaftNode({ id: 2, storage, random: fixed(2), preVote: false, electionTicks: 10, heartbeatTicks: 1 });
  assert.ok(fresh.commitIndex > fresh.appliedIndex);
  fresh.campaign();
  assert.equal(fresh.hasReady() && fresh.ready().messages.some((m) => m.type === 'vote'), false, 'no vote request while entries load');
  assert.ok(node.commitIndex >= 2);
});
