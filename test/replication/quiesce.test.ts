// Goal: idle partition groups quiesce (docs/replication.md, "Quiescence"): once everything is
// committed and replicated, a leader sends one quiesce notice per follower and every member stops
// ticking, so no Raft message flows; any input wakes a group and it quiesces again once idle; a
// follower that missed the notice campaigns and its pre-vote wakes the leader without deposing it; a
// leader whose broker goes away is replaced within an election timeout of its link going down, and
// the groups quiesce without it and wake to catch it up when it is back; a group without the option
// (the controller group) never quiesces.
// Method: three multi-raft hosts on the in-memory network (multi-raft-fixture.ts), a ManualClock
// driving real RaftTickers one tick at a time, the network settled after each tick. Broker 1's
// members campaign first, so it leads every group; brokers 2 and 3 wait different timeouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unpackPlain } from '../../src/protocol/cluster/plain-codec.ts';
import { decodeGroupMessages, decodeHeartbeats, decodeQuiesce, RAFT_PEER_TYPES } from '../../src/protocol/cluster/raft-codec.ts';
import { MultiRaft } from '../../src/replication/multi-raft.ts';
import type { RaftDriver } from '../../src/replication/raft-driver.ts';
import { RaftTicker } from '../../src/replication/raft-ticker.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { FakeNetwork, member, type FakeChannel, type Member, type Wire } from './multi-raft-fixture.ts';
import { text } from './raft-group.ts';

const TICK_MS = 10;
const IDS = [1, 2, 3];
const GROUPS = 30;
/** Like the broker's controller group: hosted with the others, without the quiesce option. */
const CONTROLLER = 1000;
const ELECTION_TICKS = 10;
const AFTER_TICKS = 3;

interface Host {
  readonly host: MultiRaft;
  readonly channel: FakeChannel;
  readonly ticker: RaftTicker;
  readonly members: Map<number, Member>;
}

class Cluster {
  readonly net = new FakeNetwork();
  readonly clock = new ManualClock();
  readonly hosts = new Map<number, Host>();

  constructor(options: { controller?: boolean } = {}) {
    for (const id of IDS) {
      const channel = this.net.channel(id);
      const ticker = new RaftTicker(this.clock, TICK_MS);
      const host = new MultiRaft({ brokerId: id, channel, ticker, schedule: this.net.schedule });
      const members = new Map<number, Member>();
      const nextInt = (bound: number): number => (id === 1 ? 0 : id === 2 ? bound >> 1 : bound - 1);
      for (let g = 0; g < GROUPS; g++) {
        const m = member(id, IDS, { nextInt, settings: { electionTicks: ELECTION_TICKS, heartbeatTicks: 1 }, quiesce: { afterTicks: AFTER_TICKS } });
        host.addGroup(g, m.options);
        members.set(g, m);
      }
      if (options.controller === true) {
        const m = member(id, IDS, { nextInt, settings: { electionTicks: ELECTION_TICKS, heartbeatTicks: 1 } });
        host.addGroup(CONTROLLER, m.options);
        members.set(CONTROLLER, m);
      }
      ticker.start();
      this.hosts.set(id, { host, channel, ticker, members });
    }
  }

  host(id: number): Host {
    return this.hosts.get(id)!;
  }

  driver(id: number, groupId: number): RaftDriver {
    return this.host(id).host.group(groupId)!;
  }

  tick(n = 1, drop?: (w: Wire) => boolean): void {
    for (let i = 0; i < n; i++) {
      this.clock.advance(TICK_MS);
      this.net.settle(drop);
    }
  }

  /** Broker 1 leads every group and each group committed one proposal. */
  electAndWrite(): void {
    this.tick(ELECTION_TICKS);
    for (let g = 0; g < GROUPS; g++) {
      assert.equal(this.driver(1, g).raft.isLeader, true, `broker 1 leads group ${g}`);
      assert.equal(this.driver(1, g).propose([text(`g${g}`)], () => {}).accepted, true);
    }
    this.net.settle();
  }

  quiesced(id: number): number[] {
    const out: number[] = [];
    for (let g = 0; g < GROUPS; g++) if (this.driver(id, g).quiesced) out.push(g);
    return out;
  }

  allQuiesced(ids = IDS): boolean {
    return ids.every((id) => this.quiesced(id).length === GROUPS);
  }

