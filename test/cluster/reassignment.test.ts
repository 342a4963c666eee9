// Goal: a partition moves to other brokers while an idempotent producer writes to it, through Kafka's
// reassignment API (kafkajs admin): the group gains the new broker as a learner, promotes it, and only
// then drops the old one, so nothing acknowledged is lost and nothing is duplicated; the move shows in
// ListPartitionReassignments until it is done, Metadata then lists the new replicas in sync, and the
// broker that left has removed its copy. Refusals: unknown brokers, unknown partitions, and a cancel
// with nothing moving, with Kafka's error codes. Decommission through the CLI (the guide's
// `broker decommission --id=N`): every replica moves off the broker, the command waits and exits 0,
// new topics avoid it, the data stays; a decommission that would leave partitions short of brokers is
// refused; recommission makes it active again.
// Method: four real broker processes on 127.0.0.1; a kafkajs idempotent producer (acks=all) sends
// small batches while the admin client moves partition 0 from brokers 1,2,3 to 2,3,4; afterwards raw
// Fetch reads the topic back (test/cluster/delivery-checks.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { metadataFrom, metadataUntil, withConn, metric } from './cluster-requests.ts';
import { checkDelivery, ledger, readTopic } from './delivery-checks.ts';
import { produceWithKafkajs } from './fault-producers.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';
import { until } from '../helpers/timeout.ts';
import { OpenClients } from '../helpers/open-clients.ts';
import { runCli } from '../helpers/run-cli.ts';

const TOPIC = 'moving';
const BATCH = 5;
const SENDS_MAX = 2_000;
const PACE_MS = 20;
const MOVE_DEADLINE_MS = 60_000;

let cluster: BrokerCluster;
let kafka: kafkajs.Kafka;
const clients = new OpenClients();

before(async () => {
  // Balancing off: these tests decide every move themselves (balancing.test.ts covers it).
  cluster = await startCluster(4, { env: { STREAMBUS_CLUSTER_PARTITION_BALANCING: 'false' } });
  kafka = new kafkajs.Kafka({ clientId: 'reassignment', brokers: cluster.bootstrap, logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1_000 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: TOPIC, replicaAssignment: [{ partition: 0, replicas: [1, 2, 3] }] }] });
  } finally {
    await admin.disconnect();
  }
  await metadataUntil(cluster.member(1).kafkaPort, [TOPIC], (md) => md.topics[0]?.partitions[0]?.isrNodes.length === 3, `${TOPIC} in sync on three brokers`, 30_000);
});

