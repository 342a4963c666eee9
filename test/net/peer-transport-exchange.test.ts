// Goal: three transports on 127.0.0.1 connect once per pair and lane, and messages flow both ways on
// both lanes, in send order per lane; messages sent in one turn of the event loop leave as one frame.
// Method: start brokers 1, 2 and 3, wait until each sees the others up, send numbered messages from every
// broker to every other on both lanes interleaved, and compare what arrived; then count frames through
// the transport's counters for bursts sent in one turn and in several.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lane } from '../../src/net/peer-transport.ts';
import { until } from '../helpers/timeout.ts';
import { addresses, sees, startPeer, type TestPeer } from './peer-cluster.ts';

const LANE_TYPE: Record<Lane, number> = { control: 1, data: 2 };

test('three brokers exchange messages on both lanes, in order per lane, with few frames', { timeout: 60_000 }, async () => {
  const nodes = await addresses([1, 2, 3]);
  const peers: TestPeer[] = [];
  try {
    for (const n of nodes) peers.push(await startPeer(n.id, nodes));
    await until(() => peers.every((p) => sees(p, [1, 2, 3].filter((id) => id !== p.id))), 10_000, 'every broker to see the others up');
    for (const p of peers) {
      for (const info of p.transport.peers()) {
        assert.equal(info.lanes.control.connected && info.lanes.data.connected, true, `broker ${p.id} has both lanes to ${info.id}`);
      }
      assert.deepEqual(p.states.map((s) => s.state), ['up', 'up'], 'each peer reported up once');
    }

    // Every broker sends 300 numbered messages on each lane to every other, lanes interleaved, over several turns.
    const count = 300;
    for (let seq = 0; seq < count; seq++) {
      for (const p of peers) {
        for (const to of [1, 2, 3].filter((id) => id !== p.id)) {
          for (const lane of ['control', 'data'] as const) {
            const body = lane === 'data' ? { seq, entries: [Buffer.alloc(seq % 7 === 0 ? 9000 : 40, seq)] } : { seq };
            assert.equal(p.transport.send(to, lane, { type: LANE_TYPE[lane], body }), true);
          }
        }
      }
      if (seq % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => peers.every((p) => p.received.length === count * 2 * 2), 20_000, 'all messages to arrive');
    for (const p of peers) {
      for (const from of [1, 2, 3].filter((id) => id !== p.id)) {
        for (const lane of ['control', 'data'] as const) {
          const got = p.received.filter((r) => r.from === from && r.message.type === LANE_TYPE[lane]).map((r) => (r.message.body as { seq: number }).seq);
          assert.deepEqual(got, Array.from({ length: count }, (_, i) => i), `${lane} from ${from} to ${p.id} in order`);
        }
      }
      const entries = p.received.filter((r) => r.message.type === 2).map((r) => (r.message.body as { seq: number; entries: Buffer[] }));
      assert.ok(entries.every((b) => b.entries[0]!.length === (b.seq % 7 === 0 ? 9000 : 40) && b.entries[0]![0] === b.seq % 256), 'binary bodies arrive intact');
    }

    // Coalescing: 1000 messages sent in one turn leave as one frame; the same sent over 4 turns, as 4.
    const [one, two] = peers as [TestPeer, TestPeer];
    const framesFrom1 = (): number => one.transport.peers().find((i) => i.id === 2)!.lanes.control.framesSent;
    const framesAt2 = (): number => two.transport.peers().find((i) => i.id === 1)!.lanes.control.framesReceived;
    const before = { sent: framesFrom1(), received: framesAt2(), messages: two.received.length };
    for (let i = 0; i < 1000; i++) one.transport.send(2, 'control', { type: 7, body: i });
    await until(() => two.received.length === before.messages + 1000, 10_000, 'the burst to arrive');
    assert.equal(framesFrom1() - before.sent, 1, 'one frame for a burst in one turn');
    assert.equal(framesAt2() - before.received, 1, 'received as one frame');
    for (let turn = 0; turn < 4; turn++) {
      for (let i = 0; i < 250; i++) one.transport.send(2, 'control', { type: 7, body: i });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => two.received.length === before.messages + 2000, 10_000, 'the bursts to arrive');
    assert.equal(framesFrom1() - before.sent, 5, 'one frame per turn');
    const stats = one.transport.stats();
    assert.ok(stats.messagesSent >= count * 4 + 2000 && stats.messagesDropped === 0, 'counted, none dropped');
    assert.ok(stats.framesSent < stats.messagesSent / 10, `frames (${stats.framesSent}) are far fewer than messages (${stats.messagesSent})`);
  } finally {
    await Promise.all(peers.map((p) => p.transport.stop()));
  }
});
