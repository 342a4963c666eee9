// Goal: multi-raft hosts over the real inter-broker transport elect a leader in every group, commit
// proposals on all three brokers, send at most one heartbeat-carrying message per peer per tick however
// many groups a broker leads, and recover when a broker goes away: the other two elect new leaders
// for the groups it led and commit new proposals.
// Method: three PeerTransports on 127.0.0.1 with free ports (test/net/peer-cluster.ts), each with a
// MultiRaft hosting 51 groups of three voters over synchronous MemoryStorage disks, ticked by a real
// RaftTicker every 10 ms; heartbeat counters are read from stats() against counted ticks. Every wait
// is bounded, and everything started is stopped in `finally`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realClock } from '../../src/io/real/real-clock.ts';
import { MultiRaft, type MultiRaftStats } from '../../src/replication/multi-raft.ts';
import { RaftTicker } from '../../src/replication/raft-ticker.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { until, withTimeout } from '../helpers/timeout.ts';
import { addresses, sees, startPeer, type TestPeer } from '../net/peer-cluster.ts';
import { member, type Member } from './multi-raft-fixture.ts';
import { text } from './raft-group.ts';

const IDS = [1, 2, 3];
const GROUPS = 51; // one controller-like group and 50 partition groups
const TICK_MS = 10;
const SETTINGS = { electionTicks: 20, heartbeatTicks: 1 };

interface Broker {
  readonly id: number;
  readonly peer: TestPeer;
  readonly ticker: RaftTicker;
  readonly host: MultiRaft;
  readonly members: Map<number, Member>;
  ticks: number;
  running: boolean;
}

function startBroker(peer: TestPeer): Broker {
  const ticker = new RaftTicker(realClock, TICK_MS);
  const host = new MultiRaft({ brokerId: peer.id, channel: peer.transport, ticker });
  const members = new Map<number, Member>();
  for (let g = 0; g < GROUPS; g++) {
    const random = mulberry32(peer.id * 1000 + g);
    const m = member(peer.id, IDS, { settings: SETTINGS, nextInt: (bound) => Math.floor(random() * bound) });
    host.addGroup(g, m.options);
    members.set(g, m);
  }
  const broker: Broker = { id: peer.id, peer, ticker, host, members, ticks: 0, running: true };
  ticker.add({ tick: () => broker.ticks++ });
  ticker.start();
  return broker;
}

async function stopBroker(b: Broker): Promise<void> {
  if (!b.running) return;
  b.running = false;
  b.ticker.stop();
  b.host.stop();
  await b.peer.transport.stop();
}

/** The leader of group `g` if every running broker agrees on one that is running, else 0. */
function agreedLeader(brokers: readonly Broker[], g: number): number {
  const running = brokers.filter((b) => b.running);
  const leaders = new Set(running.map((b) => b.host.group(g)!.raft.leader));
  if (leaders.size !== 1) return 0;
  const [leader] = leaders;
  return running.some((b) => b.id === leader && b.host.group(g)!.raft.isLeader) ? leader! : 0;
}

/** Proposes `value` in every group through its leader and waits until every running broker applied it. */
async function commitEverywhere(brokers: readonly Broker[], value: (g: number) => string): Promise<void> {
  const running = brokers.filter((b) => b.running);
  const proposals: Promise<unknown>[] = [];
  for (let g = 0; g < GROUPS; g++) {
    const leader = running.find((b) => b.id === agreedLeader(brokers, g))!;
    proposals.push(leader.host.group(g)!.proposeAndWait([text(value(g))]));
  }
  await withTimeout(Promise.all(proposals), 5000, 'proposals to commit on their leaders');
  await until(() => running.every((b) => [...b.members].every(([g, m]) => m.machine.applied.includes(value(g)))), 5000, 'every running broker to apply every proposal');
}

function heartbeatRequestBatches(stats: MultiRaftStats, peer: number): number {
  return stats.peers[peer]?.heartbeatRequestBatches ?? 0;
}

test('51 groups on three brokers over real transports: elect, commit, one heartbeat message per peer per tick, survive a broker stopping', { timeout: 30_000 }, async () => {
  const nodes = await addresses(IDS);
  const peers: TestPeer[] = [];
  const brokers: Broker[] = [];
  try {
    for (const n of nodes) peers.push(await startPeer(n.id, nodes));
    await until(() => peers.every((p) => sees(p, IDS.filter((id) => id !== p.id))), 5000, 'every broker to see the others up');
    for (const p of peers) brokers.push(startBroker(p));

    await until(() => [...Array(GROUPS).keys()].every((g) => agreedLeader(brokers, g) !== 0), 8000, 'every group to elect a leader all brokers agree on');
    await commitEverywhere(brokers, (g) => `first ${g}`);

    // Heartbeats: over a window of ticks, each broker sends each peer at most one message carrying
    // heartbeat requests per tick, and those messages carry the heartbeats of many groups.
    const before = brokers.map((b) => ({ stats: b.host.stats(), ticks: b.ticks }));
    await new Promise((resolve) => setTimeout(resolve, 400));
    for (const [i, b] of brokers.entries()) {
      const after = b.host.stats();
      const ticks = b.ticks - before[i]!.ticks;
      assert.ok(ticks >= 5, `broker ${b.id} ticked ${ticks} times in 400 ms`);
      const led = [...Array(GROUPS).keys()].filter((g) => b.host.group(g)!.raft.isLeader).length;
      for (const peer of IDS.filter((id) => id !== b.id)) {
        const batches = heartbeatRequestBatches(after, peer) - heartbeatRequestBatches(before[i]!.stats, peer);
        assert.ok(batches <= ticks + 1, `broker ${b.id} sent ${batches} heartbeat messages to ${peer} in ${ticks} ticks`);
        if (led > 1) {
          const carried = after.peers[peer]!.heartbeatsCoalesced - (before[i]!.stats.peers[peer]?.heartbeatsCoalesced ?? 0);
          const allBatches = after.peers[peer]!.heartbeatBatches - (before[i]!.stats.peers[peer]?.heartbeatBatches ?? 0);
          assert.ok(carried > allBatches, `broker ${b.id} coalesced ${carried} heartbeats into ${allBatches} messages to ${peer}`);
        }
      }
      assert.equal(after.decodeErrors, 0);
      assert.equal(after.droppedUnknownGroup, 0);
    }

    // Stop the broker that leads the most groups; the other two take over those groups.
    const leads = (b: Broker) => [...Array(GROUPS).keys()].filter((g) => agreedLeader(brokers, g) === b.id);
    const victim = brokers.reduce((most, b) => (leads(b).length > leads(most).length ? b : most));
    const orphaned = leads(victim);
    assert.ok(orphaned.length > 0);
    await stopBroker(victim);
    await until(() => [...Array(GROUPS).keys()].every((g) => agreedLeader(brokers, g) !== 0), 8000, `the two remaining brokers to elect leaders for the ${orphaned.length} groups broker ${victim.id} led`);
    for (const g of orphaned) assert.notEqual(agreedLeader(brokers, g), victim.id);
    await commitEverywhere(brokers, (g) => `second ${g}`);
    for (const b of brokers) for (const m of b.members.values()) assert.deepEqual(m.failures, []);
  } finally {
    for (const b of brokers) await stopBroker(b);
    for (const p of peers) if (!brokers.some((b) => b.peer === p)) await p.transport.stop();
  }
});
