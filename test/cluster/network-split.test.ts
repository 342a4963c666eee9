// Goal: a network split that isolates a partition's leader from both followers (its Kafka port still
// reachable by clients) loses nothing acknowledged and acknowledges nothing that is not committed: the
// majority elects a new leader and keeps taking acks=all writes from an idempotent producer; writes
// sent straight to the isolated old leader are never acknowledged (answered with an error or not at
// all), and it stops claiming leadership within a few election timeouts (check-quorum); after the
// links heal every broker names the same leader with three in-sync replicas, the replicas hold logs
// of the same size, the old leader's uncommitted writes are gone, and the partition holds exactly the
// acknowledged messages, once each.
// Method: three real broker processes whose inter-broker connections run through a fault-injecting
// TCP proxy (test/helpers/link-proxy.ts: one listener per directed pair, cluster.nodes of each broker
// points its peers' grpcPort at the proxy); the proxy cuts the leader's links; kcat's idempotent
// producer (librdkafka, one child per batch of ten) writes throughout, bootstrapped during the split
// with the majority side only, as a client on that side of a real split would be (the isolated broker
// answers Metadata with no leader, and a client that asks it keeps waiting; kafkajs, which refreshes
// metadata from one connected broker, can wait for ever); so the links are cut between two batches,
// never under one started with the old leader in its bootstrap (such a batch can wait out its whole
// message timeout asking the isolated broker); raw Produce requests go to the old leader during the split; afterwards
// the partition is read from its leader and compared with the producer's ledger; log sizes per broker
// come from each broker's /metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { LinkProxy } from '../helpers/link-proxy.ts';
import { createReplicatedTopic, metadataFrom, metadataUntil } from './cluster-requests.ts';
import { checkDelivery, converge, ledger, metadataAgrees, readTopic } from './delivery-checks.ts';
import { produceWithKcat } from './fault-producers.ts';
import { requireTool } from '../helpers/tools.ts';
import { produceBody, RawKafka, textBatch } from '../helpers/raw-kafka.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { until, withTimeout } from '../helpers/timeout.ts';

const TOPIC = 'split';
/** Acknowledgements before the split, and again on the majority side during it. */
const ACKS_PER_PHASE = 60;
const STALE_WRITES = 5;
/** Raft election timeout of CLUSTER_TEST_ENV. */
const ELECTION_TIMEOUT_MS = 600;
const TEST_DEADLINE_MS = 90_000;

let proxy: LinkProxy;
let cluster: BrokerCluster;

before(async () => {
  proxy = await LinkProxy.start([1, 2, 3]);
  cluster = await startCluster(3, {
    peerGrpcPort: (from, to) => {
      proxy.route(to.id, to.grpcPort);
      return proxy.port(from, to.id);
    },
  });
  await createReplicatedTopic(cluster.member(1).kafkaPort, TOPIC, 1);
});

