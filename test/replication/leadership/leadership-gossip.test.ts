// Goal: through the leadership gossip every broker learns which broker leads each group, including
// groups it does not replicate: a new leader is seen everywhere after one changed() and a turn, a
// leader that stops leading is cleared by its next full digest, drops are repaired by tick(), a peer
// whose link comes up is told at once, a digest too large for one message still works when split,
// and hostile bodies are dropped and counted without throwing. changedGroups() sends only the groups
// it names (a partial digest, and a one-group step-down for a group no longer led), so the work per
// leadership change does not grow with the number of groups a broker leads.
// Method: three brokers over the in-memory network of the multi-raft tests (bodies go through
// MessagePack and the size limit), with the test ending scheduling turns and delivering messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeNetwork } from '../multi-raft-fixture.ts';
import { LEADERSHIP_DIGEST_TYPE, type DigestEntry } from '../../../src/protocol/cluster/leadership-codec.ts';
import { unpackPlain } from '../../../src/protocol/cluster/plain-codec.ts';
import { LeadershipGossip } from '../../../src/replication/leadership-gossip.ts';
import { LeadershipTable, NO_LEADER } from '../../../src/replication/leadership-table.ts';

interface Broker {
  readonly gossip: LeadershipGossip;
  readonly table: LeadershipTable;
  /** What the broker leads; the test edits it and calls changed(). */
  readonly led: Map<number, DigestEntry>;
  readonly warnings: string[];
}

function cluster(maxMessageBytes?: number): { network: FakeNetwork; brokers: Map<number, Broker> } {
  const ids = [1, 2, 3];
  const network = new FakeNetwork();
  const brokers = new Map<number, Broker>();
  for (const id of ids) {
    const channel = network.channel(id, maxMessageBytes);
    const table = new LeadershipTable();
    const led = new Map<number, DigestEntry>();
    const warnings: string[] = [];
    const gossip = new LeadershipGossip({
      brokerId: id,
      channel,
      table,
      led: () => led.values(),
      ledEntry: (groupId) => led.get(groupId) ?? null,
      peers: () => ids.filter((p) => p !== id),
      schedule: network.schedule,
      log: { warn: (fields, message) => warnings.push(`${message} #${String(fields.count)}`) },
    });
    brokers.set(id, { gossip, table, led, warnings });
  }
  return { network, brokers };
}

const bodyOf = (bytes: Buffer): unknown[] => (unpackPlain(bytes) as [number, unknown[]])[1];

const lead = (b: Broker, groupId: number, term: number, isr: number[]): void => {
  b.led.set(groupId, { groupId, term, isr });
};

function everyTable(brokers: Map<number, Broker>, groupId: number): unknown[] {
  return [...brokers.values()].map((b) => b.table.get(groupId));
}

test('a broker gaining leadership is seen by every broker after changed() and one turn', () => {
  const { network, brokers } = cluster();
  const b1 = brokers.get(1)!;
  lead(b1, 5, 2, [1, 2]);
  b1.gossip.changed();
  b1.gossip.changed();
  b1.gossip.changed();
  assert.equal(network.pendingFlushes, 1, 'calls in one turn are coalesced');
  assert.equal(network.sent.length, 0, 'nothing is sent before the turn ends');
  network.flush();
  assert.deepEqual(network.sent.map((w) => [w.from, w.to, w.lane, w.type]), [
    [1, 2, 'control', LEADERSHIP_DIGEST_TYPE],
    [1, 3, 'control', LEADERSHIP_DIGEST_TYPE],
  ]);
  network.settle();
  for (const entry of everyTable(brokers, 5)) assert.deepEqual(entry, { leader: 1, term: 2, isr: [1, 2] });
  assert.deepEqual(b1.gossip.stats, { messagesSent: 2, messagesDropped: 0, messagesTooLarge: 0, messagesReceived: 0, decodeErrors: 0 });
  assert.equal(brokers.get(2)!.gossip.stats.messagesReceived, 1);
});

