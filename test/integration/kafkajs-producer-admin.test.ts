// Goal: kafkajs 2.2.4 works against a real broker for producing (acks=-1, and idempotent with one
// request in flight) and for the admin client: create topics (explicit partitions, the broker default
// when kafkajs sends -1, configs, duplicates), list, fetch metadata, describe configs, delete, and read
// and reset a group's committed offsets.
// Method: one broker process (default partitions 2, short initial rebalance delay); what kafkajs
// reports is checked against what a raw Fetch reads back from the broker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { RawKafka, fetchAll } from '../helpers/raw-kafka.ts';
import { withTimeout } from '../helpers/timeout.ts';
import { splitBatches } from '../../src/protocol/kafka/record-batch/index.ts';

// kafkajs is CommonJS and builds its exports object in a way Node cannot name statically.
const { Kafka: KafkaClient, logLevel, ConfigResourceTypes } = kafkajs;

let broker: BrokerProcess;
let kafka: Kafka;
let admin: Admin;

before(async () => {
  broker = await startBroker({ env: { STREAMBUS_KAFKA_DEFAULT_PARTITIONS: '2', STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '100' } });
  kafka = new KafkaClient({ clientId: 'kafkajs-it', brokers: [`127.0.0.1:${broker.kafkaPort}`], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
  admin = kafka.admin();
  await admin.connect();
});

after(async () => {
  await admin?.disconnect();
  const code = await broker?.stop();
  assert.equal(code, 0, broker?.output());
});

async function readBack(topic: string, partition: number): Promise<{ values: string[]; producerIds: bigint[] }> {
  const conn = await RawKafka.connect(broker.kafkaPort);
  try {
    const { records } = await fetchAll(conn, topic, partition);
    records.forEach((r, i) => assert.equal(r.offset, BigInt(i), 'offsets are contiguous from 0'));
    // One more fetch from 0 to see the batch headers' producer ids.
    const res = await conn.request(1, 11, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1n }] }],
      forgottenTopicsData: [], rackId: '',
    });
    const bytes = res.responses[0]!.partitions[0]!.records;
    const producerIds = bytes ? splitBatches(bytes).map(({ start }) => bytes.readBigInt64BE(start + 43)) : [];
    return { values: records.map((r) => r.value ?? ''), producerIds };
  } finally {
    conn.close();
  }
}

test('producer acks=-1: every send is acknowledged with contiguous offsets, and the log holds exactly what was sent', async () => {
  await admin.createTopics({ topics: [{ topic: 'acks-all', numPartitions: 3 }] });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const sent = new Map<number, string[]>([[0, []], [1, []], [2, []]]);
  try {
    for (let round = 0; round < 20; round++) {
      const messages = Array.from({ length: 25 }, (_, i) => ({ partition: (round + i) % 3, key: `k${round}-${i}`, value: `v${round}-${i}` }));
      const result = await producer.send({ topic: 'acks-all', acks: -1, messages });
      for (const r of result) {
        assert.equal(r.errorCode, 0);
        // baseOffset is the offset of this send's first message in that partition: the next free one.
        assert.equal(r.baseOffset, String(sent.get(r.partition)!.length));
      }
      for (const m of messages) sent.get(m.partition)!.push(m.value);
    }
  } finally {
    await producer.disconnect();
  }
  for (const [partition, values] of sent) assert.deepEqual((await readBack('acks-all', partition)).values, values);
});

test('idempotent producer (maxInFlightRequests 1): messages stored once, in batches carrying its producer id', async () => {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const values: string[] = [];
  try {
    for (let round = 0; round < 20; round++) {
      const messages = Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `idem-${round}-${i}` }));
      const [r] = await producer.send({ topic: 'idempotent', acks: -1, messages });
      assert.equal(r!.errorCode, 0);
      assert.equal(r!.baseOffset, String(values.length));
      values.push(...messages.map((m) => m.value));
    }
  } finally {
    await producer.disconnect();
  }
  const stored = await readBack('idempotent', 0);
  assert.deepEqual(stored.values, values);
  assert.ok(stored.producerIds.length > 0);
  assert.equal(new Set(stored.producerIds).size, 1, 'one producer id for the whole session');
  assert.ok(stored.producerIds[0]! >= 0n, 'batches carry the id InitProducerId handed out');
});

