// Goal: the controller records partition moves as Kafka does (KIP-455): a target per partition until
// the partition's leader reports its group reached it, then the target becomes the assignment; a
// cancel drops the target; bad targets, unknown partitions and stale reports are refused with Kafka's
// error names. While a partition moves, its replica set is the union (target first) and both the
// adding and the removing brokers count as holding it. The group's first voters are kept once the
// assignment changed, so a replica joining later starts from the configuration the log begins with.
// Method: apply commands to ClusterState directly; a snapshot round trip keeps everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterState, type MetadataCommand } from '../../src/metadata/cluster-state.ts';
import { clusterWithTopic } from './cluster-fixtures.ts';
import { desiredReplicas, initialVoters, movingReplicas, partitionsMoving, replicaSet } from '../../src/metadata/reassignment.ts';

const cluster = () => clusterWithTopic([null, null, null, null, null], [[1, 2, 3], [2, 3, 4]]);

const move = (index: number, replicas: number[] | null): MetadataCommand => ({ type: 'reassign-partitions', name: 't', moves: [{ index, replicas }] });

test('a move keeps the assignment until completed; meanwhile the union holds the partition', () => {
  const s = cluster();
  assert.equal(s.apply(move(0, [4, 2, 3])).error, null);
  const t = s.topic('t')!;
  assert.deepEqual(t.assignments[0], [1, 2, 3]);
  assert.deepEqual(desiredReplicas(t, 0), [4, 2, 3]);
  assert.deepEqual(replicaSet(t, 0), [4, 2, 3, 1]);
  assert.deepEqual(movingReplicas(t, 0), { adding: [4], removing: [1] });
  assert.deepEqual(partitionsMoving(t), [0]);
  assert.equal(s.reassignmentCount(), 1);
  // Broker 1 still holds a replica: it cannot be unregistered yet; nor can broker 4.
  assert.equal(s.apply({ type: 'unregister-broker', id: 1 }).error, 'BROKER_HOLDS_REPLICAS');
  assert.deepEqual(s.brokerLoads().get(4), { replicas: 2, leaders: 1 }, 'the target\'s first replica counts as preferred leader');
  assert.deepEqual(s.brokerLoads().get(1), { replicas: 1, leaders: 0 });

  // A report for another target is stale.
  assert.equal(s.apply({ type: 'complete-reassignment', name: 't', index: 0, replicas: [4, 2, 5] }).error, 'NO_REASSIGNMENT_IN_PROGRESS');
  assert.equal(s.apply({ type: 'complete-reassignment', name: 't', index: 0, replicas: [4, 2, 3] }).error, null);
  const done = s.topic('t')!;
  assert.deepEqual(done.assignments[0], [4, 2, 3]);
  assert.equal(done.reassignments, undefined, 'no partition moves');
  assert.deepEqual(initialVoters(done, 0), [1, 2, 3], 'the group still begins with its first voters');
  assert.deepEqual(initialVoters(done, 1), [2, 3, 4]);
  assert.equal(s.apply({ type: 'unregister-broker', id: 1 }).error, null);

  // A second move keeps the first voters, not the intermediate assignment.
  assert.equal(s.apply(move(0, [5, 2, 3])).error, null);
  assert.equal(s.apply({ type: 'complete-reassignment', name: 't', index: 0, replicas: [5, 2, 3] }).error, null);
  assert.deepEqual(initialVoters(s.topic('t')!, 0), [1, 2, 3]);
});

test('cancel drops the target; a target equal to the assignment is no move; a new target replaces the old', () => {
  const s = cluster();
  assert.equal(s.apply(move(1, null)).error, 'NO_REASSIGNMENT_IN_PROGRESS');
  assert.equal(s.apply(move(1, [5, 3, 4])).error, null);
  assert.equal(s.apply(move(1, [1, 3, 4])).error, null);
  assert.deepEqual(desiredReplicas(s.topic('t')!, 1), [1, 3, 4]);
  assert.equal(s.apply(move(1, null)).error, null);
  assert.equal(s.topic('t')!.reassignments, undefined);
  assert.deepEqual(s.topic('t')!.assignments[1], [2, 3, 4]);
  // A report for the cancelled target is stale and changes nothing.
  assert.equal(s.apply({ type: 'complete-reassignment', name: 't', index: 1, replicas: [5, 3, 4] }).error, 'NO_REASSIGNMENT_IN_PROGRESS');
  assert.deepEqual(s.topic('t')!.assignments[1], [2, 3, 4]);
  // Brokers 5 and 1 may have joined meanwhile: they leave before the partition settles.
  assert.deepEqual(s.topic('t')!.leaving, { 1: [5, 1] });
  assert.equal(s.apply(move(1, [2, 3, 4])).error, null, 'a target equal to the assignment is accepted');
  assert.equal(s.topic('t')!.reassignments, undefined);
});

