// Goal: the guide's large topology, five brokers, forms one cluster in which every broker names the
// same partition leaders (also for partitions it holds no replica of), and its controller keeps deciding
// with two brokers down (three of five are a quorum), then refuses to decide with three down rather
// than split.
// Method: five real processes on 127.0.0.1 (test/helpers/broker-cluster.ts), raw requests to one broker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { createTopicThrough, metadataUntil } from './cluster-requests.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';

let cluster: BrokerCluster;

before(async () => {
  cluster = await startCluster(5);
});

after(async () => {
  await cluster?.stop();
});

test('five brokers: one cluster; two down, metadata still decided; three down, refused as retriable', async () => {
  const md = await metadataUntil(cluster.member(1).kafkaPort, null, (m) => m.brokers.length === 5, 'five brokers listed');
  assert.deepEqual(md.brokers.map((b) => b.nodeId).sort(), [1, 2, 3, 4, 5]);
  const spread = await createTopicThrough(cluster.member(5).kafkaPort, 'five-way', 10, 3);
  assert.equal(spread.errorCode, 0, spread.message ?? '');
  // Three distinct replicas per partition (how evenly they spread is the placement unit tests' job:
  // here it depends on which brokers had registered when the offsets topic was created).
  const topic = (await metadataUntil(cluster.member(2).kafkaPort, ['five-way'], (md) => md.topics[0]!.partitions.length === 10, 'broker 2 knows the topic')).topics[0]!;
  for (const p of topic.partitions) assert.equal(new Set(p.replicaNodes).size, 3);
  // Every broker, member of a partition's group or not, names the same leader with three in-sync
  // replicas (the leadership gossip tells the two brokers outside each group).
  const led = (m: Awaited<ReturnType<typeof metadataUntil>>) => m.topics[0]!.partitions.every((p) => p.errorCode === 0 && p.isrNodes.length === 3);
  const leaders = (v: Awaited<ReturnType<typeof metadataUntil>>) =>
    JSON.stringify([...v.topics[0]!.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex).map((p) => [p.leaderId, p.leaderEpoch]));
  // Leadership may still move (to preferred replicas) between two answers: ask until all five agree.
  let views: Awaited<ReturnType<typeof metadataUntil>>[] = [];
  for (let attempt = 0; attempt < 50; attempt++) {
    views = await Promise.all(cluster.members.map((m) => metadataUntil(m.kafkaPort, ['five-way'], led, `broker ${m.id} names every leader`)));
    if (views.every((v) => leaders(v) === leaders(views[0]!))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const v of views) assert.equal(leaders(v), leaders(views[0]!));
  for (const p of views[0]!.topics[0]!.partitions) assert.ok(p.replicaNodes.includes(p.leaderId));

  // Stop two brokers, the controller's leader among them.
  const leader = md.controllerId;
  const other = [1, 2, 3, 4, 5].find((id) => id !== leader && id !== 1)!;
  await Promise.all([cluster.member(leader).process!.kill(), cluster.member(other).process!.kill()]);
  const survivor = [1, 2, 3, 4, 5].find((id) => id !== leader && id !== other)!;
  let created = await createTopicThrough(cluster.member(survivor).kafkaPort, 'with-three');
  for (let i = 0; i < 30 && created.errorCode !== 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
    created = await createTopicThrough(cluster.member(survivor).kafkaPort, 'with-three');
  }
  assert.equal(created.errorCode, 0, created.message ?? '');

  // A third one down: two of five cannot decide anything, and say so with a retriable error.
  const third = [1, 2, 3, 4, 5].find((id) => id !== leader && id !== other && id !== survivor)!;
  await cluster.member(third).process!.kill();
  const asked = Date.now();
  const refused = await createTopicThrough(cluster.member(survivor).kafkaPort, 'with-two', 1, 1, 1_500);
  // Answered within the request's timeout_ms (plus scheduling slack), not the broker's own limit.
  assert.ok(Date.now() - asked < 8_000, `answered after ${Date.now() - asked} ms`);
  assert.ok([KafkaErrorCode.REQUEST_TIMED_OUT, KafkaErrorCode.NOT_CONTROLLER].includes(refused.errorCode as never), `got ${refused.errorCode}: ${refused.message}`);
});