test('a broker that stops leading is cleared by its next full digest, and a new leader replaces it', () => {
  const { network, brokers } = cluster();
  const [b1, b2] = [brokers.get(1)!, brokers.get(2)!];
  lead(b1, 5, 2, [1, 2]);
  lead(b1, 6, 2, [1, 3]);
  b1.gossip.changed();
  network.settle();
  b1.led.delete(5);
  b1.gossip.changed();
  network.settle();
  for (const entry of everyTable(brokers, 5)) assert.deepEqual(entry, { leader: NO_LEADER, term: 2, isr: [] });
  for (const entry of everyTable(brokers, 6)) assert.deepEqual(entry, { leader: 1, term: 2, isr: [1, 3] }, 'a group still led stays');
  lead(b2, 5, 3, [2]);
  b2.gossip.changed();
  network.settle();
  for (const entry of everyTable(brokers, 5)) assert.deepEqual(entry, { leader: 2, term: 3, isr: [2] });
});

test("a new leader's digest arriving before the old leader's step-down is not undone by it", () => {
  const { network, brokers } = cluster();
  const [b1, b2, b3] = [brokers.get(1)!, brokers.get(2)!, brokers.get(3)!];
  lead(b1, 5, 2, [1, 2, 3]);
  b1.gossip.changed();
  network.settle();
  b1.led.delete(5);
  b1.gossip.changed();
  network.flush(); // broker 1's digest without group 5 is queued, not delivered
  lead(b2, 5, 3, [2, 3]);
  b2.gossip.changed();
  network.flush();
  network.queue.sort((a, b) => b.from - a.from); // broker 2's digests overtake broker 1's
  network.settle();
  assert.deepEqual(b3.table.get(5), { leader: 2, term: 3, isr: [2, 3] });
  assert.deepEqual(b1.table.get(5), { leader: 2, term: 3, isr: [2, 3] });
});

test('ISR changes reach every broker', () => {
  const { network, brokers } = cluster();
  const b1 = brokers.get(1)!;
  lead(b1, 5, 2, [1, 2, 3]);
  b1.gossip.changed();
  network.settle();
  lead(b1, 5, 2, [1, 3]);
  b1.gossip.changed();
  network.settle();
  for (const entry of everyTable(brokers, 5)) assert.deepEqual(entry, { leader: 1, term: 2, isr: [1, 3] });
});

test('dropped messages are repaired by tick()', () => {
  const { network, brokers } = cluster();
  const b1 = brokers.get(1)!;
  lead(b1, 5, 2, [1]);
  b1.gossip.changed();
  network.flush();
  network.deliver(() => true); // the network loses both
  assert.equal(brokers.get(2)!.table.get(5), undefined);
  network.channels.get(1)!.refuse = (to) => to === 3; // and the channel to broker 3 drops the next
  b1.gossip.tick();
  network.settle();
  assert.deepEqual(brokers.get(2)!.table.get(5), { leader: 1, term: 2, isr: [1] });
  assert.equal(brokers.get(3)!.table.get(5), undefined);
  assert.equal(b1.gossip.stats.messagesDropped, 1);
  network.channels.get(1)!.refuse = () => false;
  b1.gossip.tick();
  network.settle();
  assert.deepEqual(brokers.get(3)!.table.get(5), { leader: 1, term: 2, isr: [1] });
});

test('a peer whose link comes up gets the full digest at once; a link going down sends nothing', () => {
  const { network, brokers } = cluster();
  const b1 = brokers.get(1)!;
  lead(b1, 5, 2, [1]);
  network.channels.get(1)!.peerState(3, 'down');
  assert.equal(network.sent.length, 0);
  network.channels.get(1)!.peerState(3, 'up');
  assert.deepEqual(network.sent.map((w) => [w.from, w.to]), [[1, 3]], 'sent without waiting for a turn');
  network.settle();
  assert.deepEqual(brokers.get(3)!.table.get(5), { leader: 1, term: 2, isr: [1] });
  assert.equal(brokers.get(2)!.table.get(5), undefined);
});

test('the leader recorded is always the sender: a broker cannot speak for another', () => {
  const { brokers, network } = cluster();
  network.channels.get(3)!.inject(2, LEADERSHIP_DIGEST_TYPE, [false, [[9, 4, [1, 3]]]]);
  assert.deepEqual(brokers.get(3)!.table.get(9), { leader: 2, term: 4, isr: [1, 3] });
});

