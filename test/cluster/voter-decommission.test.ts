// Goal: scaling down a cluster whose every broker is in cluster.nodes. Decommissioning the controller's
// leader (one of four voters) moves its replicas away, hands the controller's leadership over and removes
// it from the voters; only then does `broker decommission` report it drained. Stopped, it is not missed:
// with one more broker killed, two of the three remaining voters still decide metadata (two of the four
// voters would not). The operator then drops it from cluster.nodes broker by broker: brokers with the
// old and the new list keep talking (their handshakes carry the cluster id, not the list). Recommissioned
// before that, it had become a voter again once caught up. A voter whose
// removal would leave fewer than three voters is refused with the reason.
// Method: five real broker processes on 127.0.0.1, four listed and one added; the CLI's broker
// decommission and list;
// raw CreateTopics and Metadata requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { until } from '../helpers/timeout.ts';
import { createTopicThrough, listBrokers, metadataUntil } from './cluster-requests.ts';

let cluster: BrokerCluster;

before(async () => {
  // Without balancing a recommissioned broker takes no replicas back, so decommissioning it again is quick.
  // Brokers 1-4 are listed (the controller's voters); broker 5 is added (a learner), so that after one
  // voter leaves there are still enough brokers for three replicas and the voter rule is what refuses.
  cluster = await startCluster(5, { listed: 4, env: { STREAMBUS_CLUSTER_PARTITION_BALANCING: 'false' } });
  await metadataUntil(cluster.member(1).kafkaPort, ['__consumer_offsets'], (m) => m.topics[0]?.errorCode === 0 && m.topics[0].partitions.length === 50, '__consumer_offsets created', 30_000);
});

after(async () => {
  await cluster?.stop();
});

/** Creates `name`, retrying while the controller is being elected. */
async function created(port: number, name: string, replicationFactor = 3): Promise<number> {
  let answer = await createTopicThrough(port, name, 3, replicationFactor);
  for (let i = 0; i < 50 && answer.errorCode !== 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
    answer = await createTopicThrough(port, name, 3, replicationFactor);
  }
  return answer.errorCode;
}

test('a decommissioned voter leaves the controller quorum; cluster.nodes is then edited broker by broker', { timeout: 180_000 }, async (t) => {
  const md = await metadataUntil(cluster.member(1).kafkaPort, null, (m) => m.brokers.length === 5 && m.controllerId > 0, 'five brokers and a controller');
  assert.equal(await created(cluster.member(1).kafkaPort, 'kept'), 0);
  const leaving = md.controllerId;
  const [a, b, c] = [1, 2, 3, 4].filter((id) => id !== leaving) as [number, number, number];
  const http = (id: number) => `127.0.0.1:${cluster.member(id).httpPort}`;

  const decommission = async () => {
    const run = await runCli(['broker', 'decommission', '--id', String(leaving), '--http', http(a), '--timeout', '120'], 130_000);
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, new RegExp(`broker ${leaving}: drained`));
  };
  const voters = async () => (await listBrokers(cluster.member(a).httpPort)).filter((x) => (x as { controllerVoter?: boolean }).controllerVoter).map((x) => x.id);
  await decommission();
  // Recommissioned, it is a voter again once caught up; decommissioned again, it leaves again.
  const back = await runCli(['broker', 'recommission', '--id', String(leaving), '--http', http(b)], 20_000);
  assert.equal(back.status, 0, back.stderr);
  await until(async () => (await voters()).includes(leaving), 20_000, `broker ${leaving} a voter again`, 500);
  await decommission();
  const listed = await listBrokers(cluster.member(a).httpPort);
  t.diagnostic(JSON.stringify(listed));
  assert.deepEqual(
    listed.map((x) => [x.id, x.state, (x as { controllerVoter?: boolean }).controllerVoter]),
    [1, 2, 3, 4, 5].map((id) => (id === leaving ? [id, 'drained', false] : [id, 'active', id !== 5])),
  );
  const after = await metadataUntil(cluster.member(a).kafkaPort, null, (m) => m.controllerId > 0 && m.controllerId !== leaving, 'another controller leader');
  assert.notEqual(after.controllerId, leaving);

  // Refused: three voters are left, and none of them may go (broker 5 could take the replicas).
  const refused = await runCli(['broker', 'decommission', '--id', String(a), '--http', http(b), '--no-wait'], 20_000);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /a controller needs 3 voters/);

  // The drained broker stops; one more is killed: two of the three voters left decide (a topic with
  // two replicas: new replicas go to reachable brokers).
  await cluster.member(leaving).process!.stop();
  await cluster.member(c).process!.kill();
  assert.equal(await created(cluster.member(a).kafkaPort, 'decided-by-two', 2), 0, 'two of three voters are a majority');

  // Broker by broker, cluster.nodes loses the drained broker: the killed one restarts with the new
  // list while the others still have the old one, then another restarts with it.
  const nodes = [a, b, c]
    .sort((x, y) => x - y)
    .map((id) => `${id}@127.0.0.1:${cluster.member(id).kafkaPort}:${cluster.member(id).grpcPort}`)
    .join(',');
  await cluster.start(c, { env: { STREAMBUS_CLUSTER_NODES: nodes } });
  await metadataUntil(cluster.member(c).kafkaPort, ['decided-by-two'], (m) => m.topics[0]?.errorCode === 0 && m.topics[0].partitions.every((p) => p.leaderId > 0), 'the restarted broker knows the topic and its leaders', 30_000);
  await cluster.member(a).process!.stop();
  await cluster.start(a, { env: { STREAMBUS_CLUSTER_NODES: nodes } });
  assert.equal(await created(cluster.member(c).kafkaPort, 'after-edit'), 0);
  // Broker 5 (added, its list unedited) redials the restarted broker after its reconnect backoff.
  const others = [a, b, c, 5].sort((x, y) => x - y).join(',');
  await metadataUntil(cluster.member(a).kafkaPort, null, (m) => m.brokers.map((x) => x.nodeId).filter((id) => id !== leaving).sort().join(',') === others, `broker ${a} lists brokers ${others}`, 30_000);
  for (const id of [a, b, c]) {
    const refusals = cluster.member(id).process!.output().split('\n').filter((l) => l.includes('refused inter-broker handshake') && l.includes('wrong-cluster'));
    assert.deepEqual(refusals, [], `broker ${id} refused no peer as of another cluster`);
  }
});
