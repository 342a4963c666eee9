// Goal: the RaftNode API keeps its contract: the Ready/advance protocol, determinism given the
// same inputs and Random, proposal results that tell commitment from loss, membership rebuilt
// correctly on restart, and the edge cases the scenario scripts do not show.
// Method: small clusters of RaftNodes over MemoryStorage driven by a minimal in-test driver that
// follows the persistence contract (persist, send, apply, advance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, MemoryStorage, RaftNode, encodeConfChange, message } from '../../src/raft/index.ts';
import type { Message, RaftConfig, Ready } from '../../src/raft/index.ts';

const fixed = (value: number) => ({ nextInt: (bound: number) => value % bound });
const text = (s: string) => new TextEncoder().encode(s);

class Cluster {
  readonly storages = new Map<number, MemoryStorage>();
  readonly nodes = new Map<number, RaftNode>();
  readonly applied = new Map<number, string[]>();
  readonly sent: Message[] = [];
  /** Messages for which this returns true are lost instead of delivered. */
  drop: (m: Message) => boolean = () => false;
  private queue: Message[] = [];

  constructor(ids: number[], options: Partial<RaftConfig> = {}) {
    for (const id of ids) {
      const storage = new MemoryStorage({ voters: ids, learners: [] });
      this.storages.set(id, storage);
      this.applied.set(id, []);
      this.nodes.set(id, new RaftNode({ id, storage, random: fixed(id), preVote: false, ...options }));
    }
  }

  node(id: number): RaftNode {
    return this.nodes.get(id)!;
  }

