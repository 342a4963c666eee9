// Goal: three `streambus broker` processes listed in each other's cluster.nodes form one cluster that
// Kafka clients use like Kafka: any broker's Metadata lists all three with the same cluster id and
// controller; topics created through any broker are placed evenly and appear everywhere; clients
// bootstrapped with one broker produce to and consume from the leaders; a request to a broker that does
// not lead the partition gets NOT_LEADER_OR_FOLLOWER; consumer groups find their coordinator; a broker
// restarts and rejoins with its metadata; with one broker down the other two still decide metadata.
// Every partition is a Raft group over its three replicas: Metadata shows all three in sync, and
// leadership settles on the preferred replica, so leaders are spread as placement spread them.
// Method: real processes on 127.0.0.1 with free ports (test/helpers/broker-cluster.ts), kafkajs for
// admin, produce and a consumer group, raw requests for the error cases.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { type Kafka } from 'kafkajs';
import { spawnSync } from 'node:child_process';
import { requireTool } from '../helpers/tools.ts';
import { OpenClients } from '../helpers/open-clients.ts';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { produceBody, RawKafka, textBatch } from '../helpers/raw-kafka.ts';
import { createTopicThrough, metadataFrom, metadataUntil, withConn, metric } from './cluster-requests.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';
import { until, withTimeout } from '../helpers/timeout.ts';
import { offsetsPartitionFor } from '../../src/metadata/offsets-partition.ts';

const { Kafka: KafkaClient, logLevel } = kafkajs;

let cluster: BrokerCluster;
const clients = new OpenClients();
const clientFor = (bootstrap: string[]): Kafka =>
  new KafkaClient({ clientId: 'cluster-test', brokers: bootstrap, logLevel: logLevel.NOTHING, retry: { retries: 12, initialRetryTime: 100, maxRetryTime: 1000 } });

before(async () => {
  cluster = await startCluster(3);
});

after(async () => {
  await clients.closeAll();
  await cluster?.stop();
});

test('every broker lists the same three brokers, cluster id and controller', async () => {
  // A broker is ready once its own registration applied; the others' reach it a moment later.
  const answers = await Promise.all(cluster.members.map((m) => metadataUntil(m.kafkaPort, null, (md) => md.brokers.length === 3, `broker ${m.id} lists three brokers`)));
  for (const a of answers) {
    assert.deepEqual(a.brokers.map((b) => [b.nodeId, b.port]).sort(), cluster.members.map((m) => [m.id, m.kafkaPort]).sort());
  }
  assert.equal(new Set(answers.map((a) => a.clusterId)).size, 1);
  assert.equal(new Set(answers.map((a) => a.controllerId)).size, 1);
  assert.ok([1, 2, 3].includes(answers[0]!.controllerId));
});

