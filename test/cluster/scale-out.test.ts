// Goal: the guide's scale up and scale down on a running cluster under load. Brokers 4 and 5, not in
// the cluster.nodes of brokers 1-3 (the same list on all five), start and join: they register through
// the listed brokers, follow the metadata, and balancing moves replicas onto them until every broker
// holds as many as any other within one. Then `broker decommission` of 5 and of 4 moves everything off
// them; stopped, they leave the controller group, and a drained one that restarts rejoins it (taking
// nothing). Through all of it an idempotent acks=all producer writes: nothing acknowledged is lost, nothing
// is duplicated.
// Method: five real broker processes on 127.0.0.1, three listed; a kafkajs idempotent producer sends
// small batches from the start to the end; the admin API's broker list (`streambus broker list`) shows
// the counts; raw Fetch reads the topic back (delivery-checks.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { OpenClients } from '../helpers/open-clients.ts';
import { runCli } from '../helpers/run-cli.ts';
import { until } from '../helpers/timeout.ts';
import { checkDelivery, ledger, readTopic } from './delivery-checks.ts';
import { produceWithKafkajs } from './fault-producers.ts';
import { listBrokers, metadataFrom, metadataUntil, type ListedBroker } from './cluster-requests.ts';

const TOPIC = 'growing';
const PARTITIONS = 6;
const DEADLINE_MS = 200_000;

let cluster: BrokerCluster;
const clients = new OpenClients();

before(async () => {
  cluster = await startCluster(5, { listed: 3, started: 3 });
  await metadataUntil(cluster.member(1).kafkaPort, ['__consumer_offsets'], (m) => m.topics[0]?.errorCode === 0 && m.topics[0].partitions.length === 50, '__consumer_offsets created', 30_000);
});

after(async () => {
  await clients.closeAll();
  await cluster?.stop();
});

const brokers = () => listBrokers(cluster.member(1).httpPort);

const counts = (list: ListedBroker[]) => list.map((b) => `${b.id}: ${b.replicas} ${b.state}`).join(', ');

test('brokers 4 and 5 join a 3-broker cluster, take an even share, then are decommissioned; nothing lost under load', { timeout: DEADLINE_MS + 30_000 }, async (t) => {
  const kafka = new kafkajs.Kafka({ clientId: 'scale-out', brokers: cluster.bootstrap.slice(0, 3), logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1_000 } });
  const admin = await clients.connect(kafka.admin());
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 3 }], waitForLeaders: true });
  const producer = await clients.connect(kafka.producer({ idempotent: true, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1_000 } }));
  const book = ledger('kafkajs-idem', true);
  let done = false;
  const producing = produceWithKafkajs(book, producer, {
    topic: TOPIC, batch: 5, sendsMax: 20_000, paceMs: 20, partition: (n) => n % PARTITIONS, stop: () => done, afterStop: 10, deadline: Date.now() + DEADLINE_MS,
  });

  // Scale up: the two brokers start with the same cluster.nodes (1, 2, 3) and join.
  await cluster.start(4);
  await cluster.start(5);
  const joined = await metadataFrom(cluster.member(4).kafkaPort, null);
  assert.deepEqual(joined.brokers.map((b) => b.nodeId).sort(), [1, 2, 3, 4, 5], 'an added broker answers Metadata with all five');
  let last: ListedBroker[] = [];
  await until(
    async () => {
      last = await brokers();
      const n = last.map((b) => b.replicas);
      return last.length === 5 && last.every((b) => b.moving === 0) && Math.max(...n) - Math.min(...n) <= 1;
    },
    120_000,
    'replica counts even within one over five brokers',
    1_000,
  );
  t.diagnostic(`after scale up: ${counts(last)}`);
  assert.ok(last.filter((b) => b.id >= 4).every((b) => b.replicas > 0), 'the added brokers hold replicas');

  // Scale down: decommission 5, then 4, while the producer goes on.
  for (const id of [5, 4]) {
    const run = await runCli(['broker', 'decommission', '--id', String(id), '--http', `127.0.0.1:${cluster.member(1).httpPort}`, '--timeout', '90']);
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, new RegExp(`broker ${id}: drained`));
  }
  last = await brokers();
  t.diagnostic(`after decommission: ${counts(last)}`);
  assert.deepEqual(last.filter((b) => b.id >= 4).map((b) => [b.id, b.replicas]), [[4, 0], [5, 0]]);
  const md = await metadataFrom(cluster.member(1).kafkaPort, null);
  assert.deepEqual(md.topics.flatMap((x) => x.partitions.filter((p) => p.replicaNodes.some((r) => r >= 4)).map((p) => `${x.name}-${p.partitionIndex}`)), [], 'no partition names broker 4 or 5');
  await Promise.all([cluster.member(4).process?.stop(), cluster.member(5).process?.stop()]);
  // Stopped, they leave the controller group; a drained broker that comes back follows the metadata
  // again (it starts, stays drained and takes nothing until recommissioned).
  const left = () => {
    const lines = [1, 2, 3].flatMap((id) => cluster.member(id).process!.output().split('\n')).filter((l) => l.includes('a decommissioned broker leaves the controller group'));
    return new Set(lines.map((l) => (JSON.parse(l) as { broker: number }).broker));
  };
  await until(() => left().has(4) && left().has(5), 20_000, 'brokers 4 and 5 to leave the controller group');
  const status = await runCli(['cluster', 'status', '--json', '--bootstrap-server', cluster.bootstrap[0]!, '--http', `127.0.0.1:${cluster.member(1).httpPort}`], 20_000);
  assert.equal(status.status, 0, status.stderr);
  const states = (JSON.parse(status.stdout) as { brokers: { nodeId: number; state: string }[] }).brokers.map((b) => [b.nodeId, b.state]);
  assert.deepEqual(states, [[1, 'active'], [2, 'active'], [3, 'active'], [4, 'drained'], [5, 'drained']], 'cluster status lists the stopped drained brokers');
  await cluster.start(5);
  assert.deepEqual((await brokers()).filter((b) => b.id === 5).map((b) => [b.state, b.replicas]), [['drained', 0]]);
  await cluster.member(5).process?.stop();

  done = true;
  const failures = await producing;
  t.diagnostic(`produced: ${book.sent} sent, ${book.acked.size} acknowledged, ${failures.length} failed sends`);
  assert.ok(book.acked.size > 0, 'the producer was acknowledged');
  const stored = await readTopic(cluster.member(2).kafkaPort, TOPIC, PARTITIONS, 30_000);
  const report = checkDelivery(stored, [book]);
  assert.deepEqual(report.problems, []);
});