test('admin: create (explicit, default partitions, with configs), duplicates, list, metadata, describe configs, delete', async () => {
  assert.equal(await admin.createTopics({ topics: [{ topic: 'admin-four', numPartitions: 4 }] }), true);
  // kafkajs sends num_partitions -1 and replication_factor -1 when they are not given: broker defaults.
  assert.equal(await admin.createTopics({ topics: [{ topic: 'admin-default' }] }), true);
  assert.equal(
    await admin.createTopics({ topics: [{ topic: 'admin-configured', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'cleanup.policy', value: 'compact' }] }] }),
    true,
  );
  // Every topic already existing: kafkajs reports false rather than throwing.
  assert.equal(await admin.createTopics({ topics: [{ topic: 'admin-four', numPartitions: 4 }] }), false);

  const listed = await admin.listTopics();
  for (const t of ['admin-four', 'admin-default', 'admin-configured']) assert.ok(listed.includes(t), `${t} listed`);

  const { topics } = await admin.fetchTopicMetadata({ topics: ['admin-four', 'admin-default'] });
  const byName = new Map(topics.map((t) => [t.name, t]));
  assert.equal(byName.get('admin-four')!.partitions.length, 4);
  assert.equal(byName.get('admin-default')!.partitions.length, 2, 'broker default partitions (2) used for -1');
  for (const t of topics) {
    for (const p of t.partitions) {
      assert.equal(p.leader, 1);
      assert.deepEqual(p.replicas, [1]);
      assert.deepEqual(p.isr, [1]);
    }
  }
  const all = await admin.fetchTopicMetadata();
  assert.ok(all.topics.some((t) => t.name === 'admin-configured'), 'metadata for all topics');

  const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'admin-configured' }] });
  assert.equal(described.resources.length, 1);
  const resource = described.resources[0]!;
  assert.equal(resource.errorCode, 0);
  const entries = new Map(resource.configEntries.map((e) => [e.configName, e]));
  assert.equal(entries.get('retention.ms')?.configValue, '3600000');
  assert.equal(entries.get('retention.ms')?.isDefault, false);
  assert.equal(entries.get('cleanup.policy')?.configValue, 'compact');
  assert.ok(entries.has('max.message.bytes'), 'defaults are described too');
  const one = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'admin-four', configNames: ['retention.ms'] }] });
  assert.deepEqual(one.resources[0]!.configEntries.map((e) => e.configName), ['retention.ms']);

  await admin.deleteTopics({ topics: ['admin-four', 'admin-default', 'admin-configured'], timeout: 5000 });
  const after = await admin.listTopics();
  for (const t of ['admin-four', 'admin-default', 'admin-configured']) assert.ok(!after.includes(t), `${t} deleted`);
  // A deleted name can be created again, empty.
  assert.equal(await admin.createTopics({ topics: [{ topic: 'admin-four', numPartitions: 1 }] }), true);
  const again = await admin.fetchTopicMetadata({ topics: ['admin-four'] });
  assert.equal(again.topics[0]!.partitions.length, 1);
});

test('admin: fetchOffsets after a consumer commits, and resetOffsets to earliest and latest', async () => {
  await admin.createTopics({ topics: [{ topic: 'offsets-topic', numPartitions: 2 }] });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'offsets-topic', messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: `m${i}` })) });
  await producer.disconnect();

  // Nothing committed yet: offset -1 per partition, not an error.
  const none = await admin.fetchOffsets({ groupId: 'offsets-group', topics: ['offsets-topic'] });
  assert.deepEqual(none[0]!.partitions.map((p) => p.offset).sort(), ['-1', '-1']);

  const consumer = kafka.consumer({ groupId: 'offsets-group', heartbeatInterval: 300, sessionTimeout: 6000, maxWaitTimeInMs: 100 });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: 'offsets-topic', fromBeginning: true });
    let seen = 0;
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: true,
        eachMessage: async () => {
          seen++;
          if (seen === 10) resolve();
        },
      });
    });
    await withTimeout(done, 20_000, 'consumer did not read the 10 messages');
  } finally {
    await consumer.disconnect(); // commits what it read, then leaves the group
  }

  const committed = await admin.fetchOffsets({ groupId: 'offsets-group', topics: ['offsets-topic'] });
  assert.deepEqual(committed[0]!.partitions.sort((a, b) => a.partition - b.partition).map((p) => [p.partition, p.offset]), [[0, '5'], [1, '5']]);

  // resetOffsets joins the (empty) group with a paused consumer and commits the logical offsets -2
  // (earliest) or -1 (latest), which the broker stores as given, as Kafka does. Each call costs about
  // five seconds of kafkajs's own fetch wait, so the test resolves nothing further.
  await admin.resetOffsets({ groupId: 'offsets-group', topic: 'offsets-topic', earliest: true });
  const earliest = await admin.fetchOffsets({ groupId: 'offsets-group', topics: ['offsets-topic'] });
  assert.deepEqual(earliest[0]!.partitions.map((p) => p.offset), ['-2', '-2']);

  await admin.resetOffsets({ groupId: 'offsets-group', topic: 'offsets-topic', earliest: false });
  const latest = await admin.fetchOffsets({ groupId: 'offsets-group', topics: ['offsets-topic'] });
  assert.deepEqual(latest[0]!.partitions.map((p) => p.offset), ['-1', '-1']);
});
