// Goal: with cluster.deadBrokerTimeout, the controller's leader re-creates the replicas of a broker it
// has not reached for that long (an automatic decommission), never sooner, never for a broker holding
// nothing or one an operator decommissioned, and undoes only its own decommissioning once the broker
// is back; 0 turns it off. The metadata keeps the automatic mark apart from an operator's.
// Method: DeadBrokerWatch over a ClusterState built from commands, with a hand-driven clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadBrokerWatch } from '../../src/app/dead-broker-watch.ts';
import { clusterWithTopic } from '../metadata/cluster-fixtures.ts';
import { commandShapeProblem } from '../../src/metadata/command-shape.ts';

test('an unreachable broker is drained after the timeout, and recommissioned when it is back', () => {
  // Broker 4 holds a replica; broker 5 holds nothing.
  const s = clusterWithTopic([null, null, null, null, null], [[1, 2, 4], [2, 3, 1]]);
  const watch = new DeadBrokerWatch(10_000);
  const down = new Set([4, 5]);
  const reachable = (id: number) => !down.has(id);
  assert.deepEqual(watch.check(s, reachable, 1_000), [], 'the clock starts when first seen unreachable');
  assert.deepEqual(watch.check(s, reachable, 10_999), []);
  assert.deepEqual(watch.check(s, reachable, 11_000), [{ id: 4, draining: true, unreachableMs: 10_000 }]);
  assert.equal(s.apply({ type: 'drain-broker', id: 4, draining: true, automatic: true }).error, null);
  assert.equal(s.broker(4)!.autoDrained, true);
  assert.deepEqual(watch.check(s, reachable, 20_000), [], 'already draining');
  // Back: undone.
  down.delete(4);
  assert.deepEqual(watch.check(s, reachable, 21_000), [{ id: 4, draining: false, unreachableMs: 0 }]);
  assert.equal(s.apply({ type: 'drain-broker', id: 4, draining: false, automatic: true }).error, null);
  assert.equal(s.broker(4)!.draining, undefined);
  assert.equal(s.broker(4)!.autoDrained, undefined);
  // Down again: a new clock.
  down.add(4);
  assert.deepEqual(watch.check(s, reachable, 30_000), []);
  assert.deepEqual(watch.check(s, reachable, 40_000).map((a) => a.id), [4]);
});

test('an operator\'s decommissioning is left alone, a new leader waits a whole timeout, and 0 turns it off', () => {
  const s = clusterWithTopic([null, null, null, null], [[1, 2, 4], [2, 3, 4]]);
  assert.equal(s.apply({ type: 'drain-broker', id: 4, draining: true }).error, null);
  const watch = new DeadBrokerWatch(5_000);
  assert.deepEqual(watch.check(s, () => true, 0), [], 'reachable and drained by an operator: stays drained');
  assert.deepEqual(watch.check(s, (id) => id !== 4, 1_000), []);
  assert.deepEqual(watch.check(s, (id) => id !== 4, 100_000), [], 'drained by an operator: nothing to do');
  // An operator decommissioning an automatically drained broker makes it the operator's.
  assert.equal(s.apply({ type: 'drain-broker', id: 4, draining: false }).error, null);
  assert.equal(s.apply({ type: 'drain-broker', id: 4, draining: true, automatic: true }).error, null);
  assert.equal(s.apply({ type: 'drain-broker', id: 4, draining: true }).error, null);
  assert.equal(s.broker(4)!.autoDrained, undefined);
  assert.deepEqual(watch.check(s, () => true, 200_000), []);

  const fresh = clusterWithTopic([null, null, null, null], [[1, 2, 3], [2, 3, 4]]);
  const leader = new DeadBrokerWatch(5_000);
  assert.deepEqual(leader.check(fresh, (id) => id !== 3, 0), []);
  leader.reset();
  assert.deepEqual(leader.check(fresh, (id) => id !== 3, 4_000), [], 'leadership changed: the clock restarts');
  assert.deepEqual(leader.check(fresh, (id) => id !== 3, 9_000).map((a) => a.id), [3]);
  assert.deepEqual(new DeadBrokerWatch(0).check(fresh, () => false, 1e9), []);
});

test('a broker with a command in flight is not submitted again', async () => {
  const s = clusterWithTopic([null, null, null, null], [[1, 2, 4]]);
  const watch = new DeadBrokerWatch(1);
  watch.check(s, (id) => id !== 4, 0);
  assert.equal(watch.check(s, (id) => id !== 4, 10).length, 1);
  let settle!: () => void;
  watch.track(4, new Promise<void>((resolve) => (settle = resolve)));
  assert.deepEqual(watch.check(s, (id) => id !== 4, 20), []);
  settle();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(watch.check(s, (id) => id !== 4, 30).length, 1);
});

test('the automatic flag is optional and must be a boolean', () => {
  assert.equal(commandShapeProblem({ type: 'drain-broker', id: 4, draining: true }), null);
  assert.equal(commandShapeProblem({ type: 'drain-broker', id: 4, draining: true, automatic: true }), null);
  assert.match(commandShapeProblem({ type: 'drain-broker', id: 4, draining: true, automatic: 'yes' }) ?? '', /automatic/);
});