test('brokers of a cancelled or replaced target stay in the replica set until the leader reports the group settled', () => {
  const s = cluster();
  assert.equal(s.apply(move(0, [4, 2, 3])).error, null);
  // Broker 4 may be a learner or voter already: cancelling leaves it to leave through the group.
  assert.equal(s.apply(move(0, null)).error, null);
  let t = s.topic('t')!;
  assert.equal(t.reassignments, undefined);
  assert.deepEqual(t.leaving, { 0: [4] });
  assert.deepEqual(replicaSet(t, 0), [1, 2, 3, 4]);
  assert.deepEqual(desiredReplicas(t, 0), [1, 2, 3]);
  assert.deepEqual(movingReplicas(t, 0), { adding: [], removing: [4] });
  assert.deepEqual(partitionsMoving(t), [0]);
  assert.equal(s.apply({ type: 'unregister-broker', id: 4 }).error, 'BROKER_HOLDS_REPLICAS');
  // Replaced: 5 instead of 4; 4 stays leaving, 5 is wanted.
  assert.equal(s.apply(move(0, [5, 2, 3])).error, null);
  assert.equal(s.apply(move(0, [1, 2, 4])).error, null);
  t = s.topic('t')!;
  assert.deepEqual(t.leaving, { 0: [5] }, '4 is wanted again; 5 is left over');
  assert.deepEqual(replicaSet(t, 0), [1, 2, 4, 3, 5]);
  // The leader reports its voters are the wanted ones: everything settles.
  assert.equal(s.apply({ type: 'complete-reassignment', name: 't', index: 0, replicas: [1, 2, 4] }).error, null);
  t = s.topic('t')!;
  assert.deepEqual([t.assignments[0], t.reassignments, t.leaving], [[1, 2, 4], undefined, undefined]);
  // After a cancel, the report names the assignment.
  assert.equal(s.apply(move(0, [1, 2, 5])).error, null);
  assert.equal(s.apply(move(0, null)).error, null);
  assert.equal(s.apply({ type: 'complete-reassignment', name: 't', index: 0, replicas: [1, 2, 5] }).error, 'NO_REASSIGNMENT_IN_PROGRESS');
  assert.equal(s.apply({ type: 'complete-reassignment', name: 't', index: 0, replicas: [1, 2, 4] }).error, null);
  assert.equal(s.topic('t')!.leaving, undefined);
});

test('bad targets and unknown partitions are refused with Kafka error names', () => {
  const s = cluster();
  assert.equal(s.apply({ type: 'reassign-partitions', name: 'nope', moves: [{ index: 0, replicas: [1] }] }).error, 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.equal(s.apply(move(2, [1, 2, 3])).error, 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.equal(s.apply(move(-1, [1, 2, 3])).error, 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.deepEqual(s.apply(move(0, [])), { error: 'INVALID_REPLICA_ASSIGNMENT', message: 'The target replica list is empty.' });
  assert.equal(s.apply(move(0, [1, 1, 2])).error, 'INVALID_REPLICA_ASSIGNMENT');
  assert.match(s.apply(move(0, [1, 2, 9])).message ?? '', /broker 9, but no such broker is registered/);
  assert.equal(s.apply({ type: 'reassign-partitions', name: 't', moves: [{ index: 0, replicas: [1, 2, 4] }, { index: 0, replicas: [1, 2, 5] }] }).error, 'INVALID_REQUEST');
  assert.equal(s.topic('t')!.reassignments, undefined, 'nothing refused was recorded');
  // A different replication factor is a valid target (Kafka allows it).
  assert.equal(s.apply(move(0, [1, 2, 3, 4, 5])).error, null);
});

test('moves and first voters survive a snapshot round trip', () => {
  const s = cluster();
  s.apply(move(0, [4, 2, 3]));
  s.apply({ type: 'complete-reassignment', name: 't', index: 0, replicas: [4, 2, 3] });
  s.apply(move(1, [5, 3, 4]));
  const copy = ClusterState.restore(JSON.parse(JSON.stringify(s.snapshot())), null);
  assert.deepEqual(copy.topic('t'), s.topic('t'));
  assert.deepEqual(desiredReplicas(copy.topic('t')!, 1), [5, 3, 4]);
  assert.deepEqual(initialVoters(copy.topic('t')!, 0), [1, 2, 3]);
});
