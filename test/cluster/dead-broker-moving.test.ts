// Goal: a broker that dies while balancing moves replicas onto it does not hold those moves, and with
// them the moving budget, for good: once cluster.deadBrokerTimeout marks it draining, the moves onto
// it are re-targeted and every partition ends on three live brokers, all in sync.
// Method: three brokers and a topic on them; broker 4 joins (an added broker), balancing begins to
// move replicas onto it, and it is SIGKILLed the moment the controller's leader logs those moves; the
// moves still under way then are read back (ListPartitionReassignments) so the test knows it caught
// some in flight.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { createReplicatedTopic, metadataUntil, withBrokerLines, withConn } from './cluster-requests.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { OFFSETS_TOPIC } from '../../src/metadata/topic-name.ts';
import { until } from '../helpers/timeout.ts';

const TOPIC = 'dead-while-moving';

let cluster: BrokerCluster;

before(async () => {
  cluster = await startCluster(4, { listed: 3, started: 3, env: { STREAMBUS_CLUSTER_DEAD_BROKER_TIMEOUT: '2s' } });
  await createReplicatedTopic(cluster.member(1).kafkaPort, TOPIC, 8);
});

after(async () => {
  await cluster?.stop();
});

test('moves onto a broker that dies mid-way are re-targeted; every partition ends on three live brokers', async () => {
  const port = cluster.member(1).kafkaPort;
  const balancingOnto4 = () => [1, 2, 3].some((id) => /balancing: partitions moving/.test(cluster.member(id).process?.output() ?? ''));
  await cluster.start(4);
  await until(balancingOnto4, 60_000, 'balancing moves replicas onto broker 4', 5);
  await cluster.member(4).process!.kill();
  const moving = await withConn(port, (conn) => conn.request(API_KEYS.ListPartitionReassignments, 0, { timeoutMs: 10_000, topics: null }));
  const onto4 = moving.topics.flatMap((t) => t.partitions.filter((p) => p.addingReplicas.includes(4)).map((p) => `${t.name}-${p.partitionIndex}`));
  assert.ok(onto4.length > 0, 'some moves onto broker 4 were still under way when it died');
  await metadataUntil(
    port,
    [OFFSETS_TOPIC, TOPIC],
    (md) => md.topics.length === 2 && md.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.errorCode === 0 && !p.replicaNodes.includes(4) && p.replicaNodes.length === 3 && p.isrNodes.length === 3)),
    `every partition on three live brokers (moves onto broker 4 when it died: ${onto4.join(', ')})`,
    120_000,
  ).catch(withBrokerLines(cluster, /unreachable|decommission|moving|reassign|refused/));
});
