// Goal: with cluster.partitionBalancing (the default), replicas spread onto a broker that holds fewer
// than the others, until every broker holds as many as any other within one, while the data stays
// whole: a topic placed by hand on brokers 1, 2, 3 of four makes them uneven, and balancing evens
// them (moving replicas of any topic to broker 4).
// Method: four real broker processes; a topic of 8 partitions created with an explicit assignment
// (every partition on 1, 2, 3) and written to; the admin API's broker list (`streambus broker list`)
// is polled until the counts are even and nothing moves; then the topic is read back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { OpenClients } from '../helpers/open-clients.ts';
import { until } from '../helpers/timeout.ts';
import { readTopic } from './delivery-checks.ts';
import { listBrokers, metadataUntil, type ListedBroker } from './cluster-requests.ts';

const TOPIC = 'lopsided';
const PARTITIONS = 8;

let cluster: BrokerCluster;
const clients = new OpenClients();

before(async () => {
  cluster = await startCluster(4);
  // The offsets topic first (placed evenly over the four), so that only the hand-placed topic is lopsided.
  await metadataUntil(cluster.member(1).kafkaPort, ['__consumer_offsets'], (m) => m.topics[0]?.errorCode === 0 && m.topics[0].partitions.length === 50, '__consumer_offsets created', 30_000);
});

after(async () => {
  await clients.closeAll();
  await cluster?.stop();
});

const brokers = () => listBrokers(cluster.member(1).httpPort);

test('replicas placed on three of four brokers spread onto the fourth until counts are even within one; the data stays whole', { timeout: 120_000 }, async (t) => {
  const kafka = new kafkajs.Kafka({ clientId: 'balancing', brokers: cluster.bootstrap, logLevel: kafkajs.logLevel.NOTHING });
  const admin = await clients.connect(kafka.admin());
  await admin.createTopics({ topics: [{ topic: TOPIC, replicaAssignment: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, replicas: [1, 2, 3] })) }], waitForLeaders: true });
  const producer = await clients.connect(kafka.producer({ idempotent: true }));
  const values = Array.from({ length: 80 }, (_, i) => `lopsided-${i}`);
  await producer.send({ topic: TOPIC, acks: -1, messages: values.map((value, i) => ({ value, partition: i % PARTITIONS })) });

  const first = await brokers();
  const spread = (list: ListedBroker[]) => Math.max(...list.map((b) => b.replicas)) - Math.min(...list.map((b) => b.replicas));
  t.diagnostic(`replicas per broker after the topic was created: ${first.map((b) => `${b.id}: ${b.replicas}`).join(', ')}`);
  assert.ok(spread(first) > 1 || first.some((b) => b.moving > 0), 'the topic made the brokers uneven (or balancing already began)');
  let last: ListedBroker[] = [];
  await until(
    async () => {
      last = await brokers();
      const counts = last.map((b) => b.replicas);
      return last.every((b) => b.moving === 0) && Math.max(...counts) - Math.min(...counts) <= 1;
    },
    90_000,
    'replica counts even within one with nothing moving',
    1_000,
  );
  t.diagnostic(`replicas per broker: ${last.map((b) => `${b.id}: ${b.replicas}`).join(', ')}`);
  const stored = await readTopic(cluster.member(2).kafkaPort, TOPIC, PARTITIONS);
  assert.deepEqual(stored.map((r) => r.value).sort(), [...values].sort());
});
