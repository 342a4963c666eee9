// Goal: balancing moves replicas from the brokers holding the most to those holding the fewest, one
// replica of one partition per move, until the counts are even within one; it never narrows a
// partition's rack spread, ignores draining and unreachable brokers, leaves moving partitions alone,
// and stays within the moves allowed at once. Applying the moves as completed reassignments ends
// with balanced brokers.
// Method: balanceMoves over ClusterState; moves applied as reassign + complete commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterState } from '../../src/metadata/cluster-state.ts';
import { clusterWithTopic, registerBroker } from './cluster-fixtures.ts';
import { balanceMoves } from '../../src/metadata/balance-plan.ts';

const register = registerBroker;
const cluster = clusterWithTopic;

const all = () => true;
const counts = (s: ClusterState) => [...s.brokerLoads()].sort((a, b) => a[0] - b[0]).map(([id, l]) => [id, l.replicas]);

/** Plans and completes moves until the plan is empty (bounded). */
function balance(s: ClusterState, maxMoving = 2): number {
  let moved = 0;
  for (let round = 0; round < 100; round++) {
    const moves = balanceMoves(s, { maxMoving, usable: all });
    if (moves.length === 0) return moved;
    for (const m of moves) {
      assert.equal(s.apply({ type: 'reassign-partitions', name: m.topic, moves: [{ index: m.index, replicas: m.replicas }] }).error, null);
      assert.equal(s.apply({ type: 'complete-reassignment', name: m.topic, index: m.index, replicas: m.replicas }).error, null);
      moved++;
    }
  }
  assert.fail('balancing did not end');
}

test('an empty broker receives replicas until counts are even within one, a few moves at a time', () => {
  const s = cluster([null, null, null, null], Array.from({ length: 8 }, () => [1, 2, 3]));
  assert.deepEqual(counts(s), [[1, 8], [2, 8], [3, 8]]);
  const first = balanceMoves(s, { maxMoving: 2, usable: all });
  assert.equal(first.length, 2, 'no more than the moves allowed at once');
  assert.ok(first.every((m) => m.replicas.includes(4)), 'moves go to the empty broker');
  const moved = balance(s);
  assert.equal(moved, 6);
  const loads = new Map(counts(s) as [number, number][]);
  assert.deepEqual([loads.get(1), loads.get(2), loads.get(3), loads.get(4)].sort(), [6, 6, 6, 6]);
  assert.deepEqual(balanceMoves(s, { maxMoving: 2, usable: all }), [], 'balanced: nothing more to do');
});

test('draining and unreachable brokers take nothing; moving partitions are left alone; racks keep their spread', () => {
  const s = cluster([null, null, null, null], Array.from({ length: 8 }, () => [1, 2, 3]));
  assert.deepEqual(balanceMoves(s, { maxMoving: 8, usable: (id) => id !== 4 }), [], 'broker 4 unreachable');
  assert.equal(s.apply({ type: 'drain-broker', id: 4, draining: true }).error, null);
  assert.deepEqual(balanceMoves(s, { maxMoving: 8, usable: all }), [], 'broker 4 draining');
  assert.equal(s.apply({ type: 'drain-broker', id: 4, draining: false }).error, null);
  assert.equal(s.apply({ type: 'reassign-partitions', name: 't', moves: [{ index: 0, replicas: [4, 2, 3] }] }).error, null);
  assert.ok(balanceMoves(s, { maxMoving: 8, usable: all }).every((m) => m.index !== 0));
  assert.equal(balanceMoves(s, { maxMoving: 1, usable: all }).length, 0, 'the move under way uses the budget');

  // Racks a, b, c, c: partitions over a, b, c (brokers 1, 2, 3); broker 4 (rack c) may only replace broker 3.
  const racked = cluster(['a', 'b', 'c', 'c'], Array.from({ length: 6 }, () => [1, 2, 3]));
  const moves = balanceMoves(racked, { maxMoving: 8, usable: all });
  assert.ok(moves.length > 0);
  for (const m of moves) assert.deepEqual(m.replicas, [1, 2, 4], 'only the rack-c replica moves');
});
