// Goal: a consumer group keeps consuming through the failover of its coordinator with its committed
// offsets intact: when the broker leading the group's __consumer_offsets partition is SIGKILLed, another
// replica of that partition becomes the coordinator, loads the group and its offsets, and the two
// members carry on from the committed offsets: nothing is skipped, and a message is consumed twice only
// as at-least-once redelivery of the uncommitted tail: no commit covering it had been acknowledged
// before it was delivered again, or the same member retries the message it was handling when its
// commit failed (kafkajs keeps retrying it even after a rebalance gave the partition to the other member). At the end the committed offsets are each
// partition's end.
// Method: three real broker processes; a topic of three partitions, three replicas each; a kafkajs
// producer writes numbered messages, half before the group starts and half during it; two kafkajs
// consumers of one group commit each message's offset after handling it (autoCommit off) and log every
// delivery and every acknowledged commit with its time; FindCoordinator names the coordinator, which is
// killed once both members consume and a hundred commits are acknowledged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { type Consumer } from 'kafkajs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { createReplicatedTopic, metadataFrom, withConn } from './cluster-requests.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { until } from '../helpers/timeout.ts';

const TOPIC = 'grouped';
const GROUP = 'failover-group';
const PARTITIONS = 3;
const MESSAGES = 300;
const BATCH = 10;
/** Acknowledged commits before the coordinator is killed. */
const COMMITS_BEFORE_KILL = 100;
/** Time each member spends on a message, so consumption spans the failover. */
const HANDLE_MS = 15;
const PRODUCE_PACE_MS = 150;
const TEST_DEADLINE_MS = 90_000;

let cluster: BrokerCluster;

before(async () => {
  cluster = await startCluster(3, { env: { STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '300' } });
  await createReplicatedTopic(cluster.member(1).kafkaPort, TOPIC, PARTITIONS);
});

