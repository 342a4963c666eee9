// Goal: a partition replicated over three brokers keeps every acknowledged message when its leader is
// killed with SIGKILL in the middle of acks=all produce: another replica leads within an election,
// the idempotent producer carries on with its normal retries, nothing acknowledged is lost and nothing
// is written twice; the killed broker restarts, catches up from the others and is in sync again.
// Method: three real broker processes (test/helpers/broker-cluster.ts), a kafkajs idempotent producer
// bootstrapped with all three, SIGKILL of the current leader of partition 0 after the first hundred
// acknowledgements, then a consumer reads every partition from the beginning. Then acks=1 and
// min.insync.replicas with a follower down, through raw Produce requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { type Kafka } from 'kafkajs';
import { OpenClients } from '../helpers/open-clients.ts';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { createReplicatedTopic, metadataFrom, metadataUntil } from './cluster-requests.ts';
import { until, withTimeout } from '../helpers/timeout.ts';
import { produceBody, RawKafka, textBatch } from '../helpers/raw-kafka.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';

const TOPIC = 'failover';
const PARTITIONS = 3;
const MESSAGES = 600;
/** Bound on the produce loop, whatever happens. */
const PRODUCE_DEADLINE_MS = 60_000;

let cluster: BrokerCluster;
const clients = new OpenClients();

before(async () => {
  cluster = await startCluster(3);
  await createReplicatedTopic(cluster.member(1).kafkaPort, TOPIC, PARTITIONS);
});

after(async () => {
  await clients.closeAll();
  await cluster?.stop();
});

function clientFor(brokers: string[]): Kafka {
  return new kafkajs.Kafka({
    clientId: 'failover-test',
    brokers,
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
}

test('SIGKILL of a partition leader during acks=all idempotent produce loses and duplicates nothing; the broker rejoins in sync', async () => {
  const kafka = clientFor(cluster.bootstrap);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await clients.connect(producer);
  const acked: string[] = [];
  let killed: number | null = null;
  let killedAt = 0;
  let firstAckAfterKill = 0;
  const deadline = Date.now() + PRODUCE_DEADLINE_MS;
  for (let i = 0; i < MESSAGES && Date.now() < deadline; i++) {
    const value = `m${i}`;
    await producer.send({ topic: TOPIC, acks: -1, messages: [{ key: `k${i}`, value, partition: i % PARTITIONS }] });
    acked.push(value);
    if (killed !== null && firstAckAfterKill === 0 && i % PARTITIONS === 0) firstAckAfterKill = Date.now();
    if (i === 99) {
      const md = await metadataFrom(cluster.member(1).kafkaPort, [TOPIC]);
      killed = md.topics[0]!.partitions.find((p) => p.partitionIndex === 0)!.leaderId;
      killedAt = Date.now();
      await cluster.member(killed).process!.kill();
    }
  }
  await producer.disconnect();
  assert.equal(acked.length, MESSAGES, `only ${acked.length} messages acknowledged before the deadline`);
  assert.ok(killed !== null);
  // Partition 0 moved to another broker; the stall is an election plus the clients' retries.
  const survivor = cluster.members.find((m) => m.id !== killed)!;
  const moved = await metadataFrom(survivor.kafkaPort, [TOPIC]);
  const p0 = moved.topics[0]!.partitions.find((p) => p.partitionIndex === 0)!;
  assert.notEqual(p0.leaderId, killed);
  assert.ok(p0.leaderEpoch > 0);
  assert.ok(firstAckAfterKill - killedAt < 15_000, `partition 0 stalled ${firstAckAfterKill - killedAt} ms`);

  // The killed broker comes back, catches up and is an in-sync replica of every partition again.
  await cluster.start(killed);
  await metadataUntil(
    survivor.kafkaPort,
    [TOPIC],
    (md) => md.topics[0]!.partitions.every((p) => p.errorCode === 0 && p.isrNodes.includes(killed!)),
    `broker ${killed} back in sync`,
  );

  // Every acknowledged message is there exactly once, in the order of its partition.
  const consumer = clientFor([`127.0.0.1:${survivor.kafkaPort}`]).consumer({ groupId: 'failover-readers', sessionTimeout: 10_000 });
  await clients.connect(consumer);
  const seen = new Map<number, string[]>();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  let total = 0;
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const list = seen.get(partition) ?? seen.set(partition, []).get(partition)!;
      list.push(message.value!.toString());
      total++;
    },
  });
  await withTimeout(until(() => total >= acked.length, 30_000, 'every acknowledged message consumed'), 35_000, 'consume');
  // A moment for anything extra (a duplicate) to arrive too.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await consumer.disconnect();
  for (let p = 0; p < PARTITIONS; p++) {
    const expected = acked.filter((_, i) => i % PARTITIONS === p);
    assert.deepEqual(seen.get(p), expected, `partition ${p}`);
  }
});