  stop(): void {
    for (const h of this.hosts.values()) {
      h.ticker.stop();
      h.host.stop();
    }
  }
}

const ALL = Array.from({ length: GROUPS }, (_, g) => g);

/** The groups a wire carries messages or notices of. */
function groupsOf(w: Wire): number[] {
  const body = (unpackPlain(w.bytes) as unknown[])[1];
  if (w.type === RAFT_PEER_TYPES.heartbeats) return decodeHeartbeats(body, w.from, w.to).map((g) => g.groupId);
  if (w.type === RAFT_PEER_TYPES.quiesce) return decodeQuiesce(body).map((n) => n.groupId);
  return decodeGroupMessages(body).map((g) => g.groupId);
}

test('idle groups quiesce on every broker after one notice per follower, then send nothing; the controller group keeps ticking', () => {
  const c = new Cluster({ controller: true });
  c.electAndWrite();
  const mark = c.net.sent.length;
  c.tick(AFTER_TICKS + 2);
  for (const id of IDS) assert.deepEqual(c.quiesced(id), ALL, `every group quiesced on broker ${id}`);
  for (const id of IDS) assert.equal(c.driver(id, CONTROLLER).quiesced, false, 'the controller group never quiesces');
  for (const id of IDS) assert.equal(c.host(id).ticker.size, 1, 'quiesced groups left the ticker: only the controller group is ticked');
  const notices = c.net.sent.slice(mark).filter((w) => w.type === RAFT_PEER_TYPES.quiesce);
  assert.deepEqual(notices.map((w) => `${w.from}->${w.to} ${w.lane}`), ['1->2 control', '1->3 control'], 'one coalesced notice message per follower');
  for (const w of notices) assert.deepEqual(groupsOf(w), ALL);
  const stats = c.host(2).host.stats();
  assert.equal(stats.groupsQuiesced, GROUPS);
  assert.equal(stats.quiesceNoticesReceived, GROUPS);
  assert.equal(stats.quiesceNoticesIgnored, 0);
  assert.equal(c.host(1).host.stats().quiesceNoticesSent, 2 * GROUPS);

  const quiet = c.net.sent.length;
  c.tick(20 * ELECTION_TICKS);
  const later = c.net.sent.slice(quiet);
  assert.ok(later.length > 0, 'the controller group still heartbeats');
  for (const w of later) assert.deepEqual([...new Set(groupsOf(w))], [CONTROLLER], 'only the controller group sends anything');
  for (const id of IDS) assert.deepEqual(c.quiesced(id), ALL);
  for (let g = 0; g < GROUPS; g++) assert.equal(c.driver(1, g).raft.isLeader, true);
  c.stop();
});

test('a proposal wakes a quiesced group: it commits everywhere, and the group quiesces again', () => {
  const c = new Cluster();
  c.electAndWrite();
  c.tick(AFTER_TICKS + 2);
  assert.ok(c.allQuiesced());
  const term = c.driver(1, 7).raft.term;
  let outcome = '';
  assert.equal(c.driver(1, 7).propose([text('wake')], (o) => (outcome = o.kind)).accepted, true);
  assert.equal(c.driver(1, 7).quiesced, false, 'the proposal woke the leader');
  assert.equal(c.host(1).ticker.size, 1, 'the woken group is ticked again');
  c.net.settle();
  assert.equal(outcome, 'applied');
  for (const id of IDS) {
    assert.equal(c.host(id).members.get(7)!.machine.applied.at(-1), 'wake', `applied on broker ${id}`);
    assert.equal(c.driver(id, 7).quiesced, false, `group 7 awake on broker ${id}`);
    assert.deepEqual(c.quiesced(id), ALL.filter((g) => g !== 7), 'the other groups stayed quiesced');
  }
  c.tick(AFTER_TICKS + 2);
  assert.ok(c.allQuiesced(), 'quiesced again');
  assert.equal(c.driver(1, 7).raft.term, term);
  const mark = c.net.sent.length;
  c.tick(5 * ELECTION_TICKS);
  assert.equal(c.net.sent.length, mark, 'no Raft message while every group is quiesced');
  c.stop();
});

