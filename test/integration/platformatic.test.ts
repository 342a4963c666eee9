// Goal: @platformatic/kafka 1.35 works against a real broker on this Node version: its admin creates
// a topic, its producer (plain and idempotent) writes, and its group consumer (ApiVersions v3,
// Metadata v9+, FindCoordinator v4, JoinGroup v6, SyncGroup v4, OffsetFetch v8, ListOffsets v5,
// Fetch v12 asking for a new session every time, OffsetCommit v8) reads everything back, commits, and
// a second consumer of the same group starts where the first stopped; every call of its Admin is
// answered as Kafka answers it (topics, partitions, offsets, records, group offsets, groups, configs,
// client quotas, log directories); its own DescribeTopicPartitions codec reads the broker's pages.
// Method: one broker process; what the clients report is checked against a raw Fetch of the log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Connection, Consumer, describeTopicPartitionsV0, Producer, stringDeserializers, stringSerializers, type Message } from '@platformatic/kafka';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { RawKafka, fetchAll, fetchOffsets } from '../helpers/raw-kafka.ts';
import { withTimeout } from '../helpers/timeout.ts';

const TOPIC = 'plt';
const PARTITIONS = 3;

let broker: BrokerProcess;
let bootstrap: string[];

before(async () => {
  broker = await startBroker({ env: { STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '100' } });
  bootstrap = [`127.0.0.1:${broker.kafkaPort}`];
});

after(async () => {
  const code = await broker?.stop();
  assert.equal(code, 0, broker?.output());
});

type StringMessage = Message<string, string, string, string>;

/** Reads `count` messages from a group consumer stream; bounded by time. */
async function readMessages(consumer: Consumer<string, string, string, string>, mode: 'earliest' | 'committed', count: number): Promise<StringMessage[]> {
  const stream = await consumer.consume({ topics: [TOPIC], mode, autocommit: false, maxWaitTime: 100, sessionTimeout: 6000, heartbeatInterval: 500 });
  const out: StringMessage[] = [];
  try {
    await withTimeout(
      (async () => {
        for await (const message of stream as AsyncIterable<StringMessage>) {
          out.push(message);
          if (out.length === count) break;
        }
      })(),
      30_000,
      `read ${out.length} of ${count} messages`,
    );
    // Commit the next offset of every partition read (one commit per partition's last message).
    const last = new Map<number, StringMessage>();
    for (const m of out) last.set(m.partition, m);
    for (const m of last.values()) await m.commit();
  } finally {
    await stream.close();
  }
  return out;
}

