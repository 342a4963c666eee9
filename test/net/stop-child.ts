/**
 * Run as its own process by peer-transport-stop.test.ts: starts brokers 1..3 of a cluster whose broker 4
 * never comes (so reconnect timers are pending), exchanges messages, leaves a handshake stalled, stops
 * everything, and prints the resources still keeping the event loop alive. It never calls process.exit:
 * the process must end by itself.
 */
import { connect } from 'node:net';
import { until } from '../helpers/timeout.ts';
import { addresses, sees, startPeer, type TestPeer } from './peer-cluster.ts';

const nodes = await addresses([1, 2, 3, 4]);
const peers: TestPeer[] = [];
for (const n of nodes.slice(0, 3)) peers.push(await startPeer(n.id, nodes));
await until(() => peers.every((p) => sees(p, [1, 2, 3].filter((id) => id !== p.id))), 10_000, 'brokers 1..3 up');
for (const p of peers) for (const to of [1, 2, 3].filter((id) => id !== p.id)) p.transport.send(to, 'data', { type: 1, body: 'x' });
await until(() => peers.every((p) => p.received.length === 2), 10_000, 'messages to arrive');
const stalled = connect({ host: '127.0.0.1', port: nodes[0]!.grpcPort });
stalled.on('error', () => {});
await new Promise((resolve) => stalled.once('connect', resolve));
await Promise.all(peers.map((p) => p.transport.stop()));
// The stalled socket is ours, not the transports': it closes once broker 1 closed its end.
await new Promise((resolve) => (stalled.destroyed ? resolve(null) : stalled.once('close', resolve)));
process.stdout.write(JSON.stringify({ resources: process.getActiveResourcesInfo(), stats: peers.map((p) => p.transport.stats()) }) + '\n');
