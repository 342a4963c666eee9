// Goal: a rolling restart (SIGTERM, restart, wait until back in sync; broker by broker, as
// `systemctl restart` on each host) loses and duplicates nothing while idempotent producers write with
// acks=all and a consumer group reads: every broker hands its leaderships over before it exits, exits
// 0, and rejoins in sync; the group reads every acknowledged message. The longest gap between two
// acknowledged sends to one partition is reported (the produce stall clients see; benchmarks hold
// the numbers, docs/benchmarks.md). Afterwards ElectLeaders finds every partition led by its preferred
// replica again.
// Method: three real broker processes; a kcat idempotent producer (one child per batch, librdkafka
// picks partitions by key) and a kafkajs idempotent producer (one partition per send, in turn); a
// kafkajs consumer group of one member; brokers 1, 2, 3 stopped with SIGTERM and restarted in turn.
// Then the topic is read back with raw Fetch and compared with the producers' ledgers
// (delivery-checks.ts), and with what the group consumed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { createReplicatedTopic, createTopicThrough, metadataUntil, withConn } from './cluster-requests.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';
import { checkDelivery, ledger, readTopic, valueOf } from './delivery-checks.ts';
import { produceWithKafkajs, produceWithKcat } from './fault-producers.ts';
import { requireTool } from '../helpers/tools.ts';
import { until } from '../helpers/timeout.ts';
import { OpenClients } from '../helpers/open-clients.ts';

const TOPIC = 'rolling';
const GROUP = 'rolling-readers';
const PARTITIONS = 3;
const ACKS_BETWEEN_RESTARTS = 100;
const TEST_DEADLINE_MS = 150_000;

let cluster: BrokerCluster;
const clients = new OpenClients();

before(async () => {
  cluster = await startCluster(3, { env: { STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '300' } });
  await createReplicatedTopic(cluster.member(1).kafkaPort, TOPIC, PARTITIONS);
  // Replication factor 1, a partition on each broker: nobody can take them over, and a stop must not
  // wait for them (they are offline until their broker is back).
  assert.equal((await createTopicThrough(cluster.member(1).kafkaPort, 'single', 3, 1)).errorCode, 0);
});

after(async () => {
  await clients.closeAll();
  await cluster?.stop();
});