test('a topic created through one broker is placed evenly and described alike by all', async () => {
  const admin = clientFor([cluster.bootstrap[0]!]).admin();
  await clients.connect(admin);
  try {
    assert.equal(await admin.createTopics({ topics: [{ topic: 'spread', numPartitions: 6, replicationFactor: 3 }], waitForLeaders: true }), true);
  } finally {
    await admin.disconnect();
  }
  // Every broker applies the creation and opens its partitions a moment after the controller decided.
  const ready = (md: Awaited<ReturnType<typeof metadataFrom>>) =>
    md.topics[0]!.partitions.length === 6 && md.topics[0]!.partitions.every((p) => p.errorCode === 0 && p.leaderId === p.replicaNodes[0] && p.isrNodes.length === 3);
  const answers = await Promise.all(cluster.members.map((m) => metadataUntil(m.kafkaPort, ['spread'], ready, `broker ${m.id} describes the new topic`)));
  const partitions = answers[2]!.topics[0]!.partitions;
  assert.equal(partitions.length, 6);
  const leaders = new Map<number, number>();
  for (const p of partitions) {
    assert.equal(p.errorCode, 0);
    assert.equal(p.replicaNodes.length, 3);
    assert.equal(new Set(p.replicaNodes).size, 3);
    assert.equal(p.leaderId, p.replicaNodes[0]);
    assert.deepEqual([...p.isrNodes].sort(), [...p.replicaNodes].sort());
    leaders.set(p.leaderId, (leaders.get(p.leaderId) ?? 0) + 1);
  }
  assert.deepEqual([...leaders.values()], [2, 2, 2], `leaders per broker: ${JSON.stringify([...leaders])}`);
  for (const a of answers) assert.deepEqual(a.topics[0]!.partitions.map((p) => p.leaderId), partitions.map((p) => p.leaderId));
  // DescribeTopicPartitions (Java admin clients from Kafka 3.7), paged four at a time, says the same on every broker.
  const fields = (p: { partitionIndex: number; leaderId: number; leaderEpoch: number; replicaNodes: number[]; isrNodes: number[]; offlineReplicas: number[] }) => [p.partitionIndex, p.leaderId, p.leaderEpoch, p.replicaNodes, [...p.isrNodes].sort(), p.offlineReplicas];
  for (const m of cluster.members) {
    const pages = await withConn(m.kafkaPort, async (conn) => {
      const first = await conn.request(API_KEYS.DescribeTopicPartitions, 0, { topics: [{ name: 'spread' }], responsePartitionLimit: 4, cursor: null });
      assert.deepEqual(first.nextCursor, { topicName: 'spread', partitionIndex: 4 }, `broker ${m.id}: the cursor after four partitions`);
      const rest = await conn.request(API_KEYS.DescribeTopicPartitions, 0, { topics: [{ name: 'spread' }], responsePartitionLimit: 4, cursor: first.nextCursor });
      assert.equal(rest.nextCursor, null);
      return [...first.topics[0]!.partitions, ...rest.topics[0]!.partitions];
    });
    assert.deepEqual(pages.map(fields), partitions.map(fields), `broker ${m.id}: DescribeTopicPartitions against Metadata`);
  }
  // Each broker's log directory holds a replica of every partition, followers' included.
  for (const m of cluster.members) {
    const dirs = await withConn(m.kafkaPort, (conn) => conn.request(API_KEYS.DescribeLogDirs, 4, { topics: [{ topic: 'spread', partitions: [0, 1, 2, 3, 4, 5] }] }));
    assert.deepEqual(dirs.results[0]!.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]), [['spread', [0, 1, 2, 3, 4, 5]]], `broker ${m.id}'s log directory`);
  }
});

test('metrics: one controller leader, every partition led once, none under-replicated', async (t) => {
  const md = await metadataFrom(cluster.members[0]!.kafkaPort);
  const total = md.topics.reduce((n, t) => n + t.partitions.length, 0);
  // Leaderless and under-replicated counts are each broker's view at scrape time: a view may lag a
  // leadership or link change by a gossip round, so they must settle at 0, and a non-zero reading on
  // the way is reported with that broker's Metadata (what it saw).
  const settled = async (): Promise<boolean> => {
    for (const m of cluster.members) {
      const leaderless = await metric(m.httpPort, 'streambus_partitions_leaderless');
      const under = await metric(m.httpPort, 'streambus_partitions_under_replicated');
      if (leaderless === 0 && under === 0) continue;
      const view = await metadataFrom(m.kafkaPort);
      const partitions = view.topics.flatMap((topic) => topic.partitions.map((p) => `${topic.name}-${p.partitionIndex}: leader ${p.leaderId} epoch ${p.leaderEpoch} isr [${p.isrNodes}]`));
      t.diagnostic(`broker ${m.id}: ${leaderless} leaderless, ${under} under-replicated; ${partitions.join('; ')}`);
      return false;
    }
    return true;
  };
  await until(settled, 10_000, 'no partition leaderless or under-replicated on any broker', 250);
  let led = 0;
  let leaders = 0;
  for (const m of cluster.members) {
    led += await metric(m.httpPort, 'streambus_partitions_led');
    leaders += await metric(m.httpPort, 'streambus_raft_leader');
    assert.equal(await metric(m.httpPort, 'streambus_cluster_brokers'), 3);
    // Three replicas on three brokers: each hosts a replica of every partition.
    assert.equal(await metric(m.httpPort, 'streambus_partition_replicas'), total);
    assert.ok((await metric(m.httpPort, 'streambus_replica_lag_entries_max')) >= 0);
    assert.ok((await metric(m.httpPort, 'streambus_raft_term')) >= 1);
  }
  assert.equal(led, total);
  assert.equal(leaders, 1);
});