test('@platformatic/kafka 1.35: admin, producers (plain, idempotent) and a group consumer that resumes at its commit', { timeout: 120_000 }, async () => {
  const admin = new Admin({ clientId: 'plt-admin', bootstrapBrokers: bootstrap });
  const producer = new Producer({ clientId: 'plt-producer', bootstrapBrokers: bootstrap, serializers: stringSerializers, acks: -1 });
  const idempotent = new Producer({ clientId: 'plt-idempotent', bootstrapBrokers: bootstrap, serializers: stringSerializers, idempotent: true });
  const consumers: Consumer<string, string, string, string>[] = [];
  const newConsumer = () => {
    const c = new Consumer({ clientId: 'plt-consumer', groupId: 'plt-group', bootstrapBrokers: bootstrap, deserializers: stringDeserializers });
    consumers.push(c);
    return c;
  };
  try {
    await admin.createTopics({ topics: [TOPIC], partitions: PARTITIONS, replicas: 1 });
    const metadata = await admin.metadata({ topics: [TOPIC] });
    assert.equal(metadata.topics.get(TOPIC)?.partitionsCount, PARTITIONS);

    const sent = new Map<number, string[]>(Array.from({ length: PARTITIONS }, (_, p) => [p, []]));
    for (let round = 0; round < 10; round++) {
      const messages = Array.from({ length: 30 }, (_, i) => ({ topic: TOPIC, partition: i % PARTITIONS, key: `k${round}-${i}`, value: `plain-${round}-${i}`, headers: { round: String(round) } }));
      const result = await producer.send({ messages });
      assert.ok(result.offsets && result.offsets.length > 0, 'acks=-1 sends report offsets');
      for (const m of messages) sent.get(m.partition)!.push(m.value);
    }
    for (let round = 0; round < 5; round++) {
      const messages = Array.from({ length: 20 }, (_, i) => ({ topic: TOPIC, partition: i % PARTITIONS, key: `i${round}-${i}`, value: `idem-${round}-${i}` }));
      await idempotent.send({ messages });
      for (const m of messages) sent.get(m.partition)!.push(m.value);
    }
    const total = [...sent.values()].reduce((a, v) => a + v.length, 0);

    // The admin's log directories: every partition of the topic on the one broker, none empty.
    const dirs = await admin.describeLogDirs({ topics: [{ name: TOPIC, partitions: Array.from({ length: PARTITIONS }, (_, p) => p) }] });
    assert.equal(dirs.length, 1);
    const dirTopic = dirs[0]!.results[0]!.topics.find((t) => t.name === TOPIC);
    assert.deepEqual(dirTopic?.partitions.map((p) => p.partitionIndex).sort(), Array.from({ length: PARTITIONS }, (_, p) => p));
    assert.ok(dirTopic!.partitions.every((p) => p.partitionSize > 0n), 'each partition holds its records');

    // The log holds exactly what was sent, in order per partition.
    const conn = await RawKafka.connect(broker.kafkaPort);
    for (const [partition, values] of sent) assert.deepEqual((await fetchAll(conn, TOPIC, partition)).records.map((r) => r.value), values);
    conn.close();

    const first = await readMessages(newConsumer(), 'earliest', total);
    const byPartition = new Map<number, StringMessage[]>();
    for (const m of first) byPartition.set(m.partition, [...(byPartition.get(m.partition) ?? []), m]);
    for (const [partition, values] of sent) {
      const got = byPartition.get(partition) ?? [];
      assert.deepEqual(got.map((m) => m.value), values, `partition ${partition}: values in order`);
      assert.deepEqual(got.map((m) => m.offset), values.map((_, i) => BigInt(i)), `partition ${partition}: offsets`);
    }
    const withHeader = first.find((m) => m.value === 'plain-3-4')!;
    assert.equal(withHeader.key, 'k3-4');
    assert.equal(withHeader.headers.get('round'), '3');
    await consumers[0]!.close();

    // A new member of the group starts at the committed offsets: it sees only what comes next.
    await producer.send({ messages: Array.from({ length: 6 }, (_, i) => ({ topic: TOPIC, partition: i % PARTITIONS, value: `late-${i}` })) });
    const second = await readMessages(newConsumer(), 'committed', 6);
    assert.deepEqual(second.map((m) => m.value).sort(), ['late-0', 'late-1', 'late-2', 'late-3', 'late-4', 'late-5']);
    await consumers[1]!.close();

    // The group is empty again: the admin deletes the committed offset of one partition (OffsetDelete).
    const deleted = await admin.deleteConsumerGroupOffsets({ groupId: 'plt-group', topics: [{ name: TOPIC, partitionIndexes: [0] }] });
    assert.deepEqual(deleted, [{ name: TOPIC, partitionIndexes: [0] }]);
    const check = await RawKafka.connect(broker.kafkaPort);
    try {
      const offsets = await fetchOffsets(check, 'plt-group', TOPIC, Array.from({ length: PARTITIONS }, (_, p) => p));
      assert.equal(offsets.get(0), -1n, 'partition 0 has no committed offset any more');
      for (let p = 1; p < PARTITIONS; p++) assert.ok(offsets.get(p)! > 0n, `partition ${p} keeps its offset`);
    } finally {
      check.close();
    }
  } finally {
    await Promise.allSettled(consumers.map((c) => c.close(true)));
    await Promise.allSettled([producer.close(), idempotent.close(), admin.close()]);
  }
});

