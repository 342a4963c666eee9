// Goal: idle connections stay open on keepalives alone; a peer that goes silent (a half-open socket,
// say) is closed after the idle timeout; a peer that cannot be reached is retried with backoff and
// logged once per lane, not once per attempt; a peer that stays down is reported with what each lane
// is doing, on both sides; a redial started early (new address) leaves no timer behind.
// Method: short keepalive and idle limits; two real transports left idle; a raw socket that completes
// the handshake and then says nothing; a cluster whose broker 2 never starts, and one whose broker 1
// never starts; an added broker whose peer's address changes while a redial is pending.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterFingerprint } from '../../src/protocol/cluster/handshake.ts';
import { freePort } from '../helpers/ports.ts';
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

test('peers that stay down are reported with what each lane does, on the dialing and the waiting side', { timeout: 30_000 }, async () => {
  const limits = { ...LIMITS, downReportMs: 300 };
  type Line = { peers: Record<string, unknown>[]; lastAcceptedAgoMs: unknown };
  const stillDown = (peer: TestPeer) => peer.logs().filter((l) => l.msg === 'peers still down') as unknown as Line[];
  // Broker 1 dials brokers 2 and 3, which never start: one line names both.
  const one = await startPeer(1, await addresses([1, 2, 3]), limits);
  try {
    await until(() => stillDown(one).length >= 2, 10_000, 'broker 1 reports brokers 2 and 3 still down, twice');
    const [first, second] = stillDown(one) as [Line, Line];
    assert.deepEqual(first.peers.map((p) => p.peer), [2, 3]);
    for (const peer of first.peers) {
      assert.equal(peer.dialer, 'this broker');
      for (const lane of [peer.control, peer.data] as Record<string, unknown>[]) {
        assert.match(String(lane.state), /^(dialing|waiting to redial)$/, 'the dialer is retrying');
        assert.ok(Number(lane.failures) >= 1 && /ECONNREFUSED/.test(String(lane.lastFailure)), 'with the count and the error');
        assert.ok(typeof lane.lastDialAgoMs === 'number');
      }
    }
    assert.ok(Number(second.peers[0]!.downForMs) - Number(first.peers[0]!.downForMs) >= 500, 'the gap between lines doubles');
  } finally {
    await one.transport.stop();
  }
  // Broker 2 waits for broker 1, which never starts.
  const two = await startPeer(2, await addresses([1, 2]), limits);
  try {
    await until(() => stillDown(two).length >= 1, 10_000, 'broker 2 reports broker 1 still down');
    const line = stillDown(two)[0]!;
    assert.equal(line.peers[0]!.dialer, 'the peer');
    assert.equal((line.peers[0]!.control as Record<string, unknown>).state, 'waiting for the peer to dial');
    assert.equal(line.lastAcceptedAgoMs, null, 'nothing was ever accepted');
  } finally {
    await two.transport.stop();
  }
  // A peer the layer above does not expect up (decommissioned) is left out: broker 1 reports only 3.
  const quiet = await startPeer(1, await addresses([1, 2, 3]), limits, undefined, (peer) => peer !== 2);
  try {
    await until(() => stillDown(quiet).length >= 1, 10_000, 'broker 1 reports broker 3 still down');
    assert.deepEqual(stillDown(quiet).flatMap((l) => l.peers.map((p) => p.peer)), [3]);
  } finally {
    await quiet.transport.stop();
  }
});

test('a peer that comes up leaves the report; down again, its time down counts anew', { timeout: 30_000 }, async () => {
  const limits = { ...LIMITS, downReportMs: 300 };
  const nodes = await addresses([1, 2]);
  const one = await startPeer(1, nodes, limits);
  let two: TestPeer | null = null;
  try {
    await until(() => one.logs().some((l) => l.msg === 'peers still down'), 10_000, 'broker 2 reported down');
    two = await startPeer(2, nodes, limits);
    await until(() => sees(one, [2]), 10_000, '1 and 2 connected');
    const before = one.logs().filter((l) => l.msg === 'peers still down').length;
    await new Promise((resolve) => setTimeout(resolve, 4 * limits.downReportMs));
    assert.equal(one.logs().filter((l) => l.msg === 'peers still down').length, before, 'no report while every peer is up');
    await two.transport.stop();
    two = null;
    await until(() => one.logs().filter((l) => l.msg === 'peers still down').length > before, 10_000, 'broker 2 reported down again');
    const again = one.logs().filter((l) => l.msg === 'peers still down').at(-1) as unknown as { peers: { downForMs: number }[] };
    assert.ok(again.peers[0]!.downForMs < 2000, `down since it stopped, not since the start: ${again.peers[0]!.downForMs} ms`);
  } finally {
    await two?.transport.stop();
    await one.transport.stop();
  }
});

test('a redial started by a new address leaves no timer behind once stopped', { timeout: 30_000 }, async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const nodes = await addresses([1]);
  // Broker 4 is added (not in the nodes) and dials broker 5, also added; long backoff, so a timer is pending.
  const four = await startPeer(4, nodes, { reconnectBaseMs: 3000, reconnectMaxMs: 3000 }, await freePort());
  try {
    four.transport.setAddresses([{ id: 5, host: '127.0.0.1', grpcPort: await freePort() }]);
    await until(() => four.logs().some((l) => l.msg === 'cannot reach peer, retrying with backoff' && l.peer === 5 && l.lane === 'data'), 5000, 'the first dials to broker 5 refused');
    four.transport.setAddresses([{ id: 5, host: '127.0.0.1', grpcPort: await freePort() }]);
  } finally {
    await four.transport.stop();
  }
  assert.equal(timers(), before, 'stop() cleared every timer');
});
