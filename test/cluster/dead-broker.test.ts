// Goal: with cluster.deadBrokerTimeout, a broker that stays dead has its replicas re-created on the
// other brokers (every partition back to three in-sync replicas without it, nothing acknowledged
// lost), `broker list` says why it drains; when it comes back it is recommissioned automatically and
// balancing gives it replicas again.
// Method: four real processes on 127.0.0.1 with a 2 s timeout, raw Produce (acks=all) and Fetch,
// SIGKILL of broker 4, `streambus broker list --json` for the states.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { createReplicatedTopic, listBrokers, metadataUntil, withBrokerLines } from './cluster-requests.ts';
import { readTopic } from './delivery-checks.ts';
import { produceBody, RawKafka, textBatch } from '../helpers/raw-kafka.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { until } from '../helpers/timeout.ts';

const TOPIC = 'dead-broker';
const PARTITIONS = 8;

let cluster: BrokerCluster;

before(async () => {
  cluster = await startCluster(4, { env: { STREAMBUS_CLUSTER_DEAD_BROKER_TIMEOUT: '2s' } });
  await createReplicatedTopic(cluster.member(1).kafkaPort, TOPIC, PARTITIONS);
});

after(async () => {
  await cluster?.stop();
});

const replicasOf = (port: number) =>
  metadataUntil(port, [TOPIC], (md) => md.topics[0]?.partitions.length === PARTITIONS, 'the topic listed').then((md) => md.topics[0]!.partitions.map((p) => p.replicaNodes));

test('a dead broker\'s replicas are re-created elsewhere, and it gets replicas again once back', async () => {
  const port = cluster.member(1).kafkaPort;
  assert.ok((await replicasOf(port)).some((r) => r.includes(4)), 'placement gave broker 4 replicas');
  // One acknowledged batch per partition, through each partition's leader.
  const md = await metadataUntil(port, [TOPIC], (m) => m.topics[0]!.partitions.every((p) => p.leaderId > 0), 'every partition led');
  for (const p of md.topics[0]!.partitions) {
    const leader = md.brokers.find((b) => b.nodeId === p.leaderId)!;
    const conn = await RawKafka.connect(leader.port);
    try {
      const res = await conn.request(API_KEYS.Produce, 7, produceBody(TOPIC, p.partitionIndex, textBatch([`before-${p.partitionIndex}`]), -1));
      assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, 0);
    } finally {
      conn.socket.destroy();
    }
  }

  await cluster.member(4).process!.kill();
  // Re-created on brokers 1-3: no replica on 4, all three in sync.
  await metadataUntil(
    port,
    [TOPIC],
    (m) => m.topics[0]!.partitions.every((p) => !p.replicaNodes.includes(4) && p.replicaNodes.length === 3 && p.isrNodes.length === 3 && p.errorCode === 0),
    'every partition on three live brokers',
    // Re-created 8 partitions at a time, __consumer_offsets' ~38 on broker 4 first (it sorts first):
    // about 30 s alone; beside a five-broker test under CI load it took more than 180 s once.
    300_000,
  ).catch(withBrokerLines(cluster, /unreachable|decommission|moving|reassign|refused|controller|peer (up|down)/));
  const stored = await readTopic(port, TOPIC, PARTITIONS);
  for (let p = 0; p < PARTITIONS; p++) assert.ok(stored.some((r) => r.partition === p && r.value === `before-${p}`), `partition ${p} kept its record`);
  // Decommissioned by the controller, not by an operator (the offsets topic's partitions may still be
  // moving off it, 8 at a time).
  const dead = (await listBrokers(cluster.member(1).httpPort)).find((b) => b.id === 4)!;
  assert.ok(dead.state === 'draining' || dead.state === 'drained', dead.state);
  assert.equal(dead.drainReason, 'unreachable');

  // Back: recommissioned, and balancing moves replicas onto it again.
  await cluster.start(4);
  await until(async () => (await listBrokers(cluster.member(1).httpPort)).find((b) => b.id === 4)?.state === 'active', 60_000, 'broker 4 active again', 500);
  // (Whichever topic's partitions balancing moves first: __consumer_offsets sorts before this one.)
  await until(async () => ((await listBrokers(cluster.member(1).httpPort)).find((b) => b.id === 4)?.replicas ?? 0) > 0, 150_000, 'broker 4 holding replicas again', 1_000);
});
