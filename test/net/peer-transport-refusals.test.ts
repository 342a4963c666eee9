// Goal: a transport refuses, with a refusal frame naming the reason and a log line, a handshake from a
// broker claiming the acceptor's own id, of another cluster, of an unsupported protocol version, dialing the wrong
// way, or duplicating a live connection; a garbage frame, an oversized frame, a frame out of turn and a
// stalled handshake close only their own connection; and through all of it the transport keeps serving
// its real peers.
// Method: brokers 2 and 3 are real transports; raw sockets play broker 1 (or impostors) against broker 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterFingerprint } from '../../src/protocol/cluster/handshake.ts';
import { prefixed } from '../../src/protocol/cluster/peer-frames.ts';
import { packPlain } from '../../src/protocol/cluster/plain-codec.ts';
import { batchFrames, encodePeerMessage } from '../../src/protocol/cluster/batch-frame.ts';
import { until } from '../helpers/timeout.ts';
import { addresses, sees, startPeer, TEST_LIMITS, type TestPeer } from './peer-cluster.ts';
import { RawPeer } from './raw-peer.ts';

const MAX_FRAME_BYTES = 64 * 1024;

test('bad handshakes are refused and bad frames close only their connection', { timeout: 60_000 }, async () => {
  const nodes = await addresses([1, 2, 3]);
  const cluster = clusterFingerprint([1, 2, 3]);
  const limits = { ...TEST_LIMITS, maxFrameBytes: MAX_FRAME_BYTES, handshakeTimeoutMs: 300 };
  const peers: TestPeer[] = [];
  const raws: RawPeer[] = [];
  const raw = async (): Promise<RawPeer> => {
    const r = await RawPeer.connect(nodes[1]!.grpcPort);
    raws.push(r);
    return r;
  };
  try {
    for (const id of [2, 3]) peers.push(await startPeer(id, nodes, limits));
    const [two, three] = peers as [TestPeer, TestPeer];
    await until(() => sees(two, [3]) && sees(three, [2]), 10_000, '2 and 3 to connect');

    const refusals: [string, (r: RawPeer) => void][] = [
      ['unknown-broker', (r) => r.hello(cluster, { brokerId: 2 })],
      ['wrong-cluster', (r) => r.hello(clusterFingerprint([1, 2]))],
      ['unsupported-version', (r) => r.socket.write(prefixed(packPlain([1, 99, cluster, 1, 'raw-1', 'control', 'a field of version 99'])))],
      ['wrong-direction', (r) => r.hello(cluster, { brokerId: 3 })],
    ];
    for (const [code, send] of refusals) {
      const r = await raw();
      send(r);
      const frame = await r.nextFrame();
      assert.ok(frame.kind === 'refusal', `${code}: a refusal, not ${frame.kind}`);
      assert.equal(frame.refusal.code, code);
      await r.waitClosed();
    }

    // Broker 1's control lane, then a second connection of the same incarnation, then a new incarnation.
    const first = await raw();
    first.hello(cluster);
    const answer = await first.nextFrame();
    assert.ok(answer.kind === 'hello' && answer.hello.brokerId === 2 && answer.hello.lane === 'control');
    const duplicate = await raw();
    duplicate.hello(cluster);
    const refused = await duplicate.nextFrame();
    assert.ok(refused.kind === 'refusal' && refused.refusal.code === 'duplicate-connection');
    await duplicate.waitClosed();
    assert.equal(two.transport.send(1, 'control', { type: 5, body: 'still here' }), true, 'the first connection still serves');
    assert.deepEqual(await first.nextFrame(), { kind: 'batch', messages: [{ type: 5, body: 'still here' }] });
    const restarted = await raw();
    restarted.hello(cluster, { incarnationId: 'raw-1-restarted' });
    assert.equal((await restarted.nextFrame()).kind, 'hello', 'a new incarnation is accepted');
    await first.waitClosed();
    assert.equal(two.transport.peers().find((p) => p.id === 1)!.lanes.control.incarnationId, 'raw-1-restarted');

    // Bad bytes: each closes its own connection only.
    const garbageAfterHello = restarted;
    garbageAfterHello.socket.write(prefixed(Buffer.from('not msgpack at all \xc1', 'latin1')));
    await garbageAfterHello.waitClosed();
    const badBytes: [string, (r: RawPeer) => void][] = [
      ['garbage first frame', (r) => r.socket.write(prefixed(Buffer.from([0xc1, 0x00])))],
      ['oversized frame', (r) => r.socket.write(Buffer.from([0x00, 0x01, 0x00, 0x01]))],
      ['negative size', (r) => r.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff]))],
      ['batch before hello', (r) => r.socket.write(batchFrames([encodePeerMessage({ type: 1, body: 1 }, 100)], MAX_FRAME_BYTES).buffers[0]!)],
      ['stalled handshake', () => {}],
    ];
    for (const [what, send] of badBytes) {
      const r = await raw();
      send(r);
      await r.waitClosed(5000).catch((err: Error) => assert.fail(`${what}: ${err.message}`));
    }

    // The real peers never noticed.
    assert.ok(sees(two, [3]) && sees(three, [2]), '2 and 3 still up');
    const heard = three.received.length;
    two.transport.send(3, 'data', { type: 9, body: 'after all that' });
    await until(() => three.received.length > heard, 5000, '3 to hear 2');
    assert.deepEqual(three.received.at(-1), { from: 2, message: { type: 9, body: 'after all that' } });

    const stats = two.transport.stats();
    assert.equal(stats.handshakesRefused, 5);
    assert.equal(stats.protocolErrors, 5, 'garbage twice, oversized, negative size, batch before hello');
    const logs = two.logs();
    const refusedLines = logs.filter((l) => l.msg === 'refused inter-broker handshake');
    assert.deepEqual(refusedLines.map((l) => l.code), ['unknown-broker', 'wrong-cluster', 'unsupported-version', 'wrong-direction', 'duplicate-connection']);
    assert.ok(refusedLines.every((l) => typeof l.reason === 'string' && typeof l.remote === 'string'), 'each names the reason and the remote');
    const broken = logs.filter((l) => l.msg === 'peer broke the inter-broker protocol, closing connection');
    assert.equal(broken.length, 5);
    assert.ok(broken.some((l) => l.code === 'SB_ERR_FRAME_TOO_LARGE' && /65537/.test(String(l.reason))), 'the oversized frame is named');
    assert.ok(broken.some((l) => l.peer === 1 && l.code === 'SB_ERR_PEER_PROTOCOL'), 'garbage after the handshake names the peer');
    assert.ok(logs.some((l) => l.msg === 'inter-broker handshake timed out, closing connection'));
  } finally {
    for (const r of raws) r.destroy();
    await Promise.all(peers.map((p) => p.transport.stop()));
  }
});
