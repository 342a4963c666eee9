// Goal: the multi-raft host routes each group's messages to the right broker and group, coalesces
// the heartbeats of all groups to one peer into one transport message per flush, keeps bulk on the
// data lane and the rest on the control lane, tells groups what the network could not deliver
// (dropped sends, peers down, oversized messages and snapshots), and survives any incoming body:
// unknown groups, misrouted messages and undecodable bodies are counted and dropped, never thrown.
// Method: three hosts on an in-memory network (multi-raft-fixture.ts) that packs bodies to
// MessagePack and back, a ManualClock driving real RaftTickers, and a schedule hook the test runs,
// so every scheduling turn is explicit and every run is deterministic. Broker 1's members campaign
// first, so it leads every group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, message, type Message } from '../../src/raft/index.ts';
import { unpackPlain } from '../../src/protocol/cluster/plain-codec.ts';
import { decodeGroupMessages, encodeGroupMessages, RAFT_PEER_TYPES } from '../../src/protocol/cluster/raft-codec.ts';
import { PARK_MS, PARKED_MAX_BYTES, PARKED_PER_GROUP, MultiRaft, type MultiRaftLog } from '../../src/replication/multi-raft.ts';
import type { RaftDriver } from '../../src/replication/raft-driver.ts';
import { RaftTicker } from '../../src/replication/raft-ticker.ts';
import type { RaftTransport } from '../../src/replication/raft-transport.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { FakeNetwork, member, type FakeChannel, type Member, type MemberOptions, type Wire } from './multi-raft-fixture.ts';
import { text } from './raft-group.ts';

const TICK_MS = 10;
const IDS = [1, 2, 3];

interface Host {
  readonly host: MultiRaft;
  readonly channel: FakeChannel;
  readonly ticker: RaftTicker;
  readonly members: Map<number, Member>;
  readonly warnings: string[];
}

class Cluster {
  readonly net = new FakeNetwork();
  readonly clock = new ManualClock();
  readonly hosts = new Map<number, Host>();

  constructor(groups: number, options: { maxMessageBytes?: number; member?: MemberOptions } = {}) {
    for (const id of IDS) {
      const channel = this.net.channel(id, options.maxMessageBytes);
      const ticker = new RaftTicker(this.clock, TICK_MS);
      const warnings: string[] = [];
      const log: MultiRaftLog = { warn: (_fields, text) => warnings.push(text) };
      const host = new MultiRaft({ brokerId: id, channel, ticker, schedule: this.net.schedule, log });
      const members = new Map<number, Member>();
      for (let g = 0; g < groups; g++) {
        const m = member(id, IDS, { ...options.member, nextInt: id === 1 ? () => 0 : (bound) => bound - 1 });
        host.addGroup(g, m.options);
        members.set(g, m);
      }
      ticker.start();
      this.hosts.set(id, { host, channel, ticker, members, warnings });
    }
  }

  host(id: number): Host {
    return this.hosts.get(id)!;
  }

  driver(id: number, groupId: number): RaftDriver {
    return this.host(id).host.group(groupId)!;
  }

  /** Ticks every group of every broker `n` times, settling the network after each tick. */
  tick(n = 1, drop?: (w: Wire) => boolean): void {
    for (let i = 0; i < n; i++) {
      this.clock.advance(TICK_MS);
      this.net.settle(drop);
    }
  }

  /** Broker 1 campaigns first in every group and wins. */
  elect(): void {
    this.tick(10);
    for (const g of this.host(1).members.keys()) assert.equal(this.driver(1, g).raft.isLeader, true, `broker 1 leads group ${g}`);
  }

  stop(): void {
    for (const h of this.hosts.values()) {
      h.ticker.stop();
      h.host.stop();
    }
  }
}

/** The Raft messages of a RAFT_MESSAGES wire. */
const carried = (w: Wire): Message[] => decodeGroupMessages((unpackPlain(w.bytes) as unknown[])[1]).map((g) => g.message as Message);
const since = (net: FakeNetwork, mark: number): Wire[] => net.sent.slice(mark);
const progressState = (d: RaftDriver, peer: number): string | undefined => d.raft.status().progress?.get(peer)?.state;

