// Goal: CreateTopics with manual replica assignments (the `assignments` field admin clients send
// for `--replica-assignment`) is served as Kafka serves it: accepted when it names registered
// brokers for partitions 0..n-1, refused with Kafka's error codes and messages otherwise, and never
// mixed with num_partitions / replication_factor.
// Method: one broker process (id 1, single-node: it is the only broker), raw CreateTopics v7.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { RawKafka } from '../helpers/raw-kafka.ts';

let broker: BrokerProcess;
let conn: RawKafka;

before(async () => {
  broker = await startBroker({});
  conn = await RawKafka.connect(broker.kafkaPort);
});

after(async () => {
  conn?.close();
  await broker?.stop();
});

async function create(name: string, assignments: { partitionIndex: number; brokerIds: number[] }[], numPartitions = -1, replicationFactor = -1) {
  const res = await conn.request(19, 7, { topics: [{ name, numPartitions, replicationFactor, assignments, configs: [] }], timeoutMs: 10_000, validateOnly: false });
  return res.topics[0]!;
}

test('an assignment on registered brokers creates the topic with its partition count and factor', async () => {
  const t = await create('manual-ok', [{ partitionIndex: 1, brokerIds: [1] }, { partitionIndex: 0, brokerIds: [1] }, { partitionIndex: 2, brokerIds: [1] }]);
  assert.equal(t.errorCode, 0, t.errorMessage ?? '');
  assert.equal(t.numPartitions, 3);
  assert.equal(t.replicationFactor, 1);
  const md = await conn.request(3, 12, { topics: [{ name: 'manual-ok', topicId: '00000000-0000-0000-0000-000000000000' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  assert.deepEqual(md.topics[0]!.partitions.map((p) => [p.partitionIndex, p.replicaNodes]), [[0, [1]], [1, [1]], [2, [1]]]);
});

test('refusals: counts given too, gaps in partition indexes, unknown or repeated brokers', async () => {
  const both = await create('manual-both', [{ partitionIndex: 0, brokerIds: [1] }], 1, -1);
  assert.equal(both.errorCode, 42, 'INVALID_REQUEST');
  assert.match(both.errorMessage ?? '', /cannot be used at the same time/);
  const gap = await create('manual-gap', [{ partitionIndex: 0, brokerIds: [1] }, { partitionIndex: 2, brokerIds: [1] }]);
  assert.equal(gap.errorCode, 39, 'INVALID_REPLICA_ASSIGNMENT');
  assert.match(gap.errorMessage ?? '', /consecutive 0-based/);
  const unknown = await create('manual-unknown', [{ partitionIndex: 0, brokerIds: [7] }]);
  assert.equal(unknown.errorCode, 39, `unknown broker: ${unknown.errorMessage}`);
  const repeated = await create('manual-repeated', [{ partitionIndex: 0, brokerIds: [1, 1] }]);
  assert.equal(repeated.errorCode, 39, `repeated broker: ${repeated.errorMessage}`);
  const listed = await conn.request(3, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  assert.deepEqual(listed.topics.map((t) => t.name).filter((n) => n?.startsWith('manual-')), ['manual-ok'], 'nothing refused was created');
});