  /** Adds (or replaces with an empty disk) node `id`, whose store starts with `voters`. */
  addNode(id: number, voters: number[], options: Partial<RaftConfig> = {}): MemoryStorage {
    const storage = new MemoryStorage({ voters, learners: [] });
    this.storages.set(id, storage);
    this.applied.set(id, []);
    this.nodes.set(id, new RaftNode({ id, storage, random: fixed(id), preVote: false, ...options }));
    return storage;
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
        while (node.hasReady()) {
          busy = true;
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
    throw new Error('cluster did not settle');
  }
}

test('ready() twice without advance() is refused; hasReady() is false meanwhile', () => {
  const c = new Cluster([1]);
  const node = c.node(1);
  node.campaign();
  assert.equal(node.hasReady(), true);
  const rd = node.ready();
  assert.equal(node.hasReady(), false);
  assert.throws(() => node.ready(), /before advance/);
  assert.throws(() => node.advance({ ...rd }), /not the outstanding one/);
  c.handle(1, rd);
  assert.equal(node.isLeader, true);
});

test('a single voter commits its own entries in the same Ready that persists them', () => {
  const c = new Cluster([1]);
  c.node(1).campaign();
  c.settle();
  const result = c.node(1).propose(text('x'));
  assert.deepEqual(result, { accepted: true, index: 2, term: 1 });
  const rd = c.node(1).ready();
  assert.deepEqual(rd.entries.map((e) => e.index), [2]);
  assert.deepEqual(rd.committedEntries.map((e) => e.index), [2]);
  c.handle(1, rd);
  assert.deepEqual(c.applied.get(1), ['x']);
});

test('same inputs, same Random: same messages', () => {
  const run = () => {
    const c = new Cluster([1, 2, 3]);
    for (let t = 0; t < 40; t++) {
      for (const node of c.nodes.values()) node.tick();
      c.settle();
      if (t === 30) c.node(c.node(1).leader || 1).propose(text('v'));
    }
    return JSON.stringify(c.sent, (_, v) => (v instanceof Uint8Array ? [...v] : v));
  };
  const first = run();
  assert.ok(first.length > 1000);
  assert.equal(run(), first);
});

test('election timeouts are drawn from the injected Random, in [electionTicks, 2 * electionTicks)', () => {
  for (const jitter of [0, 4, 9]) {
    const storage = new MemoryStorage({ voters: [1, 2], learners: [] });
    const node = new RaftNode({ id: 1, storage, random: fixed(jitter), electionTicks: 10, preVote: false });
    let ticks = 0;
    while (node.role === 'follower' && ticks < 100) {
      node.tick();
      ticks++;
    }
    assert.equal(ticks, 10 + jitter);
  }
  const bad = { nextInt: () => 99 };
  assert.throws(() => new RaftNode({ id: 1, storage: new MemoryStorage({ voters: [1], learners: [] }), random: bad }), /out of bounds/);
});

test('a proposal lost to a leader change is recognisable by its term', () => {
  const c = new Cluster([1, 2, 3], { checkQuorum: false });
  c.node(1).campaign();
  c.settle();
  const lost = c.node(1).propose(text('lost'));
  assert.ok(lost.accepted);
  c.node(1).ready(); // never persisted nor sent: the leader is partitioned away and replaced
  c.nodes.delete(1);
  c.node(2).campaign();
  c.settle();
  const kept = c.node(2).propose(text('kept'));
  c.settle();
  assert.ok(kept.accepted);
  assert.ok(c.node(2).commitIndex >= kept.index);
  assert.ok(c.node(2).commitIndex >= lost.index);
  // Index 2 is committed, but with the new leader's term: the lost proposal is not there.
  assert.equal(c.node(2).termAt(lost.index), kept.term);
  assert.notEqual(c.node(2).termAt(lost.index), lost.term);
  assert.equal(c.node(2).termAt(kept.index), kept.term);
});

test('validation of limits', () => {
  const storage = new MemoryStorage({ voters: [1], learners: [] });
  const base = { id: 1, storage, random: fixed(0) };
  assert.throws(() => new RaftNode({ ...base, electionTicks: 3, heartbeatTicks: 3 }), /heartbeatTicks/);
  assert.throws(() => new RaftNode({ ...base, maxMessageBytes: 100, maxInflightBytes: 50 }), /in-flight byte limit/);
  assert.throws(() => new RaftNode({ ...base, id: 0 }), /id/);
});

test('proposals beyond the uncommitted byte limit are refused', () => {
  const c = new Cluster([1, 2, 3], { maxUncommittedBytes: 100 });
  c.node(1).campaign();
  c.settle();
  assert.equal(c.node(1).propose(new Uint8Array(80)).accepted, true);
  assert.deepEqual(c.node(1).propose(new Uint8Array(80)), { accepted: false, reason: 'too-many-uncommitted-bytes' });
  c.settle();
  assert.equal(c.node(1).propose(new Uint8Array(80)).accepted, true, 'committed bytes free the budget');
});

test('a learner never campaigns and ignores TimeoutNow', () => {
  const storage = new MemoryStorage({ voters: [1], learners: [2] });
  const learner = new RaftNode({ id: 2, storage, random: fixed(0) });
  for (let i = 0; i < 100; i++) learner.tick();
  learner.step(message({ type: 'timeoutNow', from: 1, to: 2, term: 0 }));
  assert.equal(learner.role, 'follower');
  assert.equal(learner.term, 0);
});

test('restart rebuilds membership from the snapshot plus the conf changes up to the applied index', () => {
  const storage = new MemoryStorage({ voters: [1], learners: [] });
  const cc = (type: 'addLearner' | 'promoteLearner', nodeId: number) => encodeConfChange({ type, nodeId });
  storage.append([
    { term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(0) },
    { term: 1, index: 2, type: EntryType.ConfChange, data: cc('addLearner', 2) },
    { term: 1, index: 3, type: EntryType.ConfChange, data: cc('promoteLearner', 2) },
  ]);
  storage.setHardState({ term: 1, vote: 1, commit: 3 });
  const atTwo = new RaftNode({ id: 1, storage, random: fixed(0), applied: 2 });
  assert.deepEqual(atTwo.confState(), { voters: [1], learners: [2] });
  const rd = atTwo.ready();
  assert.deepEqual(rd.committedEntries.map((e) => e.index), [3], 'entries after the applied index are handed out again');
  assert.deepEqual(atTwo.confState(), { voters: [1, 2], learners: [] });
  const fromScratch = new RaftNode({ id: 1, storage, random: fixed(0) });
  assert.deepEqual(fromScratch.ready().committedEntries.map((e) => e.index), [1, 2, 3]);
  assert.deepEqual(fromScratch.confState(), { voters: [1, 2], learners: [] });
});

test('a storage that lists its conf changes from memory restarts a node with applied entries it never reads', () => {
  const cc = encodeConfChange({ type: 'addLearner', nodeId: 2 });
  class IndexedStorage extends MemoryStorage {
    reads = 0;
    override entries(lo: number, hi: number, maxBytes: number) {
      this.reads++;
      return super.entries(lo, hi, maxBytes);
    }
    confChangeEntries(lo: number, hi: number) {
      return super.entries(lo, hi, Number.MAX_SAFE_INTEGER).filter((e) => e.type === EntryType.ConfChange);
    }
  }
  const storage = new IndexedStorage({ voters: [1], learners: [] });
  storage.append([
    { term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(8) },
    { term: 1, index: 2, type: EntryType.ConfChange, data: cc },
    { term: 1, index: 3, type: EntryType.Normal, data: new Uint8Array(8) },
  ]);
  storage.setHardState({ term: 1, vote: 1, commit: 3 });
  const node = new RaftNode({ id: 1, storage, random: fixed(0), applied: 3 });
  assert.equal(storage.reads, 0, 'no entry read to rebuild the membership');
  assert.deepEqual(node.confState(), { voters: [1], learners: [2] });
  assert.equal(node.appliedIndex, 3);
});

test('no campaign while committed conf changes wait to be applied', () => {
  const storage = new MemoryStorage({ voters: [1, 2], learners: [] });
  storage.append([{ term: 1, index: 1, type: EntryType.ConfChange, data: encodeConfChange({ type: 'removeNode', nodeId: 2 }) }]);
  storage.setHardState({ term: 1, vote: 0, commit: 1 });
  const node = new RaftNode({ id: 1, storage, random: fixed(0), preVote: false });
  node.campaign();
  assert.equal(node.role, 'follower', 'its membership may be stale');
  const rd = node.ready();
  node.advance(rd);
  assert.deepEqual(node.confState(), { voters: [1], learners: [] });
  node.campaign();
  assert.equal(node.role, 'leader');
});

test('appliedSnapshotMetadata is defined only between Readies', () => {
  const c = new Cluster([1]);
  c.node(1).campaign();
  c.settle();
  c.node(1).propose(text('a'));
  const rd = c.node(1).ready();
  assert.equal(c.node(1).appliedSnapshotMetadata(), null);
  c.handle(1, rd);
  assert.deepEqual(c.node(1).appliedSnapshotMetadata(), { index: 2, term: 1, confState: { voters: [1], learners: [] } });
});

test('a snapshot whose last entry the follower has only advances its commit index', () => {
  const c = new Cluster([1, 2]);
  c.node(1).campaign();
  c.settle();
  c.node(1).proposeBatch([text('a'), text('b')]);
  c.settle();
  const follower = c.node(2);
  const before = c.storages.get(2)!.lastIndex();
  follower.step(message({
    type: 'snapshot', from: 1, to: 2, term: 1,
    snapshot: { metadata: { index: 3, term: 1, confState: { voters: [1, 2], learners: [] } }, data: new Uint8Array(0) },
  }));
  const rd = follower.ready();
  assert.equal(rd.snapshot, null);
  assert.equal(rd.messages[0]!.type, 'appResp');
  follower.advance(rd);
  assert.equal(c.storages.get(2)!.lastIndex(), before);
});

test('status reports progress only on the leader; unreachable peers drop back to probing', () => {
  const c = new Cluster([1, 2, 3]);
  c.node(1).campaign();
  c.settle();
  assert.equal(c.node(2).status().progress, null);
  assert.equal(c.node(1).status().progress!.get(2)!.state, 'replicate');
  c.node(1).reportUnreachable(2);
  assert.equal(c.node(1).status().progress!.get(2)!.state, 'probe');
});

test('a lost probe to a new learner is sent again after a heartbeat answer, though nothing new was appended', () => {
  const c = new Cluster([1, 2]);
  const storage = c.addNode(3, [1, 2]);
  c.node(1).campaign();
  c.settle();
  c.drop = (m) => m.to === 3;
  assert.equal(c.node(1).proposeConfChange({ type: 'addLearner', nodeId: 3 }).accepted, true);
  c.settle();
  assert.equal(c.node(1).status().progress!.get(3)!.state, 'probe');
  assert.equal(storage.lastIndex(), 0, 'the first probe was lost');
  c.drop = () => false;
  c.node(1).tick();
  c.settle();
  assert.equal(storage.lastIndex(), c.storages.get(1)!.lastIndex(), 'the learner caught up after one heartbeat round');
  assert.equal(c.node(1).status().progress!.get(3)!.match, c.node(1).lastIndex);
});

test('with probeRetryTicks, a probe lost to a member that just restarted is sent again within those ticks, not a heartbeat later', () => {
  for (const probeRetryTicks of [0, 2]) {
    const c = new Cluster([1, 2, 3], { electionTicks: 20, heartbeatTicks: 10, probeRetryTicks });
    c.node(1).campaign();
    c.settle();
    c.node(1).propose(text('a'));
    c.settle();
    // Node 3's process restarts: the leader probes it afresh, and the probe is lost (its broker
    // does not host the group yet).
    c.drop = (m) => m.to === 3;
    c.node(1).peerReconnected(3);
    c.node(1).propose(text('b'));
    c.settle();
    c.drop = () => false;
    assert.deepEqual(c.applied.get(3), ['a']);
    const sentBefore = c.sent.length;
    for (let i = 0; i < 2; i++) c.node(1).tick();
    c.settle();
    if (probeRetryTicks === 0) {
      assert.deepEqual(c.applied.get(3), ['a'], 'without it, the leader waits for a heartbeat answer');
      continue;
    }
    const retries = c.sent.slice(sentBefore).filter((m) => m.from === 1 && m.to === 3 && m.type === 'app');
    assert.equal(retries[0]!.entries.length, 0, 'the retried probe is empty');
    assert.deepEqual(c.applied.get(3), ['a', 'b'], 'caught up two ticks after the lost probe');
    assert.equal(c.node(1).status().progress!.get(3)!.state, 'replicate');
  }
});

test('with probeRetryTicks, a member that stays unreachable gets one empty probe per period; a delivered snapshot is not probed by time', () => {
  const c = new Cluster([1, 2, 3], { electionTicks: 20, heartbeatTicks: 10, probeRetryTicks: 2 });
  c.node(1).campaign();
  c.settle();
  c.drop = (m) => m.to === 3;
  c.node(1).reportUnreachable(3);
  for (const v of ['a', 'b', 'c']) c.node(1).propose(text(v));
  c.settle();
  const sentBefore = c.sent.length;
  for (let i = 0; i < 8; i++) {
    c.node(1).tick();
    c.settle();
  }
  const toThree = c.sent.slice(sentBefore).filter((m) => m.to === 3 && m.type === 'app');
  assert.equal(toThree.length, 4, 'one every two ticks');
  assert.ok(toThree.every((m) => m.entries.length === 0));

  // What it lacks gets compacted: the next retry falls back to a snapshot, and once the snapshot is
  // out its answer comes when it is installed: no probe by time before that.
  const leaderStore = c.storages.get(1)!;
  const last = leaderStore.lastIndex();
  leaderStore.createSnapshot(last, { voters: [1, 2, 3], learners: [] }, new Uint8Array(0));
  leaderStore.compact(last);
  for (let i = 0; i < 2; i++) {
    c.node(1).tick();
    c.settle();
  }
  assert.equal(c.node(1).status().progress!.get(3)!.state, 'snapshot');
  c.node(1).reportSnapshot(3, true);
  c.settle();
  const afterSnapshot = c.sent.length;
  for (let i = 0; i < 8; i++) {
    c.node(1).tick();
    c.settle();
  }
  assert.equal(c.sent.slice(afterSnapshot).filter((m) => m.to === 3 && (m.type === 'app' || m.type === 'snapshot')).length, 0);
});

test('a joining node neither campaigns nor votes until it applied what the leader had committed when it first heard from it', () => {
  // Voters 1,2,3 become 1,4,5: nodes 2 and 3 leave and lose their logs.
  const c = new Cluster([1, 2, 3]);
  for (const id of [4, 5]) {
    const storage = new MemoryStorage({ voters: [1, 2, 3], learners: [] });
    c.storages.set(id, storage);
    c.applied.set(id, []);
    c.nodes.set(id, new RaftNode({ id, storage, random: fixed(id), preVote: false, joining: true }));
  }
  c.node(1).campaign();
  c.settle();
  const change = (type: 'addLearner' | 'promoteLearner' | 'removeNode', nodeId: number) => {
    assert.equal(c.node(1).proposeConfChange({ type, nodeId }).accepted, true, `${type} ${nodeId}`);
    c.settle();
  };
  c.node(1).propose(text('a'));
  c.settle();
  for (const id of [4, 5]) change('addLearner', id);
  for (const id of [4, 5]) change('promoteLearner', id);
  assert.equal(c.node(4).joining, false, 'node 4 caught up and joined');
  for (const id of [2, 3]) change('removeNode', id);
  assert.deepEqual(c.node(1).confState().voters, [1, 4, 5]);

  // Nodes 2 and 3 come back empty, believing the first configuration (1,2,3).
  for (const id of [2, 3]) {
    const storage = new MemoryStorage({ voters: [1, 2, 3], learners: [] });
    c.storages.set(id, storage);
    c.applied.set(id, []);
    c.nodes.set(id, new RaftNode({ id, storage, random: fixed(id), preVote: false, joining: true }));
  }
  // Cut off from the others, 2 never campaigns...
  c.drop = (m) => [1, 4, 5].includes(m.to) || [1, 4, 5].includes(m.from);
  for (let i = 0; i < 100; i++) c.node(2).tick();
  c.settle();
  assert.equal(c.node(2).role, 'follower');
  // ...and 3 refuses to vote for a candidate (as a non-joining node with the same stale view would not).
  c.node(3).step(message({ type: 'vote', from: 2, to: 3, term: 5, index: 0, logTerm: 0 }));
  const answers = [] as Message[];
  while (c.node(3).hasReady()) {
    const rd = c.node(3).ready();
    answers.push(...rd.messages);
    c.node(3).advance(rd);
  }
  assert.deepEqual(answers.map((m) => [m.type, m.reject]), [['voteResp', true]]);

  // Added back, 2 catches up through the leader's appends and only then takes part.
  c.drop = () => false;
  change('addLearner', 2);
  assert.equal(c.node(2).joining, false);
  assert.deepEqual(c.applied.get(2), ['a']);
  assert.deepEqual(c.node(2).confState(), { voters: [1, 4, 5], learners: [2] });
  assert.equal(c.node(3).joining, true, 'node 3, never added back, still does not vote');
});

test('a voter back with an empty log (a replaced disk) is refilled: at once when the link comes back, or through its rejections', () => {
  const c = new Cluster([1, 2, 3]);
  c.node(1).campaign();
  c.settle();
  for (const v of ['a', 'b']) c.node(1).propose(text(v));
  c.settle();
  const replaceDisk = () => c.addNode(3, [1, 2, 3], { joining: true });
  // Node 3 comes back empty, joining. The leader still counts what the old disk acknowledged.
  let storage = replaceDisk();
  // Heartbeats carry a commit index past its empty log: it commits only what it has, and does not break.
  for (let i = 0; i < 5; i++) c.node(1).tick();
  c.settle();
  assert.equal(c.node(3).joining, true);
  assert.equal(storage.lastIndex(), 0, 'an idle leader that believes the node holds its log sends it nothing');
  // The link comes back (MultiRaft tells every group): the leader forgets that match and refills it.
  c.node(1).peerReconnected(3);
  c.settle();
  assert.deepEqual(c.applied.get(3), ['a', 'b']);
  assert.equal(c.node(3).joining, false);
  assert.equal(c.node(3).vote, 1, 'it counts itself as having voted for the leader of this term');
  assert.equal(storage.initialState().hardState.vote, 1, 'and that vote is durable');

  // Replaced again, without the link event: the next append's rejection at the match index tells
  // the leader the entries are gone (no endless probing of the same index).
  storage = replaceDisk();
  c.node(1).propose(text('c'));
  c.settle();
  assert.deepEqual(c.applied.get(3), ['a', 'b', 'c']);
  assert.equal(c.node(3).joining, false);
  assert.equal(c.node(1).status().progress!.get(3)!.match, c.node(1).lastIndex);
});

test('a joining node ends joining only at a commit index of its leader\'s own term, then refuses rivals of that term', () => {
  const storage = new MemoryStorage({ voters: [1, 2, 3], learners: [] });
  const node = new RaftNode({ id: 3, storage, random: fixed(3), preVote: false, joining: true });
  const drain = (): Message[] => {
    const out: Message[] = [];
    while (node.hasReady()) {
      const rd = node.ready();
      if (rd.hardState) storage.setHardState(rd.hardState);
      storage.append(rd.entries);
      out.push(...rd.messages);
      node.advance(rd);
    }
    return out;
  };
  const entry = (index: number, term: number, data: string) => ({ index, term, type: EntryType.Normal, data: text(data) });
  // Leader 2 of term 3 has not committed an entry of its own term yet: its commit index (1, of term 2)
  // may lag entries its predecessor committed with this node's lost acknowledgement.
  node.step(message({ type: 'app', from: 2, to: 3, term: 3, index: 0, logTerm: 0, commit: 1, entries: [entry(1, 2, 'a'), entry(2, 3, '')] }));
  drain();
  assert.equal(node.appliedIndex, 1);
  assert.equal(node.joining, true, 'an entry of an earlier term is no proof of being caught up');
  // Its own term's entry commits: now everything committed anywhere is here.
  node.step(message({ type: 'app', from: 2, to: 3, term: 3, index: 2, logTerm: 3, commit: 2, entries: [] }));
  drain();
  assert.equal(node.joining, false);
  assert.equal(storage.initialState().hardState.vote, 2);
  // A rival candidate of the same term is refused: the forgotten vote may have gone to someone else.
  node.step(message({ type: 'vote', from: 1, to: 3, term: 3, index: 2, logTerm: 3 }));
  assert.deepEqual(drain().map((m) => [m.type, m.reject]), [['voteResp', true]]);
});

test('appends to a learner wait for the shared allowance and resume at the next tick; voters never wait', () => {
  let allowance = 0;
  let refused = 0;
  const budget = {
    take: (bytes: number) => {
      if (allowance <= 0) return (refused++, false);
      allowance -= bytes;
      return true;
    },
  };
  const c = new Cluster([1, 2], { learnerSendBudget: budget, maxMessageBytes: 100 });
  const storage = c.addNode(3, [1, 2]);
  c.node(1).campaign();
  c.settle();
  const values = Array.from({ length: 10 }, (_, i) => `value-${String(i).padStart(3, '0')}`.padEnd(80, '.'));
  for (const v of values) c.node(1).propose(text(v));
  c.settle();
  assert.deepEqual(c.applied.get(2), values, 'the voter got everything with no allowance');
  assert.equal(c.node(1).proposeConfChange({ type: 'addLearner', nodeId: 3 }).accepted, true);
  c.settle();
  assert.ok(refused > 0);
  assert.equal(c.applied.get(3)!.length, 0, 'nothing reached the learner without allowance');
  // Allowance for about three entries per round; each tick retries what waited.
  let rounds = 0;
  const progress: number[] = [];
  while (c.applied.get(3)!.length < values.length && rounds < 50) {
    allowance = 250;
    c.node(1).tick();
    c.settle();
    progress.push(c.applied.get(3)!.length);
    rounds++;
  }
  assert.deepEqual(c.applied.get(3), values);
  assert.ok(rounds >= 3, `caught up in ${rounds} rounds (${progress.join(', ')}): the allowance held it back`);
  // Once caught up, new entries reach it as they come (within the allowance).
  allowance = 1_000;
  c.node(1).propose(text('later'));
  c.settle();
  assert.deepEqual(c.applied.get(3)!.slice(-1), ['later']);
});

test('a node back with an empty log learns the term from a majority of the others before it acknowledges anything', () => {
  /** Runs the scenario; `lostLogMembers` as the host passes it for a replaced disk, or not at all. */
  const run = (learnTerm: boolean) => {
    // No check-quorum: node 1 stays leader of its old term while cut off, as a leader may for a while.
    const c = new Cluster([1, 2, 3], { checkQuorum: false });
    c.node(1).campaign();
    c.settle();
    c.node(1).propose(text('a'));
    c.settle();
    // Node 1 is cut off; 2 is elected in term 2 with 3's vote and commits 'b' with 3's acknowledgement.
    c.drop = (m) => m.from === 1 || m.to === 1;
    c.node(2).campaign();
    c.settle();
    assert.equal(c.node(2).role, 'leader');
    c.node(2).propose(text('b'));
    c.settle();
    assert.deepEqual(c.applied.get(2), ['a', 'b']);
    // Node 3's disk is replaced; node 2 goes down. Node 1, leader of term 1 still, reaches node 3.
    c.addNode(3, [1, 2, 3], { checkQuorum: false, joining: true, ...(learnTerm ? { lostLogMembers: [1, 2, 3] } : {}) });
    c.drop = (m) => m.from === 2 || m.to === 2;
    c.node(1).propose(text('stale'));
    for (let i = 0; i < 5; i++) {
      c.node(1).tick();
      c.node(3).tick();
      c.settle();
    }
    return c;
  };

  // Without learning the term first, the empty node acknowledges the deposed leader, which commits
  // 'stale' where 'b' was committed: the loss this rule prevents.
  const unsafe = run(false);
  assert.ok(unsafe.applied.get(1)!.includes('stale'), 'the scenario reproduces the loss without the rule');

  const c = run(true);
  assert.ok(!c.applied.get(1)!.includes('stale'), 'nothing committed through the node that lost its log');
  assert.equal(c.storages.get(3)!.lastIndex(), 0, 'it acknowledged nothing while one other member was silent');
  // Node 2 is back: its answer (term 2) reaches node 3, which then refuses node 1's old term; node 2's
  // link to node 3 came back, so it catches node 3 up (MultiRaft calls peerReconnected).
  c.drop = () => false;
  c.node(2).peerReconnected(3);
  for (let i = 0; i < 20 && c.node(3).joining; i++) {
    for (const id of [1, 2, 3]) c.node(id).tick();
    c.settle();
  }
  assert.equal(c.node(3).joining, false);
  assert.deepEqual(c.applied.get(3)!.slice(0, 2), ['a', 'b']);
  for (const id of [1, 2, 3]) assert.ok(!c.applied.get(id)!.includes('stale'), `node ${id} applied the deposed leader's entry`);
});

test('a node that lost its log finishes joining under an idle leader whose first append carried a commit index of an earlier term', () => {
  const c = new Cluster([1, 2, 3]);
  c.node(1).campaign();
  c.settle();
  c.node(1).propose(text('a'));
  c.settle();
  // Node 3 comes back empty under its id (a replaced disk), joining; node 2 then leads term 2. Its
  // first append carries the commit index it knew, an entry of term 1, before its own entry commits.
  const storage = new MemoryStorage({ voters: [1, 2, 3], learners: [] });
  c.storages.set(3, storage);
  c.applied.set(3, []);
  c.nodes.set(3, new RaftNode({ id: 3, storage, random: fixed(3), preVote: false, joining: true }));
  assert.equal(c.node(1).transferLeader(2).accepted, true);
  c.settle();
  assert.equal(c.node(2).isLeader, true);
  assert.equal(c.node(2).term, 2);
  const firstAppend = c.sent.find((m) => m.type === 'app' && m.from === 2 && m.to === 3)!;
  assert.equal(c.node(2).termAt(firstAppend.commit), 1, 'the first append to node 3 carried a commit index of term 1');
  // Nothing more to send but heartbeats: node 3 must still finish, on what it applied already.
  for (let i = 0; i < 5; i++) {
    c.node(2).tick();
    c.settle();
  }
  assert.deepEqual(c.applied.get(3), ['a']);
  assert.equal(c.node(3).joining, false, 'node 3 joined');
  assert.equal(c.node(3).status().vote, 2, 'and counts its vote in term 2 as cast for its leader');
});

test('a node that lost its log does not finish joining at a commit index of an earlier term: it may lack an entry committed with its lost acknowledgement', () => {
  // One entry per append, so catching up can stop anywhere.
  const c = new Cluster([1, 2, 3, 4, 5], { maxMessageBytes: 1, checkQuorum: false });
  c.node(1).campaign();
  c.settle();
  c.node(1).propose(text('a'));
  c.settle();
  // 'e' (index 3) is committed by 1, 2 and 3; 4 and 5 never get it, and 2 never hears it is committed.
  c.drop = (m) => m.from === 1 && (m.to === 4 || m.to === 5 || (m.to === 2 && m.commit >= 3));
  c.node(1).propose(text('e'));
  c.settle();
  assert.equal(c.node(1).commitIndex, 3);
  assert.equal(c.node(2).commitIndex, 2);
  // 1 is gone; 3 comes back empty (a replaced disk), joining; 2 leads term 2 with the votes of 4 and 5.
  const storage = new MemoryStorage({ voters: [1, 2, 3, 4, 5], learners: [] });
  c.storages.set(3, storage);
  c.applied.set(3, []);
  c.nodes.set(3, new RaftNode({ id: 3, storage, random: fixed(3), preVote: false, maxMessageBytes: 1, checkQuorum: false, joining: true }));
  // 3 catches up only to index 2, the commit index 2 first sent it (an entry of term 1): the
  // appends carrying 'e' to it are lost.
  c.drop = (m) => m.from === 1 || m.to === 1 || (m.from === 2 && m.to === 3 && m.entries.some((e) => e.index === 3));
  c.node(2).campaign();
  c.settle();
  assert.equal(c.node(2).isLeader, true);
  assert.equal(c.node(2).term, 2);
  assert.deepEqual(c.applied.get(3), ['a']);
  assert.equal(c.node(3).joining, true, 'node 3 lacks the committed entry e: it must not vote yet');
  // Once it applied an entry of its leader's term it holds everything committed before that term.
  c.drop = (m) => m.from === 1 || m.to === 1;
  c.node(2).tick();
  c.settle();
  assert.deepEqual(c.applied.get(3), ['a', 'e']);
  assert.equal(c.node(3).joining, false);
});