/** Records the reports a driver gets, still passing them on. */
function spy(driver: RaftDriver): string[] {
  const calls: string[] = [];
  const unreachable = driver.reportUnreachable.bind(driver);
  const snapshot = driver.reportSnapshot.bind(driver);
  driver.reportUnreachable = (peer) => {
    calls.push(`unreachable ${peer}`);
    unreachable(peer);
  };
  driver.reportSnapshot = (peer, ok) => {
    calls.push(`snapshot ${peer} ${ok}`);
    snapshot(peer, ok);
  };
  return calls;
}

test('heartbeats of all groups to one peer leave as one control-lane message per flush, both ways', () => {
  const c = new Cluster(40);
  c.elect();
  const mark = c.net.sent.length;
  c.clock.advance(TICK_MS);
  c.net.flush();
  const beats = since(c.net, mark);
  assert.deepEqual(beats.map((w) => `${w.from}->${w.to} ${w.lane} ${w.type}`), ['1->2 control 16', '1->3 control 16']);
  for (const w of beats) assert.equal(((unpackPlain(w.bytes) as unknown[])[1] as unknown[]).length, 40 * 4, 'one heartbeat per group');
  c.net.deliver();
  const replies = since(c.net, mark + 2);
  assert.deepEqual(replies.map((w) => `${w.from}->${w.to} ${w.lane} ${w.type}`), ['2->1 control 16', '3->1 control 16']);
  const stats = c.host(1).host.stats();
  assert.equal(stats.sent.heartbeat.messages, stats.peers[2]!.heartbeatsCoalesced + stats.peers[3]!.heartbeatsCoalesced);
  assert.equal(stats.peers[2]!.heartbeatRequestBatches, stats.peers[2]!.heartbeatBatches);
  assert.equal(c.host(2).host.stats().peers[1]!.heartbeatRequestBatches, 0, 'followers only answer');
  assert.equal(c.host(2).host.stats().received.heartbeat.messages, stats.peers[2]!.heartbeatsCoalesced);
  c.stop();
});

test('appends and snapshots go on the data lane, everything else on the control lane; proposals commit everywhere', () => {
  const c = new Cluster(5);
  c.elect();
  const mark = c.net.sent.length;
  // One proposal per group in one turn: one data message per peer carries all five groups' appends.
  for (let g = 0; g < 5; g++) assert.equal(c.driver(1, g).propose([text(`p${g}`)], () => {}).accepted, true);
  c.net.flush();
  const appends = since(c.net, mark);
  assert.deepEqual(appends.map((w) => `${w.from}->${w.to} ${w.lane} ${w.type}`), ['1->2 data 17', '1->3 data 17']);
  assert.deepEqual(carried(appends[0]!).map((m) => m.type), ['app', 'app', 'app', 'app', 'app']);
  c.net.settle();
  c.tick();
  for (const id of IDS) for (let g = 0; g < 5; g++) assert.deepEqual(c.host(id).members.get(g)!.machine.applied, ['', `p${g}`], `broker ${id} group ${g}`);
  // Over the whole run, lanes match message kinds.
  for (const w of c.net.sent) {
    if (w.type !== RAFT_PEER_TYPES.messages) continue;
    for (const m of carried(w)) assert.equal(w.lane, m.type === 'app' || m.type === 'snapshot' ? 'data' : 'control', `${m.type} on ${w.lane}`);
  }
  const kinds = new Set(c.net.sent.filter((w) => w.type === RAFT_PEER_TYPES.messages).flatMap((w) => carried(w).map((m) => m.type)));
  for (const kind of ['preVote', 'preVoteResp', 'vote', 'voteResp', 'app', 'appResp']) assert.ok(kinds.has(kind as Message['type']), `${kind} was exchanged`);
  for (const h of c.hosts.values()) for (const m of h.members.values()) assert.deepEqual(m.failures, []);
  c.stop();
});