const ADMIN_TOPIC = 'plt-admin';
const ADMIN_GROUP = 'plt-admin-group';

test('@platformatic/kafka 1.x Admin: every call is answered as Kafka answers it', { timeout: 120_000 }, async () => {
  const admin = new Admin({ clientId: 'plt-admin', bootstrapBrokers: bootstrap });
  const producer = new Producer({ clientId: 'plt-admin-producer', bootstrapBrokers: bootstrap, serializers: stringSerializers, acks: -1 });
  const consumer = new Consumer({ clientId: 'plt-admin-consumer', groupId: ADMIN_GROUP, bootstrapBrokers: bootstrap, deserializers: stringDeserializers });
  try {
    // Topics and partitions.
    const [created] = await admin.createTopics({ topics: [ADMIN_TOPIC], partitions: 2, replicas: 1 });
    assert.equal(created!.name, ADMIN_TOPIC);
    await admin.createPartitions({ topics: [{ name: ADMIN_TOPIC, count: 3 }] });
    assert.ok((await admin.listTopics()).includes(ADMIN_TOPIC));
    assert.equal((await admin.metadata({ topics: [ADMIN_TOPIC] })).topics.get(ADMIN_TOPIC)?.partitionsCount, 3);
    await producer.send({ messages: Array.from({ length: 9 }, (_, i) => ({ topic: ADMIN_TOPIC, partition: i % 3, value: `v${i}` })) });

    // Offsets and records.
    const listed = await admin.listOffsets({ topics: [{ name: ADMIN_TOPIC, partitions: [0, 1, 2].map((p) => ({ partitionIndex: p, timestamp: -1n })) }] });
    assert.deepEqual(listed[0]!.partitions.map((p) => [p.partitionIndex, p.offset]).sort(), [[0, 3n], [1, 3n], [2, 3n]]);
    const deleted = await admin.deleteRecords({ topics: [{ name: ADMIN_TOPIC, partitions: [{ partition: 2, offset: 1n }] }] });
    assert.deepEqual(deleted[0]!.partitions, [{ partition: 2, lowWatermark: 1n }]);

    // Group offsets for a group with no members: alter, list, delete one.
    await admin.alterConsumerGroupOffsets({ groupId: ADMIN_GROUP, topics: [{ name: ADMIN_TOPIC, partitionOffsets: [{ partition: 0, offset: 1n }, { partition: 1, offset: 2n }] }] });
    const offsets = await admin.listConsumerGroupOffsets({ groups: [ADMIN_GROUP] });
    assert.deepEqual(offsets[0]!.topics.find((t) => t.name === ADMIN_TOPIC)?.partitions.map((p) => [p.partitionIndex, p.committedOffset]).sort(), [[0, 1n], [1, 2n]]);
    await admin.deleteConsumerGroupOffsets({ groupId: ADMIN_GROUP, topics: [{ name: ADMIN_TOPIC, partitionIndexes: [1] }] });
    const afterDelete = await admin.listConsumerGroupOffsets({ groups: [{ groupId: ADMIN_GROUP, topics: [{ name: ADMIN_TOPIC, partitionIndexes: [0, 1] }] }] });
    assert.deepEqual(afterDelete[0]!.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset]), [[0, 1n], [1, -1n]]);

    // A group with a member: listed, described, found; the member removed; the empty group deleted.
    const stream = await consumer.consume({ topics: [ADMIN_TOPIC], mode: 'earliest', autocommit: false, maxWaitTime: 100, sessionTimeout: 6000, heartbeatInterval: 500 });
    try {
      await withTimeout(
        (async () => {
          for (;;) {
            const groups = await admin.listGroups();
            if (groups.get(ADMIN_GROUP)?.state === 'STABLE') return;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        })(),
        30_000,
        'the group becomes stable',
      );
      const described = (await admin.describeGroups({ groups: [ADMIN_GROUP] })).get(ADMIN_GROUP)!;
      assert.equal(described.protocolType, 'consumer');
      assert.equal(described.members.size, 1);
      const [coordinator] = await admin.findCoordinator({ keyType: 0, keys: [ADMIN_GROUP] });
      assert.equal(coordinator!.port, broker.kafkaPort);
      const memberId = [...described.members.keys()][0]!;
      await admin.removeMembersFromConsumerGroup({ groupId: ADMIN_GROUP, members: [{ memberId }] });
    } finally {
      await stream.close().catch(() => undefined);
      await consumer.close(true);
    }
    await withTimeout(
      (async () => {
        while ((await admin.listGroups()).get(ADMIN_GROUP)?.state !== 'EMPTY') await new Promise((resolve) => setTimeout(resolve, 100));
      })(),
      30_000,
      'the group is empty',
    );
    await admin.deleteGroups({ groups: [ADMIN_GROUP] });
    assert.equal((await admin.listGroups()).has(ADMIN_GROUP), false);

    // Configs.
    await admin.incrementalAlterConfigs({ resources: [{ resourceType: 2, resourceName: ADMIN_TOPIC, configs: [{ name: 'retention.ms', configOperation: 0, value: '3600000' }] }] });
    const configs = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: ADMIN_TOPIC, configurationKeys: ['retention.ms'] }] });
    assert.equal(configs[0]!.configs.find((c) => c.name === 'retention.ms')?.value, '3600000');

    // Client quotas.
    await admin.alterClientQuotas({ entries: [{ entities: [{ entityType: 'client-id', entityName: 'slow-client' }], ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }] }] });
    const quotas = await admin.describeClientQuotas({ components: [{ entityType: 'client-id', matchType: 0, match: 'slow-client' }] });
    assert.deepEqual(quotas.map((q) => q.values.map((v) => [v.key, v.value])), [[['producer_byte_rate', 1024]]]);

    // Log directories, then the topic goes.
    const dirs = await admin.describeLogDirs({ topics: [{ name: ADMIN_TOPIC, partitions: [0, 1, 2] }] });
    assert.equal(dirs[0]!.results[0]!.topics[0]!.partitions.length, 3);
    await admin.deleteTopics({ topics: [ADMIN_TOPIC] });
    assert.equal((await admin.listTopics()).includes(ADMIN_TOPIC), false);
  } finally {
    await Promise.allSettled([producer.close(), admin.close()]);
  }
});