after(async () => {
  await cluster?.stop();
  await proxy?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('an isolated leader acknowledges nothing, steps down, and after the heal every replica converges on exactly the acknowledged messages', { timeout: TEST_DEADLINE_MS + 30_000 }, async (t) => {
  if (!requireTool(t, 'kcat', { probeArgs: ['-V'] })) return;
  const book = ledger('majority', true);
  const failedBatches: string[] = [];
  let healed = false;
  /** Brokers the producer bootstraps from: during the split, only the majority side. */
  let reachable = cluster.bootstrap;
  const startedAt = Date.now();
  const ackedAtStart = () => book.acked.size;
  /** Set while the test waits to cut the links: the producer says it is between batches and waits. */
  let gate: { reached: () => void; released: Promise<void> } | null = null;
  const producing = produceWithKcat(book, {
    brokers: () => reachable,
    topic: TOPIC,
    partition: 0,
    settings: ['-X', 'enable.idempotence=true', '-X', 'socket.timeout.ms=3000', '-X', 'request.timeout.ms=3000'],
    batch: 10,
    batchesMax: 300,
    paceMs: 20,
    stop: () => healed,
    afterStop: 3,
    deadline: Date.now() + TEST_DEADLINE_MS,
    timeoutMs: 40_000,
    onFailure: (batch, stderr) => failedBatches.push(`kcat ${batch}`, stderr),
    beforeBatch: async () => {
      const g = gate;
      if (g === null) return;
      g.reached();
      await g.released;
    },
  });
  // On a failure, kcat's stderr and every broker's log go to a folder named in the output (with
  // STREAMBUS_TEST_KCAT_DEBUG=broker,metadata,eos,msg kcat says why a batch waited).
  const keepLogs = (): void => {
    const dir = mkdtempSync(join(tmpdir(), 'streambus-network-split-'));
    for (let i = 0; i < failedBatches.length; i += 2) writeFileSync(join(dir, `${i / 2}-${failedBatches[i]!.replace(/ /g, '-')}.log`), failedBatches[i + 1]!);
    for (const m of cluster.members) writeFileSync(join(dir, `broker-${m.id}.log`), m.process?.output() ?? '');
    t.diagnostic(`logs in ${dir}`);
  };
  try {
    await until(() => book.acked.size >= ACKS_PER_PHASE, 20_000, `${ACKS_PER_PHASE} acknowledgements before the split`);
    const before = await metadataFrom(cluster.member(1).kafkaPort, [TOPIC]);
    const isolated = before.topics[0]!.partitions[0]!.leaderId;
    const majority = cluster.members.filter((m) => m.id !== isolated);
    let release!: () => void;
    const between = new Promise<void>((reached) => (gate = { reached, released: new Promise<void>((r) => (release = r)) }));
    await withTimeout(between, 45_000, 'the producer between two batches');
    const splitAt = Date.now();
    t.diagnostic(`${ackedAtStart()} acknowledged before the split, ${splitAt - startedAt} ms`);
    proxy.isolate(isolated);
    reachable = majority.map((m) => `127.0.0.1:${m.kafkaPort}`);
    gate = null;
    release();
    const ackedAtSplit = book.acked.size;

    // Writes straight to the old leader: it cannot reach a quorum, so none may be acknowledged.
    const staleAnswers: string[] = [];
    const staleWrites = (async () => {
      for (let i = 0; i < STALE_WRITES; i++) {
        try {
          const conn = await RawKafka.connect(cluster.member(isolated).kafkaPort);
          try {
            const body = { ...produceBody(TOPIC, 0, textBatch([`stale:${i}`]), -1), timeoutMs: 2_000 };
            const res = await conn.request(API_KEYS.Produce, 7, body, 5_000);
            staleAnswers.push(`error ${res.responses[0]!.partitionResponses[0]!.errorCode}`);
          } finally {
            conn.socket.destroy();
          }
        } catch (err) {
          staleAnswers.push(`no answer (${(err as Error).message})`);
        }
      }
    })();

    // The majority elects another leader and goes on acknowledging.
    const elected = await metadataUntil(
      majority[0]!.kafkaPort,
      [TOPIC],
      (md) => md.topics[0]!.partitions[0]!.errorCode === 0 && ![isolated, -1].includes(md.topics[0]!.partitions[0]!.leaderId),
      'a leader on the majority side',
      15_000,
    );
    const electedMs = Date.now() - splitAt;
    // The old leader stops claiming the partition (check-quorum), though nobody can tell it who leads.
    await metadataUntil(cluster.member(isolated).kafkaPort, [TOPIC], (md) => md.topics[0]!.partitions[0]!.leaderId !== isolated, `broker ${isolated} to stop claiming the partition`, 10 * ELECTION_TIMEOUT_MS);
    const steppedDownMs = Date.now() - splitAt;
    t.diagnostic(`isolated broker ${isolated}; broker ${elected.topics[0]!.partitions[0]!.leaderId} elected after ${electedMs} ms; old leader stepped down after ${steppedDownMs} ms`);
    try {
      await until(() => book.acked.size >= ackedAtSplit + ACKS_PER_PHASE, 30_000, `${ACKS_PER_PHASE} acknowledgements during the split`);
    } catch (err) {
      for (const m of cluster.members) {
        const view = await metadataFrom(m.kafkaPort, [TOPIC]);
        const p = view.topics[0]!.partitions[0]!;
        t.diagnostic(`broker ${m.id} says: error ${p.errorCode} leader ${p.leaderId} epoch ${p.leaderEpoch} isr ${p.isrNodes.join(',')} brokers ${view.brokers.map((b) => b.nodeId).join(',')}`);
      }
      t.diagnostic(`acknowledged ${book.acked.size - ackedAtSplit} during the split`);
      keepLogs();
      throw err;
    }
    t.diagnostic(`${ACKS_PER_PHASE} acknowledged during the split after ${Date.now() - splitAt} ms`);
    await staleWrites;
    t.diagnostic(`writes to the isolated broker answered: ${staleAnswers.join(', ')}`);
    assert.equal(staleAnswers.length, STALE_WRITES);
    assert.ok(staleAnswers.every((a) => a !== 'error 0'), `the isolated leader acknowledged a write: ${staleAnswers.join(', ')}`);
    assert.ok(proxy.refused > 0, 'the isolated broker tried to reach its peers through the cut links');

    // Heal: every broker names the same leader, at the same epoch, with three in-sync replicas.
    proxy.heal();
    reachable = cluster.bootstrap;
    const healedAt = Date.now();
    const convergeDeadline = Date.now() + 20_000;
    while (!(await metadataAgrees(cluster.members.map((m) => m.kafkaPort), TOPIC, 0, 3))) {
      assert.ok(Date.now() < convergeDeadline, 'brokers did not agree on the partition within 20 s of the heal');
      await sleep(100);
    }
    t.diagnostic(`metadata agreed ${Date.now() - healedAt} ms after the heal`);
  } finally {
    healed = true;
  }
  const failures = await producing;
  t.diagnostic(`producer done ${Date.now() - startedAt} ms after the start`);
  if (failures.length > 0) keepLogs();
  assert.deepEqual(failures, [], 'every batch acknowledged');

  // Replicas converge: the same log size everywhere (the old leader truncated its unreplicated tail).
  const sizes = await converge(cluster.members.map((m) => m.httpPort), TOPIC, 0);
  assert.ok(sizes.every((s) => s > 0 && s === sizes[0]), `log sizes per broker differ: ${sizes.join(', ')}`);

  const stored = await readTopic(cluster.member(1).kafkaPort, TOPIC, 1);
  const stale = stored.filter((r) => r.value.startsWith('stale:'));
  assert.deepEqual(stale, [], 'writes the isolated leader never committed are gone');
  const report = checkDelivery(stored, [book]);
  assert.deepEqual(report.problems, []);
  t.diagnostic(`sent ${book.sent}, acknowledged ${book.acked.size}, stored ${stored.length}`);
});