test('a dropped send reports the groups whose messages it carried unreachable; a peer going down reports every group', () => {
  const c = new Cluster(3);
  c.elect();
  c.tick();
  const calls = [0, 1, 2].map((g) => spy(c.driver(1, g)));
  assert.equal(progressState(c.driver(1, 0), 2), 'replicate');
  c.host(1).channel.refuse = (to, lane) => to === 2 && lane === 'data';
  c.driver(1, 0).propose([text('x')], () => {});
  c.net.flush();
  assert.deepEqual(calls, [['unreachable 2'], [], []]);
  assert.equal(progressState(c.driver(1, 0), 2), 'probe');
  const stats = c.host(1).host.stats();
  assert.equal(stats.messagesDropped, 1);
  assert.equal(stats.peers[2]!.batchesDropped, 1);
  c.host(1).channel.refuse = () => false;
  c.net.settle();
  c.tick(2);
  assert.equal(progressState(c.driver(1, 0), 2), 'replicate', 'the group recovers once sends go through');

  calls.forEach((list) => (list.length = 0));
  c.host(1).channel.peerState(3, 'down');
  c.host(1).channel.peerState(3, 'up');
  assert.deepEqual(calls, [['unreachable 3'], ['unreachable 3'], ['unreachable 3']]);
  for (const g of [0, 1, 2]) assert.equal(progressState(c.driver(1, g), 3), 'probe');
  c.stop();
});

test('messages for unknown groups, between the wrong brokers, or that do not decode are counted and dropped, with bounded logging', () => {
  const c = new Cluster(2);
  c.elect();
  const two = c.host(2);
  const heartbeat = (from: number, to: number): Message => message({ type: 'heartbeat', from, to, term: 1 });
  const heartbeatsBefore = two.host.stats().received.heartbeat.messages;
  for (let i = 0; i < 5; i++) two.channel.inject(1, RAFT_PEER_TYPES.messages, encodeGroupMessages([{ groupId: 99, messages: [heartbeat(1, 2)] }]));
  two.channel.inject(1, RAFT_PEER_TYPES.heartbeats, [77, 0, 1, 0]);
  two.channel.inject(1, RAFT_PEER_TYPES.messages, encodeGroupMessages([{ groupId: 0, messages: [heartbeat(3, 2)] }]));
  two.channel.inject(1, RAFT_PEER_TYPES.messages, encodeGroupMessages([{ groupId: 0, messages: [heartbeat(1, 3)] }]));
  const garbage: [number, unknown][] = [
    [16, 'x'],
    [16, [1, 0, 1]],
    [16, [1, 0, -1, 0]],
    [17, null],
    [17, [[0, [[99]]]]],
    [17, { a: 1 }],
    [17, [[0, [[2, 1, 2, 1], [1, 1, 2]]]]],
    [30, []],
  ];
  for (const [type, body] of garbage) two.channel.inject(1, type, body);
  two.channel.inject(1, 5, 'another layer');
  const count = (text: string) => two.warnings.filter((w) => w.includes(text)).length;
  // Messages for groups not hosted are held for a while (the group may be added), then dropped.
  assert.deepEqual([two.host.stats().parkedUnknownGroup, two.host.stats().droppedUnknownGroup, count('does not host')], [6, 0, 0]);
  // Nothing was delivered, not even the valid heartbeat in front of an invalid message in one body.
  assert.equal(two.host.stats().received.heartbeat.messages, heartbeatsBefore);
  c.tick(Math.ceil(PARK_MS / TICK_MS) + 1);
  const stats = two.host.stats();
  assert.equal(stats.droppedUnknownGroup, 6);
  assert.equal(stats.droppedMisrouted, 2);
  assert.equal(stats.decodeErrors, garbage.length);
  // Logged at the 1st, 2nd and 4th occurrence of each kind.
  assert.equal(count('does not host'), 3);
  assert.equal(count('other brokers'), 2);
  assert.equal(count('does not decode'), 4);
  c.tick(3);
  for (const h of c.hosts.values()) for (const m of h.members.values()) assert.deepEqual(m.failures, []);
  c.stop();
});

