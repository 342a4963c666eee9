// Goal: the controller registers brokers by (id, incarnation id): the same incarnation updates its
// endpoints, another incarnation (a replaced disk) is accepted and marked to refill the partition groups it
// held, and an id still holding replicas cannot be unregistered. Malformed registrations are refused, not asserted on.
// Method: apply register-broker and unregister-broker commands to ClusterState directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterState } from '../../src/metadata/cluster-state.ts';
import type { RegisterBrokerCommand } from '../../src/metadata/broker-registration.ts';

const FIRST_DISK = '6f1c0e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
const EMPTY_DISK = '0b9e4c1d-7a2f-4c3e-9d8b-1e2f3a4b5c6d';

const register = (id: number, incarnationId = FIRST_DISK, changes: Partial<RegisterBrokerCommand> = {}): RegisterBrokerCommand => ({
  type: 'register-broker',
  id,
  incarnationId,
  host: `broker-${id}.internal`,
  port: 9092,
  grpcPort: 9093,
  rack: 'az-a',
  timestampMs: 1000,
  ...changes,
});

test('a new broker is recorded; the same incarnation re-registering updates its endpoints', () => {
  const s = new ClusterState('c', null);
  assert.equal(s.apply(register(1)).error, null);
  assert.deepEqual(s.broker(1), {
    id: 1, incarnationId: FIRST_DISK, host: 'broker-1.internal', port: 9092, grpcPort: 9093, rack: 'az-a', registeredAtMs: 1000,
  });
  assert.equal(s.apply(register(1, FIRST_DISK, { host: '10.0.0.7', port: 19092, rack: 'az-b', timestampMs: 2000 })).error, null);
  assert.deepEqual(s.broker(1), {
    id: 1, incarnationId: FIRST_DISK, host: '10.0.0.7', port: 19092, grpcPort: 9093, rack: 'az-b', registeredAtMs: 2000,
  });
  assert.equal(s.brokers().length, 1);
});

test('a known id back with another incarnation (a replaced disk) is accepted and refills the groups that existed', () => {
  const s = new ClusterState('c', null);
  s.apply(register(1));
  s.apply(register(2));
  const topic = { type: 'create-topic' as const, name: 'orders', topicId: FIRST_DISK, partitions: 2, replicationFactor: 2, configs: {}, timestampMs: 1 };
  assert.equal(s.apply({ ...topic, assignments: [[1, 2], [2, 1]] }).error, null);
  const groups = s.topic('orders')!.raftGroups;
  assert.equal(s.apply(register(2, EMPTY_DISK, { host: 'elsewhere' })).error, null);
  const replaced = s.broker(2)!;
  assert.equal(replaced.incarnationId, EMPTY_DISK);
  assert.equal(replaced.host, 'elsewhere');
  // Every group it held before lies below the mark; a group created later does not.
  assert.ok(groups.every((g) => g < replaced.refillGroupsBelow!), `groups ${groups} against ${replaced.refillGroupsBelow}`);
  assert.equal(s.apply({ ...topic, name: 'later', partitions: 1, replicationFactor: 2, assignments: [[2, 1]] }).error, null);
  assert.ok(s.topic('later')!.raftGroups[0]! >= replaced.refillGroupsBelow!);
  // Its restarts keep the mark (a refill cut short by a crash still refills); broker 1 never had one.
  assert.equal(s.apply(register(2, EMPTY_DISK, { timestampMs: 5000 })).error, null);
  assert.equal(s.broker(2)!.refillGroupsBelow, replaced.refillGroupsBelow);
  assert.equal(s.broker(1)!.refillGroupsBelow, undefined);
  // The mark survives a snapshot of the metadata.
  const restored = ClusterState.restore(s.snapshot(), null);
  assert.equal(restored.broker(2)!.refillGroupsBelow, replaced.refillGroupsBelow);
});

test('after unregistering, the id registers again with a new incarnation', () => {
  const s = new ClusterState('c', null);
  s.apply(register(3));
  assert.equal(s.apply({ type: 'unregister-broker', id: 3 }).error, null);
  assert.equal(s.broker(3), undefined);
  assert.equal(s.apply({ type: 'unregister-broker', id: 3 }).error, 'BROKER_ID_NOT_REGISTERED');
  assert.equal(s.apply(register(3, EMPTY_DISK)).error, null);
  assert.equal(s.broker(3)!.incarnationId, EMPTY_DISK);
});

test('a broker still holding replicas cannot be unregistered', () => {
  const s = new ClusterState('c', null);
  s.apply(register(1));
  s.apply(register(2));
  const topic = { type: 'create-topic' as const, name: 'orders', topicId: FIRST_DISK, partitions: 2, replicationFactor: 2, configs: {}, timestampMs: 1 };
  assert.equal(s.apply({ ...topic, assignments: [[1, 2], [2, 1]] }).error, null);
  const refused = s.apply({ type: 'unregister-broker', id: 2 });
  assert.equal(refused.error, 'BROKER_HOLDS_REPLICAS');
  assert.match(refused.message!, /2 partition\(s\) \(orders-0, orders-1\)/);
  assert.ok(s.broker(2));
  s.apply({ type: 'delete-topic', name: 'orders' });
  assert.equal(s.apply({ type: 'unregister-broker', id: 2 }).error, null);
});

test('malformed registrations are refused as INVALID_REQUEST', () => {
  const s = new ClusterState('c', null);
  const cases: Partial<RegisterBrokerCommand>[] = [
    { id: -1 },
    { id: 1.5 },
    { incarnationId: 'not-a-uuid' },
    { incarnationId: FIRST_DISK.toUpperCase() },
    { incarnationId: '00000000-0000-0000-0000-000000000000' },
    { host: '' },
    { port: 0 },
    { grpcPort: 70_000 },
  ];
  for (const change of cases) assert.equal(s.apply(register(1, FIRST_DISK, change)).error, 'INVALID_REQUEST', JSON.stringify(change));
  assert.deepEqual(s.brokers(), []);
});
