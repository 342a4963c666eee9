// Goal: a broker whose disk was replaced (its data and raft folders empty, same broker id) rejoins and
// is refilled from the others, as the guide's recovery chapter promises: it registers as a new
// incarnation, its controller and partition replicas catch up before they vote, it is back in every
// ISR with the same log bytes as the others, leads again where it is the preferred replica, and
// everything acknowledged before, during and after the replacement is there; a later SIGKILL of
// another broker loses nothing either.
// Method: three real processes on 127.0.0.1 (test/helpers/broker-cluster.ts), raw Produce (acks=all)
// and Fetch; broker 2 is killed with SIGKILL and its whole folder removed before it starts again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { metadataFrom, metadataUntil, metric, withConn, withHandOverLines } from './cluster-requests.ts';
import { converge, readTopic } from './delivery-checks.ts';
import { produceBody, RawKafka, textBatch } from '../helpers/raw-kafka.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';

const TOPIC = 'refill';
/** Broker 2 is the preferred replica (first) of partition 0 only. */
const ASSIGNMENTS = [[2, 1, 3], [1, 3, 2], [3, 2, 1]];
const PARTITIONS = ASSIGNMENTS.length;
const BATCH = 50;

let cluster: BrokerCluster;
const acknowledged: string[][] = ASSIGNMENTS.map(() => []);

before(async () => {
  cluster = await startCluster(3);
  const port = cluster.member(1).kafkaPort;
  await withConn(port, async (conn) => {
    const assignments = ASSIGNMENTS.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds }));
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await conn.request(API_KEYS.CreateTopics, 7, { topics: [{ name: TOPIC, numPartitions: -1, replicationFactor: -1, assignments, configs: [] }], timeoutMs: 10_000, validateOnly: false }, 20_000);
      const { errorCode, errorMessage } = res.topics[0]!;
      if (errorCode === 0) break;
      // Right after the start, the broker asked may not reach every other yet (INVALID_REPLICATION_FACTOR / INVALID_REPLICA_ASSIGNMENT).
      if (Date.now() > deadline) throw new Error(`creating ${TOPIC}: error ${errorCode} ${errorMessage ?? ''}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  await inSync(port);
});

after(async () => {
  await cluster?.stop();
});

/** Waits until every partition is led with all three replicas in sync, as broker `port` sees it. */
function inSync(port: number, ms = 30_000) {
  return metadataUntil(port, [TOPIC], (md) => md.topics[0]?.partitions.length === PARTITIONS && md.topics[0].partitions.every((p) => p.errorCode === 0 && p.isrNodes.length === 3), 'every partition with three in-sync replicas', ms);
}

/** Produces one batch of BATCH records to every partition with acks=all, retrying through leader changes; records what was acknowledged. */
async function produceRound(port: number, round: string): Promise<void> {
  for (let p = 0; p < PARTITIONS; p++) {
    const values = Array.from({ length: BATCH }, (_, i) => `${round}-${p}-${i}`);
    const deadline = Date.now() + 30_000;
    for (let attempt = 1; ; attempt++) {
      let error = '';
      try {
        const md = await metadataFrom(port, [TOPIC]);
        const leaderId = md.topics[0]!.partitions.find((x) => x.partitionIndex === p)?.leaderId ?? -1;
        const leader = md.brokers.find((b) => b.nodeId === leaderId);
        if (leader !== undefined) {
          const conn = await RawKafka.connect(leader.port);
          try {
            const res = await conn.request(API_KEYS.Produce, 7, produceBody(TOPIC, p, textBatch(values), -1));
            const code = res.responses[0]!.partitionResponses[0]!.errorCode;
            if (code === 0) break;
            error = `error ${code}`;
          } finally {
            conn.socket.destroy();
          }
        } else {
          error = 'no leader';
        }
      } catch (err) {
        error = (err as Error).message;
      }
      // A retry after a lost answer may store a batch twice (no idempotence here): only what was
      // acknowledged is checked, duplicates are allowed.
      if (Date.now() > deadline) throw new Error(`producing ${round} to ${TOPIC}/${p} (attempt ${attempt}): ${error}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    acknowledged[p]!.push(...values);
  }
}

async function assertEverythingThere(port: number): Promise<void> {
  const stored = await readTopic(port, TOPIC, PARTITIONS);
  for (let p = 0; p < PARTITIONS; p++) {
    const values = new Set(stored.filter((r) => r.partition === p).map((r) => r.value));
    const missing = acknowledged[p]!.filter((v) => !values.has(v));
    assert.deepEqual(missing.slice(0, 10), [], `partition ${p}: ${missing.length} acknowledged records missing`);
  }
}

test('a broker back with an empty disk is refilled, votes again only once caught up, and nothing acknowledged is lost', async () => {
  const port1 = cluster.member(1).kafkaPort;
  await produceRound(port1, 'before');

  const replaced = cluster.member(2);
  await replaced.process!.kill();
  rmSync(join(replaced.dataDir, 'data'), { recursive: true, force: true });
  await produceRound(port1, 'while-down');

  const process2 = await cluster.start(2, { readyTimeoutMs: 60_000 });
  await inSync(replaced.kafkaPort, 60_000);
  // Same log bytes on every broker: the new disk holds what the others hold.
  const httpPorts = cluster.members.map((m) => m.httpPort);
  for (let p = 0; p < PARTITIONS; p++) {
    const sizes = await converge(httpPorts, TOPIC, p, 30_000);
    assert.ok(sizes.every((s) => s > 0 && s === sizes[0]), `partition ${p}: log sizes ${sizes.join(', ')}`);
  }
  // Leadership returns to the preferred replica once it is in sync: broker 2 serves partition 0 from its new disk.
  await metadataUntil(replaced.kafkaPort, [TOPIC], (md) => md.topics[0]?.partitions.find((p) => p.partitionIndex === 0)?.leaderId === 2, 'broker 2 leading partition 0 again', 30_000).catch(withHandOverLines(cluster));
  await assertEverythingThere(replaced.kafkaPort);
  assert.equal(await metric(replaced.httpPort, 'streambus_partition_replicas_joining'), 0);
  const out = process2.output();
  assert.match(out, /controller log here is empty but another broker of cluster\.nodes holds one/);
  assert.match(out, /the controller replica here votes from now on/);
  assert.match(out, /partition replica caught up after joining; it votes from now on/);

  await produceRound(replaced.kafkaPort, 'after');
  // Another broker dies: the two left, the refilled one among them, still hold everything.
  await cluster.member(1).process!.kill();
  await produceRound(cluster.member(3).kafkaPort, 'after-kill');
  await assertEverythingThere(replaced.kafkaPort);
  await cluster.start(1);
  await inSync(port1, 60_000);
  await assertEverythingThere(port1);
});