test('a follower that missed the notice campaigns, its pre-vote wakes the leader, which keeps its term and quiesces the group again', () => {
  const c = new Cluster();
  c.electAndWrite();
  // Broker 3 never gets the notices.
  c.tick(AFTER_TICKS + 2, (w) => w.type === RAFT_PEER_TYPES.quiesce && w.to === 3);
  assert.deepEqual(c.quiesced(1), ALL);
  assert.deepEqual(c.quiesced(2), ALL);
  assert.deepEqual(c.quiesced(3), [], 'broker 3 keeps ticking');
  const terms = ALL.map((g) => c.driver(1, g).raft.term);
  const mark = c.net.sent.length;
  let ticks = 0;
  for (; ticks < 6 * ELECTION_TICKS && (ticks < 2 * ELECTION_TICKS || !c.allQuiesced()); ticks++) c.tick();
  assert.ok(c.allQuiesced(), `every group quiesced again after ${ticks} ticks`);
  const preVotes = c.net.sent.slice(mark).filter((w) => w.from === 3 && w.type === RAFT_PEER_TYPES.messages);
  assert.ok(preVotes.length > 0, 'broker 3 campaigned');
  for (let g = 0; g < GROUPS; g++) {
    assert.equal(c.driver(1, g).raft.isLeader, true, `broker 1 still leads group ${g}`);
    assert.equal(c.driver(1, g).raft.term, terms[g], 'pre-vote kept the term');
    for (const id of [2, 3]) assert.equal(c.driver(id, g).raft.leader, 1);
  }
  c.stop();
});

test('followers of a quiesced leader whose broker goes away wake on the link going down, elect a new leader within an election timeout, quiesce without it and wake when it is back', () => {
  const c = new Cluster();
  c.electAndWrite();
  c.tick(AFTER_TICKS + 2);
  assert.ok(c.allQuiesced());
  const away = (w: Wire): boolean => w.from === 1 || w.to === 1;
  c.host(1).ticker.stop();
  // A peer other than the leader going down does not wake a follower.
  c.host(2).channel.peerState(3, 'down');
  assert.deepEqual(c.quiesced(2), ALL);
  c.host(2).channel.peerState(3, 'up');
  assert.deepEqual(c.quiesced(2), ALL, 'nor does it coming back: broker 2 leads no group');
  for (const id of [2, 3]) c.host(id).channel.peerState(1, 'down');
  for (const id of [2, 3]) assert.deepEqual(c.quiesced(id), [], `broker ${id}'s groups woke`);
  let ticks = 0;
  const led = (g: number): boolean => [2, 3].some((id) => c.driver(id, g).raft.isLeader);
  for (; ticks < 4 * ELECTION_TICKS && !ALL.every(led); ticks++) c.tick(1, away);
  assert.ok(ALL.every(led), 'every group has a new leader');
  // The randomized election timeout is at most 2 * ELECTION_TICKS, plus a round trip of pre-vote and vote.
  assert.ok(ticks <= 2 * ELECTION_TICKS, `new leaders after ${ticks} ticks`);
  for (let g = 0; g < GROUPS; g++) {
    const leader = c.driver(2, g).raft.isLeader ? 2 : 3;
    const other = leader === 2 ? 3 : 2;
    assert.equal(c.driver(other, g).raft.leader, leader, `one leader for group ${g}`);
    assert.equal(c.driver(leader, g).propose([text('after')], () => {}).accepted, true);
  }
  c.tick(AFTER_TICKS + 5, away);
  for (let g = 0; g < GROUPS; g++) for (const id of [2, 3]) assert.equal(c.host(id).members.get(g)!.machine.applied.at(-1), 'after');
  // The new leaders do not wait for the member whose broker is down: a quorum holds their logs.
  assert.ok(c.allQuiesced([2, 3]), 'quiesced again without broker 1');
  for (let g = 0; g < GROUPS; g++) {
    const leader = c.driver(2, g).raft.isLeader ? 2 : 3;
    assert.deepEqual([...c.driver(leader, g).quiescedLeaderVoters!].sort(), [2, 3], 'broker 1 is not counted as holding the log');
  }
  const quiet = c.net.sent.length;
  c.tick(5 * ELECTION_TICKS, away);
  assert.equal(c.net.sent.length, quiet, 'nothing sent while broker 1 is away');

  // Broker 1 comes back: the leaders wake, catch it up, and the groups quiesce with it.
  for (const id of [2, 3]) c.host(id).channel.peerState(1, 'up');
  assert.ok(ALL.every((g) => [2, 3].every((id) => !c.driver(id, g).raft.isLeader || !c.driver(id, g).quiesced)), 'the leaders woke');
  c.host(1).ticker.start();
  c.tick(6 * ELECTION_TICKS);
  assert.ok(c.allQuiesced(), 'every group quiesced with broker 1 back');
  for (let g = 0; g < GROUPS; g++) assert.equal(c.host(1).members.get(g)!.machine.applied.at(-1), 'after', `broker 1 caught up in group ${g}`);
  c.stop();
});

