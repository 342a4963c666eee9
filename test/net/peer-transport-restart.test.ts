// Goal: a broker that stops is reported down and messages to it are dropped (counted, never queued);
// once it starts again, as a new incarnation on the same port, it is reconnected and messages flow both
// ways again. Holds for a broker that is dialed (3) and for one that dials (1).
// Method: three transports; stop one, send to it, start a new transport with its id and port, wait
// until the others see it up, and exchange messages with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../helpers/timeout.ts';
import { addresses, sees, startPeer, type TestPeer } from './peer-cluster.ts';

async function exchange(a: TestPeer, b: TestPeer, tag: string): Promise<void> {
  const [fromA, fromB] = [b.received.length, a.received.length];
  assert.equal(a.transport.send(b.id, 'data', { type: 1, body: `${tag} from ${a.id}` }), true);
  assert.equal(b.transport.send(a.id, 'control', { type: 2, body: `${tag} from ${b.id}` }), true);
  await until(() => b.received.length > fromA && a.received.length > fromB, 10_000, `${tag}: ${a.id} and ${b.id} to hear each other`);
  assert.deepEqual(b.received.at(-1), { from: a.id, message: { type: 1, body: `${tag} from ${a.id}` } });
  assert.deepEqual(a.received.at(-1), { from: b.id, message: { type: 2, body: `${tag} from ${b.id}` } });
}

test('a stopped broker is reported down, and reconnected once it restarts', { timeout: 60_000 }, async () => {
  const nodes = await addresses([1, 2, 3]);
  const peers = new Map<number, TestPeer>();
  try {
    for (const n of nodes) peers.set(n.id, await startPeer(n.id, nodes));
    const all = (): TestPeer[] => [...peers.values()];
    await until(() => all().every((p) => sees(p, [1, 2, 3].filter((id) => id !== p.id))), 10_000, 'everyone up');

    for (const restarted of [3, 1]) {
      const others = all().filter((p) => p.id !== restarted);
      await peers.get(restarted)!.transport.stop();
      await until(() => others.every((p) => p.states.at(-1)?.peer === restarted && p.states.at(-1)?.state === 'down'), 10_000, `${restarted} reported down`);
      const dropped = others[0]!.transport.stats().messagesDropped;
      assert.equal(others[0]!.transport.send(restarted, 'control', { type: 1, body: 'lost' }), false, 'a message to a down peer is dropped');
      assert.equal(others[0]!.transport.stats().messagesDropped, dropped + 1, 'and counted');
      assert.equal(others[0]!.transport.peers().find((p) => p.id === restarted)!.lanes.control.bytesPending, 0, 'nothing waits for it');

      const whileDown = others[1]!.transport.peers().find((p) => p.id === restarted)!.lanes.data.incarnationId;
      assert.equal(whileDown, null, 'no connection while it is down');
      peers.set(restarted, await startPeer(restarted, nodes));
      await until(() => all().every((p) => sees(p, [1, 2, 3].filter((id) => id !== p.id))), 10_000, `everyone up after ${restarted} restarted`);
      for (const other of others) await exchange(other, peers.get(restarted)!, `after restarting ${restarted}`);
      await exchange(others[0]!, others[1]!, 'between the others');
    }
  } finally {
    await Promise.all([...peers.values()].map((p) => p.transport.stop()));
  }
});
