// Goal: a peer that stops reading costs at most the lane's byte cap: beyond it messages are dropped and
// counted instead of buffered, the peer is reported down, the other lane keeps flowing, and once the
// peer reads again the lane drains and the peer is reported up.
// Method: a raw socket plays broker 1, completes the handshake on both lanes with broker 2, then stops
// reading its data lane while broker 2 sends 16 KiB messages on it; checks the pending bytes after
// every send, then resumes reading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterFingerprint } from '../../src/protocol/cluster/handshake.ts';
import { until } from '../helpers/timeout.ts';
import { addresses, startPeer, TEST_LIMITS, type TestPeer } from './peer-cluster.ts';
import { RawPeer } from './raw-peer.ts';

const CAP_BYTES = 256 * 1024;
const MESSAGE_BYTES = 16 * 1024;
const SENDS_MAX = 4000;

test('a peer that never reads gets drops, not an unbounded buffer, and recovers when it reads', { timeout: 60_000 }, async () => {
  const nodes = await addresses([1, 2]);
  const cluster = clusterFingerprint([1, 2]);
  const limits = { ...TEST_LIMITS, maxFrameBytes: 64 * 1024, dataLaneBytesMax: CAP_BYTES, idleTimeoutMs: 60_000 };
  let two: TestPeer | null = null;
  const raws: RawPeer[] = [];
  try {
    two = await startPeer(2, nodes, limits);
    for (const lane of ['control', 'data'] as const) {
      const r = await RawPeer.connect(nodes[1]!.grpcPort);
      raws.push(r);
      r.hello(cluster, { lane });
      assert.equal((await r.nextFrame()).kind, 'hello');
    }
    const [control, data] = raws as [RawPeer, RawPeer];
    await until(() => two!.states.at(-1)?.state === 'up', 5000, 'broker 1 up at broker 2');
    data.socket.pause();

    const lane = (): { bytesPending: number; bytesMax: number; congested: boolean; messagesDropped: number } => two!.transport.peers()[0]!.lanes.data;
    const taken: number[] = [];
    let refused = 0;
    for (let i = 0; i < SENDS_MAX && refused < 20; i++) {
      if (two.transport.send(1, 'data', { type: 3, body: Buffer.alloc(MESSAGE_BYTES, i) })) taken.push(i % 256);
      else refused++;
      assert.ok(lane().bytesPending <= CAP_BYTES, `pending ${lane().bytesPending} stays under the cap`);
      if (i % 8 === 7) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(refused, 20, `drops began within ${SENDS_MAX} sends (${taken.length} were taken)`);
    assert.equal(lane().messagesDropped, 20, 'every drop is counted');
    assert.equal(lane().congested, true);
    assert.deepEqual(two.states.at(-1), { peer: 1, state: 'down' }, 'the peer is reported down');
    assert.ok(lane().bytesPending <= CAP_BYTES);

    // The control lane is not held up by the data lane.
    assert.equal(two.transport.send(1, 'control', { type: 1, body: 'vote' }), true);
    assert.deepEqual(await control.nextFrame(), { kind: 'batch', messages: [{ type: 1, body: 'vote' }] });

    // Reading again drains the lane; the peer comes back up and gets everything that was taken, in order.
    data.socket.resume();
    await until(() => two!.states.at(-1)?.state === 'up', 20_000, 'broker 1 up again once it reads');
    const seen: number[] = [];
    while (seen.length < taken.length) {
      const frame = await data.nextFrame();
      assert.ok(frame.kind === 'batch');
      for (const m of frame.messages) seen.push((m.body as Buffer)[0]!);
    }
    assert.deepEqual(seen, taken, 'what was taken arrives in order');
  } finally {
    for (const r of raws) r.destroy();
    await two?.transport.stop();
  }
});