test('after a follower broker comes back (its leader probing it, with nothing new to send), the group quiesces again', () => {
  const c = new Cluster();
  c.electAndWrite();
  c.tick(AFTER_TICKS + 2);
  assert.ok(c.allQuiesced());
  // Broker 3 restarts as far as broker 1 can tell: its link went down and came back.
  c.host(1).channel.peerState(3, 'down');
  assert.deepEqual(c.quiesced(1), [], 'the leaders woke');
  for (let g = 0; g < GROUPS; g++) assert.equal(c.driver(1, g).raft.status().progress?.get(3)?.state, 'probe');
  c.host(1).channel.peerState(3, 'up');
  c.tick(3 * ELECTION_TICKS);
  assert.ok(c.allQuiesced(), 'every group quiesced again');
  for (let g = 0; g < GROUPS; g++) assert.equal(c.driver(1, g).raft.isLeader, true);
  c.stop();
});

test('a notice from another term, from a node that is not the leader, or ahead of the follower is ignored', () => {
  const c = new Cluster();
  c.electAndWrite();
  const d = c.driver(2, 0);
  const { term, commitIndex } = d.raft;
  c.host(2).channel.inject(1, RAFT_PEER_TYPES.quiesce, [0, term + 1, commitIndex, 0, term, commitIndex + 1]);
  c.host(2).channel.inject(3, RAFT_PEER_TYPES.quiesce, [0, term, commitIndex]);
  assert.equal(d.quiesced, false);
  const stats = c.host(2).host.stats();
  assert.equal(stats.quiesceNoticesReceived, 3);
  assert.equal(stats.quiesceNoticesIgnored, 3);
  c.host(2).channel.inject(1, RAFT_PEER_TYPES.quiesce, [0, term, commitIndex]);
  assert.equal(d.quiesced, true, 'a caught-up follower of the sender quiesces');
  c.host(2).channel.inject(1, RAFT_PEER_TYPES.quiesce, [0, 1]);
  assert.equal(c.host(2).host.stats().decodeErrors, 1);
  c.host(2).channel.inject(1, RAFT_PEER_TYPES.quiesce, [999, term, commitIndex]);
  assert.equal(c.host(2).host.stats().droppedUnknownGroup, 1);
  c.stop();
});

test('a notice that arrives after its sender was reported down is ignored: the follower keeps ticking and elects a new leader', () => {
  // Two connections per peer close in no set order: the data lane's loss may be reported before a
  // notice still unread on the control lane is handed over. A follower that took it would sleep with
  // a dead leader until the broker came back.
  const c = new Cluster();
  c.electAndWrite();
  const d = c.driver(2, 0);
  const { term, commitIndex } = d.raft;
  c.host(1).ticker.stop();
  c.host(2).channel.peerState(1, 'down');
  c.host(2).channel.inject(1, RAFT_PEER_TYPES.quiesce, [0, term, commitIndex]);
  assert.equal(d.quiesced, false, 'not quiesced by a notice from a peer that is down');
  assert.equal(c.host(2).host.stats().quiesceNoticesIgnored, 1);
  const away = (w: Wire): boolean => w.from === 1 || w.to === 1;
  c.host(3).channel.peerState(1, 'down');
  let ticks = 0;
  for (; ticks < 4 * ELECTION_TICKS && ![2, 3].some((id) => c.driver(id, 0).raft.isLeader); ticks++) c.tick(1, away);
  assert.ok([2, 3].some((id) => c.driver(id, 0).raft.isLeader), `group 0 has a new leader after ${ticks} ticks`);
  // Back up: notices from the peer count again.
  c.host(2).channel.peerState(1, 'up');
  c.stop();
});