test('kafkajs bootstrapped with one broker produces to every leader; a consumer group reads everything and commits', async () => {
  const kafka = clientFor([cluster.bootstrap[1]!]);
  const producer = kafka.producer({ idempotent: true });
  await clients.connect(producer);
  const sent = new Set<string>();
  for (let i = 0; i < 60; i++) {
    const value = `m${i}`;
    sent.add(value);
    await producer.send({ topic: 'spread', acks: -1, messages: [{ key: `k${i}`, value, partition: i % 6 }] });
  }
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: 'cluster-readers', sessionTimeout: 10_000 });
  await clients.connect(consumer);
  const seen = new Set<string>();
  await consumer.subscribe({ topic: 'spread', fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.add(message.value!.toString()) });
  await withTimeout(until(() => seen.size === sent.size, 30_000, 'every message consumed'), 35_000, 'consume');
  await consumer.disconnect();
  assert.deepEqual([...seen].sort(), [...sent].sort());

  const admin = kafka.admin();
  await clients.connect(admin);
  const offsets = await admin.fetchOffsets({ groupId: 'cluster-readers', topics: ['spread'] });
  await admin.disconnect();
  const committed = offsets[0]!.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
  assert.equal(committed, 60, JSON.stringify(offsets));
});

test("__consumer_offsets has Kafka's 50 partitions over three replicas; every broker names the leader of a group's partition as its coordinator", async () => {
  const md = await metadataFrom(cluster.members[0]!.kafkaPort, ['__consumer_offsets']);
  const offsets = md.topics[0]!;
  assert.equal(offsets.partitions.length, 50);
  assert.ok(offsets.partitions.every((p) => p.replicaNodes.length === 3));
  for (const group of ['cluster-readers', 'a', 'polygenelubricants']) {
    const expected = offsets.partitions.find((p) => p.partitionIndex === offsetsPartitionFor(group, 50))!.leaderId;
    for (const m of cluster.members) {
      const answer = await withConn(m.kafkaPort, (conn) => conn.request(API_KEYS.FindCoordinator, 4, { key: '', keyType: 0, coordinatorKeys: [group] }));
      assert.equal(answer.coordinators[0]!.errorCode, 0);
      assert.equal(answer.coordinators[0]!.nodeId, expected, `broker ${m.id} for ${group}`);
    }
  }
});

test('kcat -L -J and the kafkajs admin read the same brokers, leaders, replicas, ISR and epochs as Metadata', async (t) => {
  if (!requireTool(t, 'kcat', { probeArgs: ['-V'] })) return;
  const raw = await metadataUntil(
    cluster.member(2).kafkaPort,
    ['spread'],
    (md) => md.topics[0]!.partitions.every((p) => p.errorCode === 0 && p.isrNodes.length === 3),
    'spread fully in sync',
  );
  const expected = [...raw.topics[0]!.partitions]
    .sort((a, b) => a.partitionIndex - b.partitionIndex)
    .map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, replicas: [...p.replicaNodes], isr: [...p.isrNodes].sort() }));

  const run = spawnSync('kcat', ['-b', cluster.bootstrap[0]!, '-L', '-J', '-t', 'spread', '-m', '10'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(run.status, 0, run.stderr);
  const kcat = JSON.parse(run.stdout) as {
    controllerid: number;
    brokers: { id: number; name: string }[];
    topics: { topic: string; partitions: { partition: number; leader: number; replicas: { id: number }[]; isrs: { id: number }[] }[] }[];
  };
  assert.equal(kcat.controllerid, raw.controllerId);
  assert.deepEqual(kcat.brokers.map((b) => b.id).sort(), [1, 2, 3]);
  const fromKcat = [...kcat.topics[0]!.partitions]
    .sort((a, b) => a.partition - b.partition)
    .map((p) => ({ partition: p.partition, leader: p.leader, replicas: p.replicas.map((r) => r.id), isr: p.isrs.map((r) => r.id).sort() }));
  assert.deepEqual(fromKcat, expected);

  const admin = clientFor([cluster.bootstrap[2]!]).admin();
  await clients.connect(admin);
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: ['spread'] });
    const fromAdmin = [...topics[0]!.partitions]
      .sort((a, b) => a.partitionId - b.partitionId)
      .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: [...p.isr].sort() }));
    assert.deepEqual(fromAdmin, expected);
    // Leader epochs are the Raft terms: at least 1 once a leader was elected, alike on every broker.
    for (const m of cluster.members) {
      const md = await metadataFrom(m.kafkaPort, ['spread']);
      for (const p of md.topics[0]!.partitions) {
        const same = raw.topics[0]!.partitions.find((q) => q.partitionIndex === p.partitionIndex)!;
        assert.ok(p.leaderEpoch >= 1);
        if (p.leaderId === same.leaderId) assert.equal(p.leaderEpoch, same.leaderEpoch);
      }
    }
  } finally {
    await admin.disconnect();
  }
});