test('acks=1 is answered by the leader alone; acks=-1 is refused with NOT_ENOUGH_REPLICAS while fewer replicas than min.insync.replicas are in sync', async () => {
  const admin = clientFor(cluster.bootstrap).admin();
  await clients.connect(admin);
  await admin.createTopics({ topics: [{ topic: 'strict', numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '3' }] }] });
  await admin.disconnect();
  // Led by its preferred replica, so leadership does not move back to it during the test.
  const ready = await metadataUntil(
    cluster.member(1).kafkaPort,
    ['strict'],
    (md) => {
      const p = md.topics[0]!.partitions[0];
      return p !== undefined && p.errorCode === 0 && p.isrNodes.length === 3 && p.leaderId === p.replicaNodes[0];
    },
    'strict led by its preferred replica, three in sync',
  );
  const leader = ready.topics[0]!.partitions[0]!.leaderId;
  const follower = cluster.members.find((m) => m.id !== leader)!;
  const produce = async (acks: number): Promise<number> => {
    const conn = await RawKafka.connect(cluster.member(leader).kafkaPort);
    try {
      const res = await conn.request(API_KEYS.Produce, 7, produceBody('strict', 0, textBatch([`acks${acks}`]), acks));
      return res.responses[0]!.partitionResponses[0]!.errorCode;
    } finally {
      conn.socket.destroy();
    }
  };
  assert.equal(await produce(-1), 0);
  assert.equal(await produce(1), 0);

  // A follower dies: once it has fallen out of the in-sync replicas, acks=-1 is refused up front.
  await follower.process!.kill();
  let code = await produce(-1);
  for (let i = 0; i < 100 && code !== KafkaErrorCode.NOT_ENOUGH_REPLICAS; i++) {
    await new Promise((r) => setTimeout(r, 200));
    code = await produce(-1);
  }
  assert.equal(code, KafkaErrorCode.NOT_ENOUGH_REPLICAS);
  // The leader and the other follower are a majority: acks=1 (and a lower min.insync.replicas) go on.
  assert.equal(await produce(1), 0);

  await cluster.start(follower.id);
  await metadataUntil(cluster.member(leader).kafkaPort, ['strict'], (md) => md.topics[0]!.partitions[0]!.isrNodes.length === 3, 'the follower back in sync');
  assert.equal(await produce(-1), 0);
});

test('SIGTERM of a leader hands leadership over before the broker exits: produce stalls briefly, nothing is lost', async () => {
  const kafka = clientFor(cluster.bootstrap);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await clients.connect(producer);
  const md = await metadataFrom(cluster.member(1).kafkaPort, [TOPIC]);
  const leader = md.topics[0]!.partitions.find((p) => p.partitionIndex === 0)!.leaderId;
  const acks: number[] = [];
  const values: string[] = [];
  let stopping: Promise<number | null> | null = null;
  const deadline = Date.now() + 30_000;
  for (let i = 0; i < 150 && Date.now() < deadline; i++) {
    const value = `term${i}`;
    await producer.send({ topic: TOPIC, acks: -1, messages: [{ value, partition: 0 }] });
    acks.push(Date.now());
    values.push(value);
    if (i === 30) stopping = cluster.member(leader).process!.stop();
  }
  await producer.disconnect();
  const output = cluster.member(leader).process!.output();
  assert.equal(await stopping, 0, output);
  assert.match(output, /leadership handed over/);
  let longest = 0;
  for (let i = 31; i < acks.length; i++) longest = Math.max(longest, acks[i]! - acks[i - 1]!);
  // A hand-over is a round trip plus the clients' metadata refresh, not an election timeout; the
  // bound leaves room for a loaded machine. The benchmark reports the real number.
  assert.ok(longest < 3_000, `produce stalled ${longest} ms`);
  await cluster.start(leader);

  const survivor = cluster.members.find((m) => m.id !== leader)!;
  const consumer = clientFor([`127.0.0.1:${survivor.kafkaPort}`]).consumer({ groupId: 'handover-readers', sessionTimeout: 10_000 });
  await clients.connect(consumer);
  const seen: string[] = [];
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const value = message.value!.toString();
      if (partition === 0 && value.startsWith('term')) seen.push(value);
    },
  });
  await withTimeout(until(() => seen.length >= values.length, 30_000, 'every acknowledged message consumed'), 35_000, 'consume');
  await new Promise((resolve) => setTimeout(resolve, 500));
  await consumer.disconnect();
  assert.deepEqual(seen, values);
});
