// Goal: brokers outside cluster.nodes (added to a running cluster) reach it: each dials the listed
// brokers on its own, the listed brokers take it without knowing it beforehand, and two added brokers
// connect once either learns the other's address (setAddresses, as registration tells it), the lower
// id dialing. Messages flow every way, and a listed broker never dials an added one.
// Method: real transports on 127.0.0.1: brokers 1 and 2 listed, 4 and 5 added with their own ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../helpers/ports.ts';
import { until } from '../helpers/timeout.ts';
import { addresses, sees, startPeer, type TestPeer } from './peer-cluster.ts';

test('brokers added outside cluster.nodes connect to the listed ones and to each other', { timeout: 60_000 }, async () => {
  const nodes = await addresses([1, 2]);
  const ports = { 4: await freePort(), 5: await freePort() };
  const peers: TestPeer[] = [];
  try {
    for (const n of nodes) peers.push(await startPeer(n.id, nodes));
    const four = await startPeer(4, nodes, undefined, ports[4]);
    const five = await startPeer(5, nodes, undefined, ports[5]);
    peers.push(four, five);
    const [one, two] = peers as [TestPeer, TestPeer];
    await until(() => sees(one, [2, 4, 5]) && sees(two, [1, 4, 5]) && sees(four, [1, 2]) && sees(five, [1, 2]), 10_000, 'the added brokers to reach the listed ones');
    assert.equal(sees(four, [5]), false, 'neither added broker knows the other yet');

    // Broker 5 learns 4's address first: 5 is the higher id, so it waits for 4 to dial.
    five.transport.setAddresses([{ id: 4, host: '127.0.0.1', grpcPort: ports[4] }]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(sees(five, [4]), false, 'the higher id does not dial');
    four.transport.setAddresses([
      { id: 1, host: '127.0.0.1', grpcPort: 1 }, // a listed broker's entry in cluster.nodes stays in force
      { id: 5, host: '127.0.0.1', grpcPort: ports[5] },
    ]);
    await until(() => sees(four, [5]) && sees(five, [4]), 10_000, 'brokers 4 and 5 to connect');

    for (const from of peers) for (const to of peers) if (from !== to) assert.equal(from.transport.send(to.id, 'control', { type: 1, body: { from: from.id } }), true, `${from.id} to ${to.id}`);
    await until(() => peers.every((p) => p.received.length === 3), 10_000, 'every message to arrive');
    for (const p of peers) assert.deepEqual(p.received.map((r) => r.from).sort(), peers.map((q) => q.id).filter((id) => id !== p.id));
    assert.ok(!one.logs().some((l) => /refused/.test(String(l.msg))), 'nothing was refused');
    assert.equal(one.transport.stats().handshakesRefused, 0);
  } finally {
    await Promise.all(peers.map((p) => p.transport.stop()));
  }
});