test('a partial digest records what it lists and steps nothing down', () => {
  const { brokers, network } = cluster();
  const b3 = brokers.get(3)!;
  network.channels.get(3)!.inject(2, LEADERSHIP_DIGEST_TYPE, [true, [[1, 4, [2]], [2, 4, [2]]]]);
  network.channels.get(3)!.inject(2, LEADERSHIP_DIGEST_TYPE, [false, [[3, 4, [2]]]]);
  assert.deepEqual([1, 2, 3].map((g) => b3.table.get(g)?.leader), [2, 2, 2]);
  network.channels.get(3)!.inject(2, LEADERSHIP_DIGEST_TYPE, [true, [[2, 4, [2]]], 2, 2]);
  assert.deepEqual([1, 2, 3].map((g) => b3.table.get(g)?.leader), [2, 2, 2], 'a ranged digest steps down only within its range');
  network.channels.get(3)!.inject(2, LEADERSHIP_DIGEST_TYPE, [true, [[2, 4, [2]]], 0, 2]);
  assert.deepEqual([1, 2, 3].map((g) => b3.table.get(g)?.leader), [NO_LEADER, 2, 2]);
});

test('a digest too large for one message is split, and its chunks both announce and clear', () => {
  const { network, brokers } = cluster(2048);
  const b1 = brokers.get(1)!;
  for (let g = 0; g < 400; g++) lead(b1, g, 7, [1, 2, 3]);
  b1.gossip.changed();
  network.flush();
  assert.ok(network.sent.length / 2 > 4, `split into ${network.sent.length / 2} messages per peer`);
  assert.ok(network.sent.every((w) => w.bytes.length <= 2048));
  network.settle();
  for (let g = 0; g < 400; g++) assert.equal(brokers.get(2)!.table.get(g)?.leader, 1);
  for (let g = 0; g < 400; g += 2) b1.led.delete(g);
  b1.gossip.changed();
  network.settle();
  for (let g = 0; g < 400; g++) assert.equal(brokers.get(3)!.table.get(g)?.leader, g % 2 === 0 ? NO_LEADER : 1, `group ${g}`);
});

test('changedGroups() sends only the named groups: gains in one partial digest, losses as one-group step-downs', () => {
  const { network, brokers } = cluster();
  const [b1, b2, b3] = [brokers.get(1)!, brokers.get(2)!, brokers.get(3)!];
  for (let g = 0; g < 50; g++) lead(b1, g, 2, [1, 2, 3]);
  b1.gossip.changed();
  network.settle();
  network.sent.length = 0;
  lead(b1, 60, 3, [1, 2]);
  lead(b1, 61, 3, [1]);
  b1.gossip.changedGroups([60]);
  b1.gossip.changedGroups([61, 60]);
  assert.equal(network.pendingFlushes, 1, 'calls in one turn are coalesced');
  network.flush();
  assert.equal(network.sent.length, 2, 'one message per peer');
  const body = bodyOf(network.sent[0]!.bytes);
  assert.equal(body[0], false, 'a partial digest');
  assert.equal((body[1] as unknown[]).length, 2, 'with the two changed groups only, not the 52 led');
  network.settle();
  for (const b of [b1, b2, b3]) {
    assert.deepEqual(b.table.get(61), { leader: 1, term: 3, isr: [1] });
    assert.equal(b.table.get(7)?.leader, 1, 'the groups not named are untouched');
  }
  // Group 7 is lost, group 99 was never led here: only 7 is stepped down, and nothing else.
  b1.led.delete(7);
  network.sent.length = 0;
  b1.gossip.changedGroups([7, 99]);
  network.settle();
  assert.equal(network.sent.length, 2);
  for (const b of [b1, b2, b3]) {
    assert.deepEqual(b.table.get(7), { leader: NO_LEADER, term: 2, isr: [] });
    for (const g of [6, 8, 60]) assert.equal(b.table.get(g)?.leader, 1, `group ${g} stays led`);
    assert.equal(b.table.get(99), undefined);
  }
  // A group lost and announced step-down once is not stepped down again.
  network.sent.length = 0;
  b1.gossip.changedGroups([7]);
  network.settle();
  assert.equal(network.sent.length, 0);
});

