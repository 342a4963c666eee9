// Goal: the Raft driver keeps etcd's ordering (a Ready's messages and committed entries wait until
// its writes are durable; apply before advance; proposers hear back only after their entries are
// applied), decides every accepted proposal exactly once (applied, overwritten, leadership lost,
// stopped), stops the group on a failed write, restarts from its store, and lets a loop-internal
// input through without re-entering.
// Method: groups of production RaftDrivers over hand-synced MemoryStorage disks and a queued
// network (raft-group.ts); the shared event list shows the order of persist, durable, send, apply
// and callbacks. Peer messages are crafted by hand where a scenario needs an exact shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, message } from '../../src/raft/index.ts';
import { READIES_PER_CALL_MAX } from '../../src/replication/raft-driver.ts';
import type { ProposalOutcome } from '../../src/replication/pending-proposals.ts';
import { ProposalError } from '../../src/replication/proposal-error.ts';
import { isStreamBusError } from '../../src/util/errors.ts';
import { RaftGroup, text } from './raft-group.ts';

test('nothing of a Ready is sent or applied before its write is durable', () => {
  const g = new RaftGroup([1, 2, 3]);
  g.disk(2).autoSync = true;
  g.disk(3).autoSync = true;
  for (let i = 0; i < 10; i++) g.driver(1).tick();
  assert.equal(g.disk(1).writing, true, 'the campaign writes term and vote');
  assert.equal(g.network.length, 0, 'no vote request before the vote is durable');
  g.disk(1).sync();
  assert.deepEqual(g.network.map((m) => `${m.type}->${m.to}`), ['vote->2', 'vote->3']);
  g.deliver();
  assert.equal(g.driver(1).raft.isLeader, true);
  // The leader's no-op entry: its appends wait for the leader's own fsync too (conservative).
  assert.equal(g.disk(1).writing, true);
  assert.equal(g.network.length, 0);
  g.disk(1).sync();
  assert.deepEqual(g.network.map((m) => `${m.type}->${m.to}`), ['app->2', 'app->3']);

  g.events.length = 0;
  g.deliver();
  const outcomes: ProposalOutcome[] = [];
  const result = g.driver(1).propose([text('a')], (outcome) => {
    outcomes.push(outcome);
    g.events.push(`1 outcome ${outcome.kind} ${outcome.index}`);
  });
  assert.deepEqual(result, { accepted: true, index: 2, term: 1 });
  assert.equal(g.disk(1).writing, true);
  g.disk(1).sync();
  g.deliver();
  assert.deepEqual(outcomes, [{ kind: 'applied', index: 2, term: 1 }]);
  assert.deepEqual(g.machine(1).applied, ['', 'a']);
  const order = g.events.filter((e) => e.startsWith('1 '));
  assert.ok(order.indexOf('1 durable') < order.indexOf('1 send app to 2'), order.join(', '));
  assert.ok(order.indexOf('1 apply 2') < order.indexOf('1 outcome applied 2'), order.join(', '));
  // Followers apply the entry once the leader's commit index reaches them.
  g.driver(1).tick();
  g.deliver();
  assert.deepEqual(g.machine(2).applied, ['', 'a']);
  assert.equal(g.driver(1).pendingProposals, 0);
});

test('a leader that steps down before its proposal applies reports leadership-lost; the promise form rejects with SB_ERR_RAFT_PROPOSAL_LOST', async () => {
  const g = new RaftGroup([1, 2, 3]);
  g.elect(1);
  const outcomes: string[] = [];
  assert.equal(g.driver(1).propose([text('a')], (o) => outcomes.push(o.kind)).accepted, true);
  const waiting = g.driver(1).proposeAndWait([text('b')]);
  g.network = [];
  g.driver(1).step(message({ type: 'heartbeat', from: 2, to: 1, term: 2, commit: 0 }));
  assert.equal(g.driver(1).raft.isLeader, false);
  assert.deepEqual(outcomes, ['leadership-lost']);
  await assert.rejects(waiting, (e) => isStreamBusError(e, 'SB_ERR_RAFT_PROPOSAL_LOST') && e instanceof ProposalError && e.reason === 'leadership-lost');
  assert.equal(g.driver(1).pendingProposals, 0);
});

test("a proposal whose index commits with another leader's entry is reported overwritten", () => {
  const g = new RaftGroup([1, 2, 3]);
  g.elect(1);
  const last = g.driver(1).raft.lastIndex;
  const outcomes: ProposalOutcome[] = [];
  const result = g.driver(1).propose([text('x'), text('y')], (o) => outcomes.push(o));
  assert.deepEqual(result, { accepted: true, index: last + 1, term: 1 });
  g.network = [];
  // Leader 2 of term 2 replaced both entries and committed its own: node 1 learns the new term,
  // the replacement and the commit from one message, so one Ready decides the proposal.
  const entries = [
    { term: 2, index: last + 1, type: EntryType.Normal, data: new Uint8Array(0) },
    { term: 2, index: last + 2, type: EntryType.Normal, data: text('z') },
  ];
  g.driver(1).step(message({ type: 'app', from: 2, to: 1, term: 2, index: last, logTerm: 1, entries, commit: last + 2 }));
  assert.deepEqual(outcomes, [{ kind: 'overwritten', index: last + 1, term: 1 }]);
  assert.deepEqual(g.machine(1).applied.slice(-2), ['', 'z']);
});

