// Goal: decommissioning as the controller records and plans it: a draining broker takes no new
// replicas, keeps its mark across restarts, may come back with a new data directory once it holds
// nothing (and not before), and is refused when the others could not hold a partition's replicas.
// The plan replaces each of its replicas in place with a broker of a rack the partition lacks, then
// the least loaded, leaves moving partitions alone (re-targeting those moving onto a draining broker),
// and stays within the moves allowed at once.
// Method: ClusterState commands and drainMoves over small clusters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterState } from '../../src/metadata/cluster-state.ts';
import { clusterWithTopic, registerBroker } from './cluster-fixtures.ts';
import { drainMoves } from '../../src/metadata/drain-plan.ts';

const register = registerBroker;
const cluster = clusterWithTopic;

const all = () => true;

test('a draining broker takes no new replicas, keeps the mark across restarts, and is refused when the rest is too few', () => {
  const s = cluster([null, null, null, null], [[1, 2, 3], [2, 3, 4]]);
  assert.equal(s.apply({ type: 'drain-broker', id: 9, draining: true }).error, 'BROKER_ID_NOT_REGISTERED');
  assert.equal(s.apply({ type: 'drain-broker', id: 4, draining: true }).error, null);
  assert.equal(s.broker(4)!.draining, true);
  for (const replicas of s.proposeAssignments(8, 3)) assert.ok(!replicas.includes(4), `placed on a draining broker: ${replicas}`);
  // The same broker restarting keeps its mark.
  assert.equal(s.apply(register(4)).error, null);
  assert.equal(s.broker(4)!.draining, true);
  // Three brokers left for three replicas: one more is refused.
  const refused = s.apply({ type: 'drain-broker', id: 3, draining: true });
  assert.equal(refused.error, 'INVALID_REPLICATION_FACTOR');
  assert.match(refused.message ?? '', /Decommissioning broker 3 would leave t-0 \(3 replicas\) with 2 broker\(s\) to hold them/);
  // A new data directory while it still holds replicas is a replaced disk: still draining, refilled first...
  assert.equal(s.apply(register(4, null, 43)).error, null);
  assert.equal(s.broker(4)!.draining, true);
  assert.ok(s.broker(4)!.refillGroupsBelow !== undefined);
  // ...and a new, active broker once it holds none.
  assert.equal(s.apply({ type: 'reassign-partitions', name: 't', moves: [{ index: 1, replicas: [2, 3, 1] }] }).error, null);
  assert.equal(s.apply({ type: 'complete-reassignment', name: 't', index: 1, replicas: [2, 3, 1] }).error, null);
  assert.equal(s.holds(4), false);
  assert.equal(s.apply(register(4, null, 44)).error, null);
  assert.equal(s.broker(4)!.draining, undefined);
  // Recommissioning clears the mark.
  assert.equal(s.apply({ type: 'drain-broker', id: 1, draining: true }).error, null);
  assert.equal(s.apply({ type: 'drain-broker', id: 1, draining: false }).error, null);
  assert.equal(s.broker(1)!.draining, undefined);
});

test('the plan replaces in place, prefers a missing rack then the least loaded broker, and respects the budget', () => {
  // Racks a, a, b, b, c; partitions over a and b; draining broker 1 (rack a).
  const s = cluster(['a', 'a', 'b', 'b', 'c'], [[1, 3, 2], [3, 1, 4], [2, 4, 3]]);
  assert.equal(s.apply({ type: 'drain-broker', id: 1, draining: true }).error, null);
  const moves = drainMoves(s, { maxMoving: 8, usable: all });
  // Partition 0 keeps 3 (b) and 2 (a): only rack c is missing, so broker 5. Partition 1 keeps 3 and
  // 4 (both b): 2 (a) and 5 (c) both add a rack; 2 holds two replicas, 5 one (planned just now): 5.
  assert.deepEqual(moves, [
    { topic: 't', index: 0, replicas: [5, 3, 2] },
    { topic: 't', index: 1, replicas: [3, 5, 4] },
  ]);
  assert.deepEqual(drainMoves(s, { maxMoving: 1, usable: all }).length, 1, 'one move at most');
  assert.deepEqual(drainMoves(s, { maxMoving: 8, usable: (id) => id !== 5 }).map((m) => m.replicas), [[4, 3, 2], [3, 2, 4]], 'an unreachable broker takes nothing');
  // A partition already moving is left alone, and counts against the budget.
  assert.equal(s.apply({ type: 'reassign-partitions', name: 't', moves: [{ index: 0, replicas: [5, 3, 2] }] }).error, null);
  assert.deepEqual(drainMoves(s, { maxMoving: 8, usable: all }).map((m) => m.index), [1]);
  assert.deepEqual(drainMoves(s, { maxMoving: 1, usable: all }), []);
  // Nothing draining, nothing to do.
  assert.equal(s.apply({ type: 'drain-broker', id: 1, draining: false }).error, null);
  assert.deepEqual(drainMoves(s, { maxMoving: 8, usable: all }), []);
});

test('a move under way onto a broker that then drains is re-targeted, whatever the budget', () => {
  // Balancing was moving partition 0 from [1, 2, 3] onto broker 4 when broker 4 died and was marked draining.
  const s = cluster([null, null, null, null], [[1, 2, 3], [2, 3, 1]]);
  assert.equal(s.apply({ type: 'reassign-partitions', name: 't', moves: [{ index: 0, replicas: [1, 4, 3] }] }).error, null);
  assert.equal(s.apply({ type: 'drain-broker', id: 4, draining: true }).error, null);
  // Broker 2 is the only one left to take 4's place: the target becomes the assignment again (a cancel).
  const moves = drainMoves(s, { maxMoving: 1, usable: (id) => id !== 4 });
  assert.deepEqual(moves, [{ topic: 't', index: 0, replicas: [1, 2, 3] }]);
  assert.equal(s.apply({ type: 'reassign-partitions', name: 't', moves: moves.map((m) => ({ index: m.index, replicas: m.replicas })) }).error, null);
  // Broker 4 may have joined the group already: it is left to go through the group, and nothing more is planned.
  assert.deepEqual(s.topic('t')!.leaving, { 0: [4] });
  assert.deepEqual(drainMoves(s, { maxMoving: 8, usable: (id) => id !== 4 }), []);
});