test('@platformatic/kafka 1.x: its DescribeTopicPartitions codec reads the broker\'s pages', { timeout: 60_000 }, async () => {
  const admin = new Admin({ clientId: 'plt-dtp-admin', bootstrapBrokers: bootstrap });
  const conn = new Connection('plt-dtp');
  try {
    await admin.createTopics({ topics: ['plt-dtp'], partitions: 3, replicas: 1 });
    await new Promise<void>((resolve, reject) => conn.connect('127.0.0.1', broker.kafkaPort, (err) => (err ? reject(err) : resolve())));
    const first = await describeTopicPartitionsV0.api.async(conn, [{ name: 'plt-dtp' }], 2, undefined);
    assert.deepEqual(first.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => [p.partitionIndex, p.leaderId, p.replicaNodes])]), [['plt-dtp', 0, [[0, 1, [1]], [1, 1, [1]]]]]);
    assert.deepEqual(first.nextCursor, { topicName: 'plt-dtp', partitionIndex: 2 });
    const rest = await describeTopicPartitionsV0.api.async(conn, [{ name: 'plt-dtp' }], 2, first.nextCursor!);
    assert.deepEqual(rest.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]), [['plt-dtp', [2]]]);
    assert.equal(rest.nextCursor, undefined, 'no cursor after the last partition');
  } finally {
    await new Promise<void>((resolve) => conn.close(() => resolve()));
    await admin.close();
  }
});