test('a refused proposal is answered at once and never called back; an accepted one resolves once applied', async () => {
  const g = new RaftGroup([1, 2, 3]);
  g.elect(1);
  let called = false;
  assert.deepEqual(g.driver(2).propose([text('a')], () => (called = true)), { accepted: false, reason: 'not-leader' });
  await assert.rejects(g.driver(2).proposeAndWait([text('a')]), (e) => isStreamBusError(e, 'SB_ERR_RAFT_PROPOSAL_REFUSED') && e instanceof ProposalError && e.reason === 'not-leader');
  const applied = g.driver(1).proposeAndWait([text('b')]);
  g.deliver();
  assert.deepEqual(await applied, { kind: 'applied', index: 2, term: 1 });
  assert.equal(called, false);
});

test('a failed write stops the group: onFailure once, proposals end as stopped, later inputs are ignored', () => {
  const g = new RaftGroup([1, 2, 3]);
  g.elect(1);
  g.disk(1).autoSync = false;
  const outcomes: string[] = [];
  g.driver(1).propose([text('a')], (o) => outcomes.push(o.kind));
  g.network = [];
  const eio = new Error('EIO');
  g.disk(1).fail(eio);
  assert.deepEqual(g.failures, [eio]);
  assert.deepEqual(outcomes, ['stopped']);
  assert.equal(g.driver(1).stopped, true);
  assert.deepEqual(g.driver(1).propose([text('b')], () => assert.fail('no callback after stop')), { accepted: false, reason: 'not-leader' });
  for (let i = 0; i < 30; i++) g.driver(1).tick();
  assert.equal(g.disk(1).writing, false, 'a stopped driver writes nothing');
  assert.equal(g.network.length, 0, 'and sends nothing');
  assert.deepEqual(g.failures, [eio]);
});

test('an exception from the core stops the group the same way', () => {
  const g = new RaftGroup([1]);
  g.elect(1);
  // A message that claims to come from the node itself: the core asserts.
  g.driver(1).step(message({ type: 'appResp', from: 1, to: 1, term: 1, index: 99 }));
  assert.equal(g.failures.length, 1);
  assert.equal(g.driver(1).stopped, true);
});

test('snapshots follow the policy, and a restart restores the state machine from the snapshot plus re-applied entries', () => {
  const g = new RaftGroup([1], { snapshots: { everyEntries: 4, keepEntries: 1 } });
  g.elect(1);
  for (const s of ['a', 'b', 'c', 'd', 'e', 'f']) g.driver(1).propose([text(s)], () => {});
  const disk = g.disk(1);
  assert.equal(disk.snapshot().metadata.index, 4, 'snapshot at the fourth applied entry (no-op plus a..c)');
  assert.equal(disk.firstIndex(), 4, 'one entry kept: the snapshot index itself');
  const before = g.machine(1).applied;
  g.driver(1).stop();
  const restarted = g.start(1);
  assert.deepEqual(g.machine(1).applied, ['', 'a', 'b', 'c'], 'restored from the snapshot');
  restarted.tick();
  assert.deepEqual(g.machine(1).applied, before, 'and the committed entries after it applied again');
});

test('requestSnapshot snapshots what was applied short of the entry count, once, and never an unchanged state', () => {
  const g = new RaftGroup([1], { snapshots: { everyEntries: 1000, keepEntries: 0 } });
  g.elect(1);
  for (const s of ['a', 'b']) g.driver(1).propose([text(s)], () => {});
  const disk = g.disk(1);
  assert.equal(disk.snapshot().metadata.index, 0, 'the entry count is far from reached');
  g.driver(1).requestSnapshot();
  assert.equal(disk.snapshot().metadata.index, 3, 'no-op plus a and b');
  assert.equal(disk.firstIndex(), 4, 'keepEntries 0: the log starts after the snapshot');
  const snapshot = disk.snapshot();
  g.driver(1).requestSnapshot();
  assert.equal(disk.snapshot(), snapshot, 'nothing applied since: no new snapshot');
  // Asked while a write is in flight: taken once that Ready is done.
  disk.autoSync = false;
  g.driver(1).propose([text('c')], () => {});
  assert.equal(disk.writing, true);
  g.driver(1).requestSnapshot();
  assert.equal(disk.snapshot(), snapshot);
  disk.sync();
  assert.equal(disk.snapshot().metadata.index, 4);
});

test('at most READIES_PER_CALL_MAX Readies per input; the rest continues at the next one', () => {
  const g = new RaftGroup([1], { settings: { maxApplyBytes: 1 } });
  g.elect(1);
  const count = 3 * READIES_PER_CALL_MAX;
  for (let i = 0; i < count; i++) g.driver(1).propose([text(`e${i}`)], () => {});
  g.driver(1).stop();
  g.start(1).tick();
  // One committed entry per Ready (maxApplyBytes), so one call cannot apply them all.
  assert.equal(g.machine(1).applied.length, READIES_PER_CALL_MAX);
  for (let i = 0; i < 3; i++) g.driver(1).tick();
  assert.equal(g.machine(1).applied.length, count + 1);
});

