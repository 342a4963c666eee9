// Goal: the controller state machine accepts valid commands, refuses invalid ones with Kafka's error
// names, keeps every partition's replica assignment, and survives a snapshot round trip (including
// snapshots of the first format, from single-broker data directories).
// Method: apply commands to ClusterState directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterState, type MetadataCommand } from '../../src/metadata/cluster-state.ts';
import { topicNameProblem } from '../../src/metadata/topic-name.ts';
import { effectiveTopicConfigs } from '../../src/metadata/topic-configs.ts';

const SOLO = 1;

const create = (name: string, partitions = 3, configs: Record<string, string> = {}) => ({
  type: 'create-topic' as const,
  name,
  topicId: '6f1c0e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
  partitions,
  replicationFactor: 1,
  assignments: Array.from({ length: partitions }, () => [SOLO]),
  configs,
  timestampMs: 1,
});

const register = (id: number, rack: string | null = null): MetadataCommand => ({
  type: 'register-broker',
  id,
  incarnationId: `00000000-0000-4000-8000-00000000000${id}`,
  host: `broker-${id}`,
  port: 9092,
  grpcPort: 9093,
  rack,
  timestampMs: 10,
});

/** A state with brokers 1..n registered, as a replicated controller (no solo broker) holds it. */
function cluster(n: number): ClusterState {
  const s = new ClusterState('c', null);
  for (let id = 1; id <= n; id++) assert.equal(s.apply(register(id)).error, null);
  return s;
}

test('create, duplicate, alter, add partitions, delete', () => {
  const s = new ClusterState('cluster-1', SOLO);
  assert.equal(s.apply(create('orders')).error, null);
  assert.equal(s.apply(create('orders')).error, 'TOPIC_ALREADY_EXISTS');
  assert.equal(s.apply({ type: 'alter-configs', name: 'orders', set: { 'retention.ms': '1000' }, remove: [] }).error, null);
  assert.equal(s.topic('orders')!.configs['retention.ms'], '1000');
  assert.equal(s.apply({ type: 'create-partitions', name: 'orders', totalCount: 2, assignments: [] }).error, 'INVALID_PARTITIONS');
  assert.equal(s.apply({ type: 'create-partitions', name: 'orders', totalCount: 5, assignments: s.proposeAssignments(2, 1) }).error, null);
  assert.equal(s.topic('orders')!.partitions, 5);
  assert.deepEqual(s.topic('orders')!.assignments, [[1], [1], [1], [1], [1]]);
  assert.equal(s.apply({ type: 'delete-topic', name: 'orders' }).error, null);
  assert.equal(s.apply({ type: 'delete-topic', name: 'orders' }).error, 'UNKNOWN_TOPIC_OR_PARTITION');
});

test('invalid names, partition counts, replication factors and configs are refused', () => {
  const s = new ClusterState('c', SOLO);
  assert.equal(s.apply(create('bad name')).error, 'INVALID_TOPIC_EXCEPTION');
  assert.equal(s.apply(create('..')).error, 'INVALID_TOPIC_EXCEPTION');
  assert.equal(s.apply(create('x'.repeat(250))).error, 'INVALID_TOPIC_EXCEPTION');
  assert.equal(s.apply(create('t', 0)).error, 'INVALID_PARTITIONS');
  assert.deepEqual(s.apply({ ...create('t'), replicationFactor: 3, assignments: [] }), {
    error: 'INVALID_REPLICATION_FACTOR',
    message: 'Replication factor: 3 larger than available brokers: 1.',
  });
  assert.equal(s.apply({ ...create('t'), replicationFactor: 0, assignments: [] }).error, 'INVALID_REPLICATION_FACTOR');
  assert.equal(s.apply(create('t', 1, { 'retention.ms': 'soon' })).error, 'INVALID_CONFIG');
  assert.equal(s.apply(create('t', 1, { 'no.such.config': '1' })).error, 'INVALID_CONFIG');
  assert.equal(s.topics().length, 0);
  assert.equal(topicNameProblem('ok.topic_name-1'), null);
});

test('with no broker registered, the solo broker holds every replica; with none at all, nothing can be placed', () => {
  const solo = new ClusterState('c', 7);
  assert.deepEqual(solo.availableBrokers(), [{ id: 7, rack: null }]);
  assert.deepEqual(solo.proposeAssignments(3, 1), [[7], [7], [7]]);
  assert.equal(solo.apply({ ...create('t', 1), assignments: [[1]] }).error, 'INVALID_REPLICA_ASSIGNMENT');
  const replicated = new ClusterState('c', null);
  assert.deepEqual(replicated.proposeAssignments(3, 1), []);
  assert.deepEqual(replicated.apply({ ...create('t', 1), assignments: [] }), {
    error: 'INVALID_REPLICATION_FACTOR',
    message: 'Replication factor: 1 larger than available brokers: 0.',
  });
});

test('once brokers register, they replace the solo broker and bound the replication factor', () => {
  const s = new ClusterState('c', SOLO);
  s.apply(register(2));
  s.apply(register(3));
  assert.deepEqual(s.availableBrokers().map((b) => b.id), [2, 3]);
  assert.equal(s.apply({ ...create('t', 1), assignments: [[1]] }).error, 'INVALID_REPLICA_ASSIGNMENT');
  assert.deepEqual(s.proposeAssignments(1, 3), []);
  assert.deepEqual(s.apply({ ...create('t', 1), replicationFactor: 3, assignments: [] }), {
    error: 'INVALID_REPLICATION_FACTOR',
    message: 'Replication factor: 3 larger than available brokers: 2.',
  });
  const assignments = s.proposeAssignments(4, 2);
  assert.equal(s.apply({ ...create('t', 4), replicationFactor: 2, assignments }).error, null);
  assert.deepEqual(s.topic('t')!.assignments, assignments);
  assert.deepEqual(s.brokerLoads(), new Map([[2, { replicas: 4, leaders: 2 }], [3, { replicas: 4, leaders: 2 }]]));
});

