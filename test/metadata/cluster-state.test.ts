// Goal: the controller state machine accepts valid commands, refuses invalid ones with Kafka's error
// names, and survives a snapshot round trip. Method: apply commands to ClusterState directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterState } from '../../src/metadata/cluster-state.ts';
import { topicNameProblem } from '../../src/metadata/topic-name.ts';
import { effectiveTopicConfigs } from '../../src/metadata/topic-configs.ts';

const create = (name: string, partitions = 3, configs: Record<string, string> = {}) => ({
  type: 'create-topic' as const, name, topicId: '6f1c0e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b', partitions, replicationFactor: 1, configs, timestampMs: 1,
});

test('create, duplicate, alter, add partitions, delete', () => {
  const s = new ClusterState('cluster-1');
  assert.equal(s.apply(create('orders')).error, null);
  assert.equal(s.apply(create('orders')).error, 'TOPIC_ALREADY_EXISTS');
  assert.equal(s.apply({ type: 'alter-configs', name: 'orders', set: { 'retention.ms': '1000' }, remove: [] }).error, null);
  assert.equal(s.topic('orders')!.configs['retention.ms'], '1000');
  assert.equal(s.apply({ type: 'create-partitions', name: 'orders', totalCount: 2 }).error, 'INVALID_PARTITIONS');
  assert.equal(s.apply({ type: 'create-partitions', name: 'orders', totalCount: 5 }).error, null);
  assert.equal(s.topic('orders')!.partitions, 5);
  assert.equal(s.apply({ type: 'delete-topic', name: 'orders' }).error, null);
  assert.equal(s.apply({ type: 'delete-topic', name: 'orders' }).error, 'UNKNOWN_TOPIC_OR_PARTITION');
});

test('invalid names, partition counts, replication factors and configs are refused', () => {
  const s = new ClusterState('c');
  assert.equal(s.apply(create('bad name')).error, 'INVALID_TOPIC_EXCEPTION');
  assert.equal(s.apply(create('..')).error, 'INVALID_TOPIC_EXCEPTION');
  assert.equal(s.apply(create('x'.repeat(250))).error, 'INVALID_TOPIC_EXCEPTION');
  assert.equal(s.apply(create('t', 0)).error, 'INVALID_PARTITIONS');
  assert.equal(s.apply({ ...create('t'), replicationFactor: 3 }).error, 'INVALID_REPLICATION_FACTOR');
  assert.equal(s.apply(create('t', 1, { 'retention.ms': 'soon' })).error, 'INVALID_CONFIG');
  assert.equal(s.apply(create('t', 1, { 'no.such.config': '1' })).error, 'INVALID_CONFIG');
  assert.equal(s.topics().length, 0);
  assert.equal(topicNameProblem('ok.topic_name-1'), null);
});

test('producer id blocks never overlap, across a snapshot round trip', () => {
  const s = new ClusterState('c');
  assert.equal(s.apply({ type: 'allocate-producer-ids', count: 1000 }).firstProducerId, 0n);
  s.apply(create('t'));
  const restored = ClusterState.restore(JSON.parse(JSON.stringify(s.snapshot())));
  assert.equal(restored.apply({ type: 'allocate-producer-ids', count: 1000 }).firstProducerId, 1000n);
  assert.deepEqual(restored.topic('t'), s.topic('t'));
  assert.equal(restored.clusterId, 'c');
});

test('effective configs overlay overrides on defaults', () => {
  const eff = effectiveTopicConfigs({ 'cleanup.policy': 'compact' });
  assert.equal(eff['cleanup.policy'], 'compact');
  assert.equal(eff['max.message.bytes'], '1048588');
});
