// Goal: the controller survives the loss of its leader and brokers keep their identity. SIGKILL of
// the controller's leader: the other two elect a new one and keep deciding metadata; the killed broker
// restarts from its files (controller log, identity) and rejoins with everything decided meanwhile.
// A broker whose raft directory lost its identity file (one of its two directories replaced)
// refuses to start (replaced-disk.test.ts covers a broker whose directories are both new).
// `streambus cluster status` from any broker shows the same brokers, states and controller, and a
// stopped broker as dead. InitProducerId on
// a follower while the controller leader is frozen (SIGSTOP) is answered long before a client's
// request timeout, and draws an id once another broker leads.
// Method: three real processes on 127.0.0.1 (test/helpers/broker-cluster.ts), raw Kafka requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { runCli } from '../helpers/run-cli.ts';
import { createTopicThrough, metadataFrom, withConn } from './cluster-requests.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';

let cluster: BrokerCluster;

before(async () => {
  cluster = await startCluster(3);
});

after(async () => {
  await cluster?.stop();
});

const controllerSeenBy = (port: number) =>
  metadataFrom(port, []).then((md) => md.controllerId);

const createTopic = (port: number, name: string) => createTopicThrough(port, name);

const topicNames = (port: number) =>
  metadataFrom(port).then((md) => md.topics.map((t) => t.name).sort());

test('SIGKILL of the controller leader: a new one decides within seconds, and the killed broker rejoins with what it missed', async () => {
  const leaderId = await controllerSeenBy(cluster.member(1).kafkaPort);
  assert.ok(leaderId >= 1);
  const survivor = cluster.members.find((m) => m.id !== leaderId)!;
  await cluster.member(leaderId).process!.kill();
  const killedAt = Date.now();
  // CreateTopics waits for the controller (NOT_CONTROLLER / REQUEST_TIMED_OUT are retried here, as clients do).
  let result = await createTopic(survivor.kafkaPort, 'after-kill');
  for (let i = 0; i < 20 && result.errorCode !== 0; i++) {
    await new Promise((r) => setTimeout(r, 200));
    result = await createTopic(survivor.kafkaPort, 'after-kill');
  }
  const failoverMs = Date.now() - killedAt;
  assert.equal(result.errorCode, 0, result.message ?? '');
  assert.ok(failoverMs < 10_000, `failover took ${failoverMs} ms`);
  const newLeader = await controllerSeenBy(survivor.kafkaPort);
  assert.notEqual(newLeader, leaderId);

  await cluster.start(leaderId);
  assert.deepEqual(await topicNames(cluster.member(leaderId).kafkaPort), await topicNames(survivor.kafkaPort));
  assert.ok((await topicNames(cluster.member(leaderId).kafkaPort)).includes('after-kill'));
});

test('InitProducerId on a follower while the controller leader is frozen: answered within seconds, and an id once another broker leads', async () => {
  const leaderId = await controllerSeenBy(cluster.member(1).kafkaPort);
  const follower = cluster.members.find((m) => m.id !== leaderId)!;
  const pid = cluster.member(leaderId).process!.proc.pid!;
  // A follower that never drew a producer id forwards the allocation to the frozen leader, which never answers.
  process.kill(pid, 'SIGSTOP');
  try {
    const askedAt = Date.now();
    const first = await withConn(follower.kafkaPort, (conn) => conn.request(22, 4, { transactionalId: null, transactionTimeoutMs: -1, producerId: -1n, producerEpoch: -1 }));
    const answeredMs = Date.now() - askedAt;
    // Clients time a request out after 30 s: the answer must come well before, retriable if not an id.
    assert.ok(answeredMs < 8_000, `InitProducerId answered after ${answeredMs} ms`);
    assert.ok([0, KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS].includes(first.errorCode), `error ${first.errorCode}`);
    let answer = first;
    for (let i = 0; i < 40 && answer.errorCode !== 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      answer = await withConn(follower.kafkaPort, (conn) => conn.request(22, 4, { transactionalId: null, transactionTimeoutMs: -1, producerId: -1n, producerEpoch: -1 }));
    }
    assert.equal(answer.errorCode, 0);
    assert.ok(answer.producerId >= 0n);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
});

async function clusterStatus(id: number) {
  const m = cluster.member(id);
  const run = await runCli(['cluster', 'status', '--json', '--bootstrap-server', `127.0.0.1:${m.kafkaPort}`, '--http', `127.0.0.1:${m.httpPort}`], 20_000);
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as { clusterId: string; controllerId: number; brokers: { nodeId: number; state: string; leads: number }[]; health: { ready: boolean } };
}

test('cluster status from any broker shows the same brokers, states and controller', async () => {
  const statuses = await Promise.all(cluster.members.map((m) => clusterStatus(m.id)));
  for (const s of statuses) {
    assert.deepEqual(s.brokers.map((b) => [b.nodeId, b.state]), [[1, 'active'], [2, 'active'], [3, 'active']]);
    assert.equal(s.clusterId, statuses[0]!.clusterId);
    assert.equal(s.controllerId, statuses[0]!.controllerId);
    assert.equal(s.health.ready, true);
  }
});

test('a broker whose raft directory lost its identity does not start; the others carry on and call it dead', async () => {
  const m = cluster.member(2);
  assert.equal(await m.process!.stop(), 0);
  rmSync(join(m.dataDir, 'data', 'raft', 'broker-identity.json'));
  await assert.rejects(cluster.start(2, { readyTimeoutMs: 10_000 }), /SB_ERR_BROKER_IDENTITY|broker-identity\.json is missing/);
  // The other two carry on, and call broker 2 dead.
  assert.equal((await createTopic(cluster.member(1).kafkaPort, 'still-deciding')).errorCode, 0);
  assert.deepEqual((await clusterStatus(1)).brokers.map((b) => [b.nodeId, b.state]), [[1, 'active'], [2, 'dead'], [3, 'active']]);
});