test('a broker that does not lead a partition answers NOT_LEADER_OR_FOLLOWER and names nobody else as leader', async () => {
  const md = await metadataFrom(cluster.members[0]!.kafkaPort, ['spread']);
  const p = md.topics[0]!.partitions.find((x) => x.leaderId !== 1)!;
  const conn = await RawKafka.connect(cluster.member(1).kafkaPort);
  try {
    const res = await conn.request(API_KEYS.Produce, 9, produceBody('spread', p.partitionIndex, textBatch(['x'])));
    assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, KafkaErrorCode.NOT_LEADER_OR_FOLLOWER);
  } finally {
    conn.socket.destroy();
  }
});

test('a broker restarts and rejoins with its metadata; with one broker down the others still create topics', async () => {
  const stopped = cluster.member(3);
  assert.equal(await stopped.process!.stop(), 0, stopped.process!.output());
  // The others notice the broker is gone: the partitions it led elect another of their replicas.
  const down = await metadataUntil(
    cluster.member(1).kafkaPort,
    ['spread'],
    (md) => md.topics[0]!.partitions.every((p) => p.errorCode === 0 && p.leaderId !== 3) && md.brokers.length === 2,
    'partitions of broker 3 led elsewhere',
  );
  const ledBy3 = down.topics[0]!.partitions.filter((p) => p.replicaNodes[0] === 3);
  assert.ok(ledBy3.length > 0);
  // Clients are not sent to a broker that is down (Kafka leaves fenced brokers out too).
  assert.deepEqual(down.brokers.map((b) => b.nodeId).sort(), [1, 2]);
  for (const p of ledBy3) assert.ok(p.offlineReplicas.includes(3));
  const described = await withConn(cluster.member(1).kafkaPort, (conn) => conn.request(API_KEYS.DescribeTopicPartitions, 0, { topics: [{ name: 'spread' }], responsePartitionLimit: 2000, cursor: null }));
  for (const p of described.topics[0]!.partitions) assert.equal(p.offlineReplicas.includes(3), p.replicaNodes.includes(3), `DescribeTopicPartitions: partition ${p.partitionIndex} names broker 3 offline`);
  // Two of three brokers are a quorum: metadata changes go on, and new replicas avoid the missing broker.
  // (A raw request: kafkajs's admin reads every topic's metadata first and gives up on any partition
  // without a leader, as it would against Kafka.)
  const created = await createTopicThrough(cluster.member(1).kafkaPort, 'while-down', 2, 2);
  assert.equal(created.errorCode, 0, created.message ?? '');
  // Its partitions open on their leaders right after the creation applies there (clients retry meanwhile).
  const placed = await metadataUntil(cluster.member(2).kafkaPort, ['while-down'], (md) => md.topics[0]!.errorCode === 0 && md.topics[0]!.partitions.length === 2 && md.topics[0]!.partitions.every((p) => p.errorCode === 0), 'the new partitions open');
  for (const p of placed.topics[0]!.partitions) {
    assert.ok(!p.replicaNodes.includes(3), `replica placed on the missing broker: ${JSON.stringify(p.replicaNodes)}`);
  }
  await cluster.start(3);
  // Leaders of other brokers count as available once the restarted broker reconnected to them.
  const after = await metadataUntil(stopped.kafkaPort, ['spread', 'while-down'], (md) => md.topics.every((t) => t.errorCode === 0 && t.partitions.every((p) => p.errorCode === 0)), 'every partition led, seen from the restarted broker');
  assert.deepEqual(after.topics.map((t) => [t.name, t.partitions.length]), [['spread', 6], ['while-down', 2]]);
  assert.equal(after.brokers.length, 3);
});