test('leaderWritesInParallel: a leader sends its appends while it writes them, and counts its own copy only once durable', () => {
  const g = new RaftGroup([1, 2, 3], { settings: { leaderWritesInParallel: true } });
  g.elect(1);
  g.disk(1).autoSync = false;
  const outcomes: string[] = [];
  g.driver(1).propose([text('a')], (o) => outcomes.push(o.kind));
  assert.equal(g.disk(1).writing, true);
  // The appends left before the leader's own write is durable.
  assert.deepEqual(g.network.map((m) => `${m.type}->${m.to}`), ['app->2', 'app->3']);
  const index = g.network[0]!.entries[0]!.index;
  // One follower's acknowledgement: the leader's own copy is not durable yet, so no quorum.
  const toThree = g.network.filter((m) => m.to === 3);
  g.network = g.network.filter((m) => m.to !== 3);
  g.deliver();
  assert.ok(g.driver(1).raft.commitIndex < index, 'committed with one durable copy of three');
  // The second follower's: a quorum of durable copies without the leader's. It commits, but
  // applies (and answers the proposer) only after its own write, the one still in flight.
  g.network.push(...toThree);
  g.deliver();
  assert.equal(g.driver(1).raft.commitIndex, index);
  assert.deepEqual(outcomes, []);
  g.disk(1).sync();
  g.deliver();
  assert.deepEqual(outcomes, ['applied']);
});

test('leaderWritesInParallel: a lone voter commits its entry once it is durable, not before', () => {
  const g = new RaftGroup([1], { settings: { leaderWritesInParallel: true } });
  g.elect(1);
  g.disk(1).autoSync = false;
  const outcomes: string[] = [];
  g.driver(1).propose([text('a')], (o) => outcomes.push(o.kind));
  const index = g.driver(1).raft.lastIndex;
  assert.ok(g.driver(1).raft.commitIndex < index);
  g.disk(1).sync();
  assert.equal(g.driver(1).raft.commitIndex, index);
  assert.deepEqual(outcomes, ['applied']);
  assert.deepEqual(g.machine(1).applied.at(-1), 'a');
});

test('a follower told to quiesce with entries left to apply keeps ticking until it applied them, then quiesces', () => {
  const g = new RaftGroup([1, 2, 3], { settings: { maxApplyBytes: 1 }, quiesce: { afterTicks: 2 } });
  g.elect(1);
  // Node 3 is cut off while the others commit many entries; then it gets them all at once.
  const count = 3 * READIES_PER_CALL_MAX;
  for (let i = 0; i < count; i++) {
    g.driver(1).propose([text(`e${i}`)], () => {});
    g.deliver((m) => m.to === 3 || m.from === 3);
  }
  g.driver(1).tick();
  g.deliver();
  const follower = g.driver(3);
  const commit = g.driver(1).raft.commitIndex;
  assert.equal(follower.raft.commitIndex, commit);
  // One committed entry per Ready (maxApplyBytes): one input cannot apply them all.
  assert.ok(g.machine(3).appliedIndex < commit, `applied ${g.machine(3).appliedIndex} of ${commit}`);
  // The leader's notice arrives now: a follower that stopped ticking here would never apply the rest.
  assert.equal(follower.quiesceNotice(1, g.driver(1).raft.term, commit), false);
  assert.equal(follower.quiesced, false);
  for (let i = 0; i < 10 && !follower.quiesced; i++) follower.tick();
  assert.equal(g.machine(3).appliedIndex, commit);
  assert.equal(follower.quiesced, true, 'quiesces once everything is applied');
  // A message from outside before that point cancels the notice: the leader is active again.
  g.driver(1).propose([text('more')], () => {});
  g.deliver();
  assert.equal(follower.quiesced, false);
});

test('a transport that delivers at once, from inside the loop, settles the group in one call', () => {
  const g = new RaftGroup([1, 2, 3]);
  for (const disk of g.disks.values()) disk.autoSync = true;
  // Re-wire: every send is stepped into its target immediately.
  const deliverNow = (): void => {
    while (g.network.length > 0) {
      const m = g.network.shift()!;
      g.driver(m.to).step(m);
    }
  };
  for (let i = 0; i < 10; i++) {
    g.driver(1).tick();
    deliverNow();
  }
  assert.equal(g.driver(1).raft.isLeader, true);
  const outcomes: string[] = [];
  g.driver(1).propose([text('a')], (o) => {
    outcomes.push(o.kind);
    // A proposer that proposes again from its callback.
    if (outcomes.length === 1) g.driver(1).propose([text('b')], (again) => outcomes.push(again.kind));
  });
  deliverNow();
  g.driver(1).tick();
  deliverNow();
  assert.deepEqual(outcomes, ['applied', 'applied']);
  for (const id of [1, 2, 3]) assert.deepEqual(g.machine(id).applied, ['', 'a', 'b']);
});