test('a rolling restart of all three brokers under idempotent acks=all produce and a consuming group loses and duplicates nothing', { timeout: TEST_DEADLINE_MS + 60_000 }, async (t) => {
  if (!requireTool(t, 'kcat', { probeArgs: ['-V'] })) return;
  const kcatBook = ledger('kcat-idem', true);
  const jsBook = ledger('kafkajs-idem', true);
  const books = [kcatBook, jsBook];
  const totalAcked = () => books.reduce((n, b) => n + b.acked.size, 0);
  let restarted = false;
  const deadline = Date.now() + TEST_DEADLINE_MS;
  const kafka = new kafkajs.Kafka({ clientId: 'rolling', brokers: cluster.bootstrap, logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1_000 } });

  const consumed = new Set<string>();
  const consumer = await clients.connect(kafka.consumer({ groupId: GROUP, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1_000 } }));
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void consumed.add(message.value?.toString() ?? '') });

  const lastAck = new Map<number, number>();
  const stall = new Map<number, number>();
  const producer = await clients.connect(kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
  const producing = Promise.all([
    produceWithKcat(kcatBook, { brokers: () => cluster.bootstrap, topic: TOPIC, settings: ['-X', 'enable.idempotence=true'], batch: 20, batchesMax: 200, paceMs: 40, stop: () => restarted, afterStop: 3, deadline, timeoutMs: 40_000 }),
    produceWithKafkajs(jsBook, producer, {
      topic: TOPIC,
      batch: 5,
      sendsMax: 2_000,
      paceMs: 20,
      partition: (n) => n % PARTITIONS,
      stop: () => restarted,
      afterStop: 6,
      deadline,
      onAcked: (partition, at) => {
        const before = lastAck.get(partition);
        if (before !== undefined) stall.set(partition, Math.max(stall.get(partition) ?? 0, at - before));
        lastAck.set(partition, at);
      },
    }),
  ]);
  const restarts: string[] = [];
  try {
    for (const id of [1, 2, 3]) {
      const before = totalAcked();
      await until(() => totalAcked() >= before + ACKS_BETWEEN_RESTARTS, 30_000, `${ACKS_BETWEEN_RESTARTS} more acknowledgements before restarting broker ${id}`);
      const stoppedAt = Date.now();
      const code = await cluster.member(id).process!.stop();
      assert.equal(code, 0, `broker ${id} exits 0 on SIGTERM`);
      const stopMs = Date.now() - stoppedAt;
      const log = cluster.member(id).process!.output();
      assert.match(log, /"msg":"leadership handed over"/, `broker ${id} handed every group with another voter over`);
      assert.doesNotMatch(log, /not handed over in time/);
      await cluster.start(id);
      const other = cluster.members.find((m) => m.id !== id)!;
      await metadataUntil(other.kafkaPort, [TOPIC], (m) => m.topics[0]!.partitions.every((p) => p.errorCode === 0 && p.isrNodes.includes(id)), `broker ${id} back in every ISR`, 30_000);
      restarts.push(`broker ${id}: stopped in ${stopMs} ms, back in sync after ${Date.now() - stoppedAt} ms`);
    }
  } finally {
    restarted = true;
  }
  const failures = (await producing).flat();
  t.diagnostic(restarts.join('; '));
  t.diagnostic(`longest gap between acknowledged kafkajs sends per partition: ${[...stall].sort((a, b) => a[0] - b[0]).map(([p, ms]) => `p${p} ${ms} ms`).join(', ')}`);
  t.diagnostic(books.map((b) => `${b.name}: sent ${b.sent}, acknowledged ${b.acked.size}`).join('; '));
  assert.deepEqual(failures, [], 'every batch acknowledged');

  // Leadership went back to the preferred replicas; ElectLeaders (what kafka-leader-election.sh
  // sends) waits for that (up to its 20 s timeout: a leader hands over no sooner than 5 s after it
  // gained the partition) and says so for every partition. The client waits longer than the broker.
  // REQUEST_TIMED_OUT is retriable, as for Kafka's tool: under CI load a hand-over can take longer than
  // one request's 20 s; the partitions it names are asked again (twice at most).
  let pending = [0, 1, 2];
  const answers: string[] = [];
  for (let attempt = 1; attempt <= 3 && pending.length > 0; attempt++) {
    const elected = await withConn(cluster.member(2).kafkaPort, (conn) => conn.request(43, 2, { electionType: 0, topicPartitions: [{ topic: TOPIC, partitions: pending }], timeoutMs: 20_000 }, 25_000));
    const results = elected.replicaElectionResults[0]!.partitionResult;
    answers.push(results.map((p) => `p${p.partitionId}: ${p.errorCode}`).join(', '));
    const codes = results.map((p) => p.errorCode);
    assert.ok(codes.every((c) => c === 0 || c === KafkaErrorCode.ELECTION_NOT_NEEDED || c === KafkaErrorCode.REQUEST_TIMED_OUT), `ElectLeaders answered ${codes.join(', ')}`);
    pending = results.filter((p) => p.errorCode === KafkaErrorCode.REQUEST_TIMED_OUT).map((p) => p.partitionId);
  }
  t.diagnostic(`ElectLeaders: ${answers.join(' / ')}`);
  assert.deepEqual(pending, [], `preferred leaders elected (${answers.join(' / ')})`);
  // Broker 1 hears of the last hand-overs through the leadership gossip: a moment later at most.
  await metadataUntil(cluster.member(1).kafkaPort, [TOPIC], (m) => m.topics[0]!.partitions.every((p) => p.leaderId === p.replicaNodes[0]), 'every partition led by its preferred replica', 5_000);

  const stored = await readTopic(cluster.member(1).kafkaPort, TOPIC, PARTITIONS);
  assert.deepEqual(checkDelivery(stored, books).problems, []);
  // The group reads everything acknowledged (at least once).
  const acknowledged = books.flatMap((b) => [...b.acked].map((s) => valueOf(b.name, s)));
  await until(() => acknowledged.every((v) => consumed.has(v)), 30_000, 'the group to read every acknowledged message');
});