after(async () => {
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The group's coordinator as the broker at `port` names it (FindCoordinator v4), or -1 on an error. */
async function coordinatorFrom(port: number): Promise<number> {
  const answer = await withConn(port, (conn) => conn.request(API_KEYS.FindCoordinator, 4, { key: '', keyType: 0, coordinatorKeys: [GROUP] }));
  const c = answer.coordinators[0]!;
  return c.errorCode === 0 ? c.nodeId : -1;
}

interface Delivery {
  readonly member: string;
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
  readonly at: number;
}

interface Commit {
  readonly member: string;
  readonly partition: number;
  /** The committed offset: the next one to consume. */
  readonly offset: number;
  readonly at: number;
}

function clientFor(brokers: string[], clientId: string) {
  return new kafkajs.Kafka({ clientId, brokers, logLevel: process.env['CHAOS_KAFKAJS_LOG'] === '1' ? kafkajs.logLevel.ERROR : kafkajs.logLevel.NOTHING, requestTimeout: 5_000, retry: { retries: 40, initialRetryTime: 100, maxRetryTime: 1_000 } });
}

test('a consumer group resumes from its committed offsets after its coordinator is SIGKILLed', { timeout: TEST_DEADLINE_MS + 30_000 }, async (t) => {
  const deadline = Date.now() + TEST_DEADLINE_MS;
  const producer = clientFor(cluster.bootstrap, 'group-feeder').producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let produced = 0;
  /** Sends the next batch of BATCH messages, all to one partition (see leader-kills.test.ts on why). */
  const produceBatch = async () => {
    const first = produced;
    const partition = (first / BATCH) % PARTITIONS;
    const messages = Array.from({ length: BATCH }, (_, i) => ({ value: `m:${first + i}`, partition }));
    await producer.send({ topic: TOPIC, acks: -1, messages });
    produced += BATCH;
  };
  while (produced < MESSAGES / 2) await produceBatch();

  const deliveries: Delivery[] = [];
  const commits: Commit[] = [];
  const consumers: Consumer[] = [];
  // A member that crashes (its coordinator died under it) restarts, until the test ends: a crash while
  // disconnecting, or against the stopped cluster, would otherwise restart it forever. Few retries: a
  // member whose commit keeps failing (the group is rebalancing) must give up on the message soon and
  // rejoin, or the rebalance waits for it and the group stalls for as long as its retries last.
  let stopping = false;
  const retry = { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000, restartOnFailure: async () => !stopping };
  for (const member of ['a', 'b']) {
    const consumer = clientFor(cluster.bootstrap, `member-${member}`).consumer({ groupId: GROUP, sessionTimeout: 6_000, rebalanceTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 200, retry });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset);
        deliveries.push({ member, partition, offset, value: message.value!.toString(), at: Date.now() });
        await sleep(HANDLE_MS);
        await consumer.commitOffsets([{ topic: TOPIC, partition, offset: String(offset + 1) }]);
        commits.push({ member, partition, offset: offset + 1, at: Date.now() });
      },
    });
    consumers.push(consumer);
  }

  let killed = -1;
  let killedAt = 0;
  let commitsAtKill = 0;
  /** Output of the killed coordinator, kept for the report of a failure. */
  let killedOutput = '';
  /** Writes the brokers' output and the clients' timeline (times from the kill) to a folder, for a failure. */
  const report = (): void => {
    const dir = mkdtempSync(join(tmpdir(), 'streambus-coordinator-failover-'));
    writeFileSync(join(dir, `killed-broker-${killed}.log`), killedOutput);
    for (const m of cluster.members) writeFileSync(join(dir, `broker-${m.id}.log`), m.process?.output() ?? '');
    const timeline = [...deliveries.map((d) => ({ ...d, kind: 'delivery' })), ...commits.map((c) => ({ ...c, kind: 'commit' }))].sort((a, b) => a.at - b.at);
    writeFileSync(join(dir, 'timeline.txt'), timeline.map((e) => `${e.at - killedAt} ${e.kind} ${e.member} p${e.partition} ${e.offset}`).join('\n'));
    t.diagnostic(`broker logs and the client timeline in ${dir}`);
  };
  const lastBeforeKill = new Map<number, number>();
  try {
    // The rest of the messages arrive while the group consumes, the failover included.
    const feeding = (async () => {
      while (produced < MESSAGES && Date.now() < deadline) {
        await produceBatch();
        await sleep(PRODUCE_PACE_MS);
      }
    })();
    await until(() => commits.length >= COMMITS_BEFORE_KILL && new Set(deliveries.map((d) => d.member)).size === 2, 40_000, 'both members consuming and committing');
    killed = await coordinatorFrom(cluster.member(1).kafkaPort);
    assert.ok(killed > 0, 'FindCoordinator names a broker');
    for (const c of commits) lastBeforeKill.set(c.partition, Math.max(lastBeforeKill.get(c.partition) ?? 0, c.offset));
    commitsAtKill = commits.length;
    killedAt = Date.now();
    const killedProcess = cluster.member(killed).process!;
    await killedProcess.kill();
    killedOutput = killedProcess.output();
    const survivor = cluster.members.find((m) => m.id !== killed)!;

    // Another replica of the group's offsets partition takes over as coordinator.
    let coordinator = -1;
    for (let i = 0; i < 150 && [killed, -1].includes(coordinator); i++) {
      await sleep(100);
      coordinator = await coordinatorFrom(survivor.kafkaPort);
    }
    assert.ok(![killed, -1].includes(coordinator), `no coordinator other than broker ${killed}`);
    const movedMs = Date.now() - killedAt;

    await feeding;
    assert.equal(produced, MESSAGES, 'every message produced');
    const values = () => new Set(deliveries.map((d) => d.value));
    try {
      await until(() => values().size === MESSAGES, Math.max(1_000, deadline - Date.now()), 'every message consumed');
    } catch (err) {
      const last = deliveries[deliveries.length - 1];
      t.diagnostic(`consumed ${values().size} of ${MESSAGES}; last delivery at kill+${last === undefined ? '?' : last.at - killedAt} ms; coordinator now ${await coordinatorFrom(survivor.kafkaPort)}`);
      report();
      throw err;
    }
    // Every message is delivered; the last ones' commits may still be on their way.
    const committedTo = (p: number) => Math.max(0, ...commits.filter((c) => c.partition === p).map((c) => c.offset));
    const perPartition = MESSAGES / PARTITIONS;
    await until(() => Array.from({ length: PARTITIONS }, (_, p) => committedTo(p)).every((o) => o === perPartition), 10_000, 'every partition committed to its end');
    const resumedMs = deliveries.find((d) => d.at > killedAt + movedMs)?.at;
    t.diagnostic(`killed coordinator ${killed} after ${commitsAtKill} commits; broker ${coordinator} coordinates ${movedMs} ms later; first delivery after that ${resumedMs === undefined ? 'none' : resumedMs - killedAt} ms after the kill`);
  } finally {
    stopping = true;
    await Promise.all(consumers.map((c) => c.disconnect()));
    await producer.disconnect();
  }

  // Nothing skipped: every offset of every partition was delivered.
  const survivor = cluster.members.find((m) => m.id !== killed)!;
  const md = await metadataFrom(survivor.kafkaPort, [TOPIC]);
  assert.equal(md.topics[0]!.partitions.length, PARTITIONS);
  const ends = new Map<number, number>();
  for (let p = 0; p < PARTITIONS; p++) {
    const seen = new Set(deliveries.filter((d) => d.partition === p).map((d) => d.offset));
    const end = Math.max(...seen) + 1;
    ends.set(p, end);
    const missing = Array.from({ length: end }, (_, o) => o).filter((o) => !seen.has(o));
    assert.deepEqual(missing, [], `partition ${p}: offsets never delivered`);
  }
  assert.equal([...ends.values()].reduce((a, b) => a + b, 0), MESSAGES);

  // A second delivery is the member retrying the message it holds (its handling, the commit, failed),
  // or a delivery while no commit past the message had been acknowledged; anything else means the group
  // resumed from before an acknowledged commit.
  const firstSeen = new Set<string>();
  const lastOfMember = new Map<string, number>();
  const redelivered: string[] = [];
  for (const d of deliveries) {
    const key = `${d.partition}/${d.offset}`;
    const retry = lastOfMember.get(`${d.member}/${d.partition}`) === d.offset;
    lastOfMember.set(`${d.member}/${d.partition}`, d.offset);
    if (!firstSeen.has(key) || retry) {
      firstSeen.add(key);
      continue;
    }
    const covering = commits.find((c) => c.partition === d.partition && c.offset > d.offset && c.at < d.at);
    if (covering !== undefined) {
      redelivered.push(`${key} delivered again to ${d.member} at kill+${d.at - killedAt} ms; offset ${covering.offset} committed by ${covering.member}, acknowledged at kill+${covering.at - killedAt} ms`);
    }
  }
  t.diagnostic(`${deliveries.length} deliveries of ${MESSAGES} messages; last commits before the kill ${JSON.stringify([...lastBeforeKill])}`);
  if (redelivered.length > 0) report();
  assert.deepEqual(redelivered, [], 'no committed message consumed again');

  // The committed offsets survived the failover and end at each partition's end.
  const admin = clientFor(cluster.members.filter((m) => m.id !== killed).map((m) => `127.0.0.1:${m.kafkaPort}`), 'group-inspector').admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    const committed = new Map(offsets[0]!.partitions.map((p) => [p.partition, Number(p.offset)]));
    for (let p = 0; p < PARTITIONS; p++) {
      assert.ok((committed.get(p) ?? -1) >= (lastBeforeKill.get(p) ?? 0), `partition ${p}: committed ${committed.get(p)} went below ${lastBeforeKill.get(p)} acknowledged before the kill`);
      assert.equal(committed.get(p), ends.get(p), `partition ${p}: committed offset at its end`);
    }
  } finally {
    await admin.disconnect();
  }
});