after(async () => {
  await clients.closeAll();
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const partitionDir = (id: number) => join(cluster.member(id).dataDir, 'data', `${TOPIC}-0`);

test('a partition moves from brokers 1,2,3 to 2,3,4 under idempotent acks=all produce: nothing lost or duplicated, the old copy removed', { timeout: MOVE_DEADLINE_MS + 60_000 }, async (t) => {
  const book = ledger('kafkajs-idem', true);
  let moved = false;
  const producer = await clients.connect(kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
  const writing = produceWithKafkajs(book, producer, {
    topic: TOPIC,
    batch: BATCH,
    sendsMax: SENDS_MAX,
    paceMs: PACE_MS,
    partition: () => 0,
    stop: () => moved,
    afterStop: 20,
    deadline: Date.now() + MOVE_DEADLINE_MS + 30_000,
  });

  const admin = await clients.connect(kafka.admin());
  try {
    await until(() => book.acked.size >= 100, 20_000, '100 acknowledgements before the move');
    assert.ok(existsSync(partitionDir(1)), 'broker 1 holds a copy before the move');
    const startedAt = Date.now();
    await admin.alterPartitionReassignments({ topics: [{ topic: TOPIC, partitionAssignment: [{ partition: 0, replicas: [2, 3, 4] }] }] });
    const listed = await admin.listPartitionReassignments({ topics: [{ topic: TOPIC, partitions: [0] }] });
    // Listed while under way (unless it already finished: a fast machine may get there first).
    if (listed.topics.length > 0) {
      const p = listed.topics[0]!.partitions[0]!;
      assert.deepEqual([p.replicas, p.addingReplicas, p.removingReplicas], [[2, 3, 4, 1], [4], [1]]);
    }
    for (;;) {
      const ongoing = await admin.listPartitionReassignments({});
      if (ongoing.topics.length === 0) break;
      assert.ok(Date.now() - startedAt < MOVE_DEADLINE_MS, `the move did not finish: ${JSON.stringify(ongoing.topics)}`);
      await sleep(200);
    }
    const md = await metadataUntil(
      cluster.member(4).kafkaPort,
      [TOPIC],
      (m) => [...m.topics[0]!.partitions[0]!.replicaNodes].sort().join() === '2,3,4' && m.topics[0]!.partitions[0]!.isrNodes.length === 3,
      'replicas 2,3,4 in sync',
      20_000,
    );
    t.diagnostic(`moved in ${Date.now() - startedAt} ms; leader now ${md.topics[0]!.partitions[0]!.leaderId}; ${book.acked.size} acknowledged so far`);
    await until(() => !existsSync(partitionDir(1)), 20_000, 'broker 1 removes its copy');
    assert.ok(existsSync(partitionDir(4)), 'broker 4 holds a copy');
  } finally {
    moved = true;
    const failures = await writing;
    await producer.disconnect();
    await admin.disconnect();
    assert.deepEqual(failures, [], 'every batch acknowledged');
  }
  const stored = await readTopic(cluster.member(4).kafkaPort, TOPIC, 1);
  const report = checkDelivery(stored, [book]);
  t.diagnostic(`stored ${stored.length} records, ${book.acked.size} acknowledged`);
  assert.deepEqual(report.problems, []);
});

test('refused moves carry Kafka error codes; a cancel with nothing moving is NO_REASSIGNMENT_IN_PROGRESS', async () => {
  const answer = await withConn(cluster.member(2).kafkaPort, (conn) =>
    conn.request(45, 0, {
      timeoutMs: 10_000,
      topics: [
        { name: TOPIC, partitions: [{ partitionIndex: 0, replicas: [2, 3, 9] }, { partitionIndex: 5, replicas: [1, 2, 3] }, { partitionIndex: 0, replicas: null }] },
        { name: 'no-such-topic', partitions: [{ partitionIndex: 0, replicas: [1, 2, 3] }] },
      ],
    }),
  );
  const codes = answer.responses.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]);
  assert.deepEqual(codes, [
    [TOPIC, [[0, KafkaErrorCode.INVALID_REPLICA_ASSIGNMENT], [0, KafkaErrorCode.NO_REASSIGNMENT_IN_PROGRESS], [5, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
    ['no-such-topic', [[0, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
  ]);
  const list = await withConn(cluster.member(3).kafkaPort, (conn) => conn.request(46, 0, { timeoutMs: 10_000, topics: null }));
  assert.deepEqual(list.topics, []);
});

const cli = (...args: string[]) => runCli(args, 90_000);

test('broker decommission --id 4 moves every replica off broker 4, waits until it is drained, keeps the data; short of brokers is refused', { timeout: 150_000 }, async () => {
  const http = `127.0.0.1:${cluster.member(1).httpPort}`;
  const admin = await clients.connect(kafka.admin());
  const producer = await clients.connect(kafka.producer({ idempotent: true }));
  try {
    await admin.createTopics({ topics: [{ topic: 'spread', numPartitions: 4, replicationFactor: 3 }], waitForLeaders: true });
    const values = Array.from({ length: 40 }, (_, i) => `spread-${i}`);
    await producer.send({ topic: 'spread', acks: -1, messages: values.map((value, i) => ({ value, partition: i % 4 })) });
    const before = await metadataUntil(cluster.member(1).kafkaPort, ['spread'], (m) => m.topics[0]!.partitions.every((p) => p.isrNodes.length === 3), 'spread in sync', 30_000);
    assert.ok(before.topics[0]!.partitions.some((p) => p.replicaNodes.includes(4)), 'broker 4 holds replicas of spread');

    const run = await cli('broker', 'decommission', '--id', '4', '--http', http, '--timeout', '80');
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /broker 4: drained/);
    const md = await metadataFrom(cluster.member(2).kafkaPort, null);
    const holding = md.topics.flatMap((t) => t.partitions.filter((p) => p.replicaNodes.includes(4)).map((p) => `${t.name}-${p.partitionIndex}`));
    assert.deepEqual(holding, [], 'no partition names broker 4');
    const listed = await cli('broker', 'list', '--http', http, '--json');
    assert.equal(listed.status, 0, listed.stderr);
    const four = (JSON.parse(listed.stdout) as { id: number; state: string; replicas: number }[]).find((b) => b.id === 4)!;
    assert.deepEqual([four.state, four.replicas], ['drained', 0]);
    assert.deepEqual([await metric(cluster.member(3).httpPort, 'streambus_brokers_draining'), await metric(cluster.member(3).httpPort, 'streambus_partitions_moving')], [1, 0]);

    // New partitions avoid a decommissioned broker.
    await admin.createTopics({ topics: [{ topic: 'after-drain', numPartitions: 6, replicationFactor: 3 }] });
    const placed = await metadataFrom(cluster.member(1).kafkaPort, ['after-drain']);
    assert.ok(placed.topics[0]!.partitions.every((p) => !p.replicaNodes.includes(4)), 'after-drain placed on broker 4');

    // Three brokers left for replication factor 3: taking one more away is refused.
    const refused = await cli('broker', 'decommission', '--id', '3', '--http', http, '--no-wait');
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /would leave .* with 2 broker\(s\) to hold them/);

    const back = await cli('broker', 'recommission', '--id', '4', '--http', http);
    assert.equal(back.status, 0, back.stderr);
    assert.match(back.stdout, /broker 4: active/);

    const stored = await readTopic(cluster.member(1).kafkaPort, 'spread', 4);
    assert.deepEqual(stored.map((r) => r.value).sort(), [...values].sort(), 'every record survived the moves');
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
});