test('messages for a group this broker adds a moment later are handed to it once added, within bounds', () => {
  const c = new Cluster(1);
  c.elect();
  // Group 1 exists on brokers 1 and 3 first; broker 1 campaigns and leads with broker 3.
  const late = member(2, IDS, { nextInt: (bound) => bound - 1 });
  for (const id of [1, 3]) c.host(id).host.addGroup(1, member(id, IDS, { nextInt: id === 1 ? () => 0 : (bound) => bound - 1 }).options);
  c.driver(1, 1).campaign();
  c.tick(3);
  assert.equal(c.driver(1, 1).raft.isLeader, true);
  assert.ok(c.host(2).host.stats().parkedUnknownGroup > 0, 'broker 2 held what came for group 1');
  // Broker 2 opens group 1: what was held is handed over at once, before any tick or heartbeat.
  c.host(2).host.addGroup(1, late.options);
  c.net.settle();
  assert.equal(c.driver(2, 1).raft.leader, 1, 'broker 2 knows the leader without waiting for a heartbeat');
  assert.equal(c.host(2).host.stats().droppedUnknownGroup, 0);
  c.stop();
});

test('held messages are bounded per group and in bytes: the oldest of a group and whatever exceeds the byte limit are dropped', () => {
  const c = new Cluster(1);
  c.elect();
  const two = c.host(2);
  const append = (i: number, bytes: number): Message =>
    message({ type: 'app', from: 1, to: 2, term: 1, index: i, logTerm: 1, commit: 0, entries: [{ term: 1, index: i + 1, type: EntryType.Normal, data: new Uint8Array(bytes) }] });
  for (let i = 0; i < PARKED_PER_GROUP + 4; i++) two.channel.inject(1, RAFT_PEER_TYPES.messages, encodeGroupMessages([{ groupId: 50, messages: [append(i, 10)] }]));
  assert.deepEqual([two.host.stats().parkedUnknownGroup, two.host.stats().droppedUnknownGroup], [PARKED_PER_GROUP + 4, 4], 'the oldest of group 50 made room');
  // Large appends for other groups: past PARKED_MAX_BYTES held, the next ones are dropped at once.
  const big = 4 * 1024 * 1024;
  const fit = Math.floor(PARKED_MAX_BYTES / big);
  for (let g = 0; g < fit + 3; g++) two.channel.inject(1, RAFT_PEER_TYPES.messages, encodeGroupMessages([{ groupId: 100 + g, messages: [append(0, big)] }]));
  const accepted = Math.floor((PARKED_MAX_BYTES - PARKED_PER_GROUP * 10) / big);
  assert.equal(two.host.stats().droppedUnknownGroup, 4 + (fit + 3 - accepted));
  c.stop();
});

test('an append larger than the channel allows is dropped, counted and reported; so is a snapshot, through reportSnapshot', () => {
  const maxMessageBytes = 40 * 1024;
  const c = new Cluster(1, { maxMessageBytes, member: { settings: { maxMessageBytes: 8 * 1024 }, snapshots: { everyEntries: 3, keepEntries: 0 } } });
  c.elect();
  c.tick();
  const calls = spy(c.driver(1, 0));
  c.driver(1, 0).propose([new Uint8Array(maxMessageBytes)], () => {});
  c.net.flush();
  assert.equal(c.host(1).host.stats().messagesTooLarge, 2);
  assert.deepEqual(calls.sort(), ['unreachable 2', 'unreachable 3']);
  assert.equal(c.host(1).warnings.filter((w) => w.includes('too large')).length, 2);
  c.stop();

  // Broker 3 is cut off while the others commit and compact; it then needs a snapshot.
  const snapshotRun = (entryBytes: number): { calls: string[]; failed: number } => {
    const s = new Cluster(1, { maxMessageBytes, member: { settings: { maxMessageBytes: 8 * 1024 }, snapshots: { everyEntries: 3, keepEntries: 0 } } });
    s.elect();
    const cut = (w: Wire) => w.from === 3 || w.to === 3;
    const leader = s.driver(1, 0);
    for (let i = 0; i < 5; i++) {
      leader.propose([text(String(i).repeat(entryBytes))], () => {});
      s.tick(1, cut);
    }
    assert.ok(leader.raft.firstIndex > 2, 'the leader compacted its log');
    const snapshotCalls = spy(leader);
    s.tick(3);
    const failed = s.host(1).host.stats().snapshotsFailed;
    if (failed === 0) assert.deepEqual(s.host(3).members.get(0)!.machine.applied, s.host(1).members.get(0)!.machine.applied);
    s.stop();
    return { calls: snapshotCalls.filter((call) => call.startsWith('snapshot')), failed };
  };
  const small = snapshotRun(10);
  assert.deepEqual(small, { calls: ['snapshot 3 true'], failed: 0 });
  const large = snapshotRun(12 * 1024);
  assert.ok(large.calls.length >= 1 && large.calls.every((call) => call === 'snapshot 3 false'), large.calls.join(', '));
  // Reported at the group's next tick, so a snapshot that cannot go is retried once per tick, not in a loop.
  assert.ok(large.calls.length <= 3, `${large.calls.length} failure reports in 3 ticks`);
  assert.ok(large.failed >= large.calls.length, 'every failed report was counted (some before the spy)');
});

