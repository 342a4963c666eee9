// Goal: idle connections stay open on keepalives alone; a peer that goes silent (a half-open socket,
// say) is closed after the idle timeout; a peer that cannot be reached is retried with backoff and
// logged once per lane, not once per attempt.
// Method: short keepalive and idle limits; two real transports left idle; a raw socket that completes
// the handshake and then says nothing; a cluster whose broker 2 never starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterFingerprint } from '../../src/protocol/cluster/handshake.ts';
import { until } from '../helpers/timeout.ts';
import { addresses, sees, startPeer, TEST_LIMITS, type TestPeer } from './peer-cluster.ts';
import { RawPeer } from './raw-peer.ts';

const LIMITS = { ...TEST_LIMITS, keepaliveMs: 50, idleTimeoutMs: 400 };

test('keepalives hold idle connections; silent peers are closed; unreachable peers are retried quietly', { timeout: 60_000 }, async () => {
  const nodes = await addresses([1, 2, 3]);
  const peers: TestPeer[] = [];
  let silent: RawPeer | null = null;
  try {
    // Brokers 2 and 3 only: broker 1 is played by a raw socket that never speaks after its hello.
    for (const id of [2, 3]) peers.push(await startPeer(id, nodes, LIMITS));
    const [two, three] = peers as [TestPeer, TestPeer];
    await until(() => sees(two, [3]) && sees(three, [2]), 10_000, '2 and 3 up');
    silent = await RawPeer.connect(nodes[1]!.grpcPort);
    silent.hello(clusterFingerprint([1, 2, 3]));
    assert.equal((await silent.nextFrame()).kind, 'hello');
    await silent.waitClosed(5000);
    assert.ok(two.logs().some((l) => l.msg === 'peer went silent, closing connection' && l.peer === 1));

    // Three idle timeouts later, 2 and 3 are still connected, on keepalives alone.
    await new Promise((resolve) => setTimeout(resolve, 3 * LIMITS.idleTimeoutMs));
    assert.ok(sees(two, [3]) && sees(three, [2]));
    assert.deepEqual(two.states.filter((s) => s.peer === 3).map((s) => s.state), ['up'], 'never down');
    assert.ok(two.transport.stats().keepalivesSent > 0 && three.transport.stats().keepalivesSent > 0);
  } finally {
    silent?.destroy();
    await Promise.all(peers.map((p) => p.transport.stop()));
  }
});

test('an unreachable peer is retried with backoff, logged once per lane and again every 30 failures', { timeout: 60_000 }, async () => {
  const nodes = await addresses([1, 2]);
  const one = await startPeer(1, nodes, LIMITS);
  try {
    const still = () => one.logs().filter((l) => l.msg === 'still cannot reach peer, retrying with backoff');
    await until(() => new Set(still().map((l) => l.lane)).size === 2, 30_000, 'a reminder on each lane after 30 failed attempts');
    const warned = one.logs().filter((l) => l.msg === 'cannot reach peer, retrying with backoff');
    assert.deepEqual(warned.map((l) => l.lane).sort(), ['control', 'data']);
    assert.ok(warned.every((l) => l.peer === 2 && /ECONNREFUSED/.test(String(l.error))), 'names the peer and the error');
    assert.ok(still().every((l) => l.peer === 2 && l.attempts !== undefined && Number(l.attempts) % 30 === 0 && /ECONNREFUSED/.test(String(l.error))), 'the reminders count the attempts');
    assert.ok(one.transport.peers()[0]!.state === 'down');
  } finally {
    await one.transport.stop();
  }
});