test('changedGroups() after changed() in one turn sends the full digest only', () => {
  const { network, brokers } = cluster();
  const b1 = brokers.get(1)!;
  lead(b1, 5, 2, [1]);
  lead(b1, 6, 2, [1]);
  b1.gossip.changed();
  b1.gossip.changedGroups([5]);
  network.flush();
  assert.equal(network.sent.length, 2);
  const body = bodyOf(network.sent[0]!.bytes);
  assert.deepEqual(body, [true, [[5, 2, [1]], [6, 2, [1]]]]);
});

test('a large partial digest is split under the message size', () => {
  const { network, brokers } = cluster(2048);
  const b1 = brokers.get(1)!;
  for (let g = 0; g < 400; g++) lead(b1, g, 7, [1, 2, 3]);
  b1.gossip.changedGroups(b1.led.keys());
  network.flush();
  assert.ok(network.sent.length / 2 > 4, `split into ${network.sent.length / 2} messages per peer`);
  assert.ok(network.sent.every((w) => w.bytes.length <= 2048));
  network.settle();
  for (let g = 0; g < 400; g++) assert.equal(brokers.get(3)!.table.get(g)?.leader, 1);
});

test('malformed bodies are dropped and counted, logged at the 1st, 2nd, 4th... occurrence, never thrown', () => {
  const { brokers, network } = cluster();
  const b2 = brokers.get(2)!;
  const channel = network.channels.get(2)!;
  const bodies: unknown[] = [null, [true], [true, [[1, -1, []]]], [false, [[1, 1, [0]]]], { full: true }, [true, [[1, 1, [1]], [1, 2, [1]]]]];
  for (const body of bodies) assert.doesNotThrow(() => channel.inject(1, LEADERSHIP_DIGEST_TYPE, body));
  channel.inject(1, 17, [1, 2, 3]); // another layer's type: not ours to judge
  assert.equal(b2.gossip.stats.decodeErrors, bodies.length);
  assert.equal(b2.gossip.stats.messagesReceived, 0);
  assert.equal(b2.table.size, 0);
  assert.deepEqual(b2.warnings, [1, 2, 4].map((n) => `leadership digest from peer does not decode, dropped #${n}`));
});

test('after stop() nothing is sent or recorded', () => {
  const { brokers, network } = cluster();
  const [b1, b2] = [brokers.get(1)!, brokers.get(2)!];
  lead(b1, 5, 2, [1]);
  b1.gossip.changed();
  b1.gossip.stop();
  b2.gossip.stop();
  network.flush();
  b1.gossip.tick();
  b1.gossip.changed();
  network.channels.get(1)!.peerState(2, 'up');
  network.channels.get(2)!.inject(1, LEADERSHIP_DIGEST_TYPE, [true, [[5, 2, [1]]]]);
  network.settle();
  assert.equal(network.sent.length, 0);
  assert.equal(b2.table.get(5), undefined);
});

test('programmer errors in what the owner hands in are caught', () => {
  const network = new FakeNetwork();
  const channel = network.channel(1);
  const table = new LeadershipTable();
  assert.throws(() => new LeadershipGossip({ brokerId: 0, channel, table, led: () => [], peers: () => [] }), /broker id/);
  assert.throws(() => new LeadershipGossip({ brokerId: 1, channel: network.channel(2, 64), table, led: () => [], peers: () => [] }), /at least one entry/);
  const self = new LeadershipGossip({ brokerId: 1, channel, table, led: () => [], peers: () => [1] });
  assert.throws(() => self.tick(), /lists itself/);
  const twice = new LeadershipGossip({ brokerId: 1, channel, table, led: () => [{ groupId: 1, term: 1, isr: [1] }, { groupId: 1, term: 1, isr: [1] }], peers: () => [] });
  assert.throws(() => twice.tick(), /twice/);
});
