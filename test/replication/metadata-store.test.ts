// Goal: metadata changes are persisted before they are acknowledged, and producer ids are never
// reused across restarts. Method: an in-memory SnapshotPersistence that records every save.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetadataStore, type SnapshotPersistence } from '../../src/replication/metadata-store.ts';
import { PRODUCER_ID_BLOCK } from '../../src/replication/metadata-service.ts';

function memory(): SnapshotPersistence & { saved: string[] } {
  const saved: string[] = [];
  return { saved, load: async () => saved.at(-1) ?? null, save: async (t) => void saved.push(t) };
}

test('a created topic is in the persisted snapshot when submit resolves', async () => {
  const p = memory();
  const store = await MetadataStore.open(p, () => 'cid', 1);
  const r = await store.submit({ type: 'create-topic', name: 't', topicId: '6f1c0e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5c', partitions: 2, replicationFactor: 1, assignments: [[1], [1]], configs: {}, timestampMs: 5 });
  assert.equal(r.error, null);
  assert.equal(JSON.parse(p.saved.at(-1)!).topics[0].name, 't');
  const reopened = await MetadataStore.open(p, () => 'other', 1);
  assert.equal(reopened.state.clusterId, 'cid');
  assert.equal(reopened.state.topic('t')!.partitions, 2);
});

test('producer ids stay unique across a restart', async () => {
  const p = memory();
  const a = await MetadataStore.open(p, () => 'cid', 1);
  const first = [await a.nextProducerId(), await a.nextProducerId()];
  const b = await MetadataStore.open(p, () => 'cid', 1);
  const next = await b.nextProducerId();
  assert.deepEqual(first, [0n, 1n]);
  assert.equal(next, BigInt(PRODUCER_ID_BLOCK));
});

test('a refused command is not persisted', async () => {
  const p = memory();
  const store = await MetadataStore.open(p, () => 'cid', 1);
  const before = p.saved.length;
  assert.equal((await store.submit({ type: 'delete-topic', name: 'nope' })).error, 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.equal(p.saved.length, before);
});

test('a version-1 snapshot written by an older single broker opens with every replica on this broker', async () => {
  const v1 = {
    version: 1,
    clusterId: 'cid',
    topics: [{ name: 'orders', topicId: '6f1c0e2a-3b4d-4e5f-8a9b-0c1d2e3f4a5d', partitions: 2, replicationFactor: 1, configs: { 'retention.ms': '1000' }, createdAtMs: 5 }],
    nextProducerId: '2000',
  };
  const p = memory();
  p.saved.push(JSON.stringify(v1));
  const store = await MetadataStore.open(p, () => 'other', 7);
  assert.equal(store.state.clusterId, 'cid');
  assert.deepEqual(store.state.topic('orders')!.assignments, [[7], [7]]);
  assert.equal(await store.nextProducerId(), 2000n);
  const saved = JSON.parse(p.saved.at(-1)!);
  assert.equal(saved.version, 2);
  assert.deepEqual(saved.topics[0].assignments, [[7], [7]]);
});