test('a group message to its own broker never reaches the channel: it is refused as a broken invariant', () => {
  const c = new Cluster(2);
  c.elect();
  c.tick();
  const mark = c.net.sent.length;
  const transport = (c.driver(2, 0) as unknown as { transport: RaftTransport }).transport;
  assert.throws(() => transport.send(2, [message({ type: 'voteResp', from: 2, to: 2, term: 1 })]), /sent a message to its own broker 2/);
  c.net.flush();
  assert.equal(c.net.sent.length, mark);
  c.tick();
  assert.deepEqual(c.host(2).members.get(1)!.failures, [], 'other groups carry on');
  c.stop();
});

test('removeGroup and stop take groups off the ticker and drop what arrives for them', () => {
  const c = new Cluster(3);
  c.elect();
  const one = c.host(1);
  assert.equal(one.ticker.size, 3);
  assert.equal(one.host.removeGroup(1), true);
  assert.equal(one.host.removeGroup(1), false);
  assert.equal(one.ticker.size, 2);
  assert.equal(one.host.group(1), undefined);
  c.tick(25);
  assert.ok(one.host.stats().parkedUnknownGroup > 0, 'the other members of group 1 still ask broker 1 for votes');
  c.tick(Math.ceil(PARK_MS / TICK_MS) + 1);
  assert.ok(one.host.stats().droppedUnknownGroup > 0, 'held, then dropped: the group was not added again');
  const driver = c.driver(2, 0);
  c.host(2).host.stop();
  assert.equal(c.host(2).ticker.size, 0);
  assert.equal(driver.stopped, true);
  const before = c.host(2).host.stats();
  c.tick(2);
  assert.deepEqual(c.host(2).host.stats(), before, 'a stopped host counts nothing');
  c.stop();
});

test('addGroup checks the member id, duplicate groups and the append size against the channel', () => {
  const net = new FakeNetwork();
  const host = new MultiRaft({ brokerId: 1, channel: net.channel(1, 64 * 1024), ticker: new RaftTicker(new ManualClock(), TICK_MS), schedule: net.schedule });
  net.channel(2);
  assert.throws(() => host.addGroup(0, member(2, [1, 2]).options), /must have node id 1/);
  assert.throws(() => host.addGroup(0, member(1, [1, 2]).options), /maxMessageBytes 1048576 must stay 16384 bytes under the channel's 65536/);
  host.addGroup(0, member(1, [1, 2], { settings: { maxMessageBytes: 32 * 1024 } }).options);
  assert.throws(() => host.addGroup(0, member(1, [1, 2], { settings: { maxMessageBytes: 32 * 1024 } }).options), /hosted already/);
  assert.throws(() => host.addGroup(-1, member(1, [1, 2]).options), /group id/);
  host.stop();
  assert.throws(() => host.addGroup(5, member(1, [1, 2]).options), /stopped/);
});