test('explicit assignments are checked with Kafka error names and messages', () => {
  const s = cluster(3);
  const explicit = (assignments: number[][], replicationFactor = 2) => s.apply({ ...create('t', assignments.length), replicationFactor, assignments });
  assert.deepEqual(explicit([[1, 2], []]), { error: 'INVALID_REPLICA_ASSIGNMENT', message: 'The manual partition assignment includes an empty replica list.' });
  assert.deepEqual(explicit([[1, 2], [1, 2, 3]]), {
    error: 'INVALID_REPLICA_ASSIGNMENT',
    message: 'The manual partition assignment includes a partition with 3 replica(s), but this is not consistent with previous partitions, which have 2 replica(s).',
  });
  assert.deepEqual(explicit([[2, 2]]), { error: 'INVALID_REPLICA_ASSIGNMENT', message: 'The manual partition assignment includes the broker 2 more than once.' });
  assert.deepEqual(explicit([[1, 9]]), { error: 'INVALID_REPLICA_ASSIGNMENT', message: 'The manual partition assignment includes broker 9, but no such broker is registered.' });
  // An unknown broker is reported as such even when the factor is also too large, as Kafka does.
  assert.equal(explicit([[1, 2, 3, 9]], 4).message, 'The manual partition assignment includes broker 9, but no such broker is registered.');
  assert.deepEqual(s.apply({ ...create('t', 3), replicationFactor: 2, assignments: [[1, 2]] }), {
    error: 'INVALID_REPLICA_ASSIGNMENT',
    message: 'Attempted to add 3 additional partition(s), but only 1 assignment(s) were specified.',
  });
  assert.equal(s.topics().length, 0);
  assert.equal(explicit([[3, 1], [2, 3]]).error, null);
  assert.deepEqual(s.topic('t')!.assignments, [[3, 1], [2, 3]]);
});

test('added partitions keep the topic replication factor and registered brokers', () => {
  const s = cluster(3);
  s.apply({ ...create('t', 1), replicationFactor: 2, assignments: [[1, 2]] });
  const add = (assignments: number[][]) => s.apply({ type: 'create-partitions', name: 't', totalCount: 1 + assignments.length, assignments });
  assert.equal(add([[1, 2, 3]]).error, 'INVALID_REPLICA_ASSIGNMENT');
  assert.equal(add([[1, 4]]).error, 'INVALID_REPLICA_ASSIGNMENT');
  assert.equal(s.apply({ type: 'create-partitions', name: 't', totalCount: 3, assignments: [[2, 3]] }).error, 'INVALID_REPLICA_ASSIGNMENT');
  assert.equal(s.topic('t')!.partitions, 1);
  const proposed = s.proposeAssignments(2, 2);
  assert.equal(add(proposed).error, null);
  assert.deepEqual(s.topic('t')!.assignments, [[1, 2], ...proposed]);
  // The two new partitions went where the first one was not: broker 3 first, evening out the load.
  assert.ok(proposed.every((replicas) => replicas.includes(3)));
});

test('producer id blocks never overlap, across a snapshot round trip', () => {
  const s = new ClusterState('c', SOLO);
  assert.equal(s.apply({ type: 'allocate-producer-ids', count: 1000 }).firstProducerId, 0n);
  s.apply(create('t'));
  const restored = ClusterState.restore(JSON.parse(JSON.stringify(s.snapshot())), SOLO);
  assert.equal(restored.apply({ type: 'allocate-producer-ids', count: 1000 }).firstProducerId, 1000n);
  assert.deepEqual(restored.topic('t'), s.topic('t'));
  assert.equal(restored.clusterId, 'c');
});

test('brokers and assignments survive a snapshot round trip', () => {
  const s = cluster(3);
  s.apply({ ...create('t', 2), replicationFactor: 3, assignments: s.proposeAssignments(2, 3) });
  const snapshot = JSON.parse(JSON.stringify(s.snapshot()));
  assert.equal(snapshot.version, 2);
  const restored = ClusterState.restore(snapshot, null);
  assert.deepEqual(restored.brokers(), s.brokers());
  assert.deepEqual(restored.topics(), s.topics());
  assert.deepEqual(restored.snapshot(), s.snapshot());
});

test('a version-1 snapshot gets the solo broker as the only replica of every partition', () => {
  const v1 = {
    version: 1 as const,
    clusterId: 'c',
    topics: [{ name: 'orders', topicId: '6f1c0e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b', partitions: 3, replicationFactor: 1, configs: {}, createdAtMs: 1 }],
    nextProducerId: '42',
  };
  const restored = ClusterState.restore(v1, 5);
  assert.deepEqual(restored.topic('orders')!.assignments, [[5], [5], [5]]);
  assert.deepEqual(restored.brokers(), []);
  assert.equal(restored.apply({ type: 'allocate-producer-ids', count: 1 }).firstProducerId, 42n);
  assert.throws(() => ClusterState.restore(v1, null), /needs the id of the broker that wrote it/);
});

test('effective configs overlay overrides on defaults', () => {
  const eff = effectiveTopicConfigs({ 'cleanup.policy': 'compact' });
  assert.equal(eff['cleanup.policy'], 'compact');
  assert.equal(eff['max.message.bytes'], '1048588');
});
