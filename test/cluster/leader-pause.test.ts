// Goal: a partition leader that freezes (SIGSTOP) for three election timeouts while an idempotent
// producer writes with acks=all comes back without harm: another broker leads meanwhile and the
// producer keeps being acknowledged; after SIGCONT the frozen broker steps down (its own Metadata and
// every other broker's name the new leader); the Produce requests that queued up on its socket while
// it was frozen are answered with a retriable error, or with success only if their message is
// committed; every acknowledged message is stored exactly once, and the broker is back in sync with a
// log the same size as the others'.
// Method: three real broker processes; kcat's idempotent producer (librdkafka; one child per batch of
// ten, see fault-producers.ts) writes to partition 0 through all three brokers, with socket and request
// timeouts of 3 s so it gives up on the frozen broker's connection (kafkajs 2.2.4 retries a timed-out
// Produce on the same connection without refreshing metadata, so it waits out the whole freeze); the leader of partition 0 gets SIGSTOP, then raw Produce
// requests (acks=-1) are written to it and left waiting; after the pause, SIGCONT; then the partition
// is read from its leader and compared with the ledgers, and /metrics gives each broker's log size.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { createReplicatedTopic, metadataFrom, metadataUntil } from './cluster-requests.ts';
import { checkDelivery, converge, ledger, metadataAgrees, readTopic, valueOf } from './delivery-checks.ts';
import { produceWithKcat } from './fault-producers.ts';
import { requireTool } from '../helpers/tools.ts';
import { produceBody, RawKafka, textBatch } from '../helpers/raw-kafka.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { isRetriable } from '../../src/protocol/kafka/error-codes.ts';
import { until } from '../helpers/timeout.ts';

const TOPIC = 'pause';
/** Acknowledgements before the pause. */
const ACKS_PER_PHASE = 60;
/** Acknowledgements from the new leader while the old one is frozen (two batches). */
const ACKS_DURING_PAUSE = 20;
/** Three election timeouts of CLUSTER_TEST_ENV (600 ms). */
const PAUSE_MS = 1_800;
const PENDING_WRITES = 5;
const TEST_DEADLINE_MS = 90_000;

let cluster: BrokerCluster;

before(async () => {
  cluster = await startCluster(3);
  await createReplicatedTopic(cluster.member(1).kafkaPort, TOPIC, 1);
});

after(async () => {
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes one message to the broker at `port` and waits for its answer: the error code, or null if none came. */
async function pendingWrite(conn: RawKafka, value: string): Promise<number | null> {
  try {
    const res = await conn.request(API_KEYS.Produce, 7, { ...produceBody(TOPIC, 0, textBatch([value]), -1), timeoutMs: 2_000 }, 15_000);
    return res.responses[0]!.partitionResponses[0]!.errorCode;
  } catch {
    return null;
  }
}

test('a leader frozen for three election timeouts steps down on waking, acknowledges nothing uncommitted, and rejoins in sync', { timeout: TEST_DEADLINE_MS + 30_000 }, async (t) => {
  if (!requireTool(t, 'kcat', { probeArgs: ['-V'] })) return;
  const book = ledger('steady', true);
  // The queued raw writes are sent once each: a second copy of any of them would be a broker's doing.
  const queued = ledger('queued', true);
  let resumed = false;
  const producing = produceWithKcat(book, {
    brokers: () => cluster.bootstrap,
    topic: TOPIC,
    partition: 0,
    settings: ['-X', 'enable.idempotence=true', '-X', 'socket.timeout.ms=3000', '-X', 'request.timeout.ms=3000'],
    batch: 10,
    batchesMax: 300,
    paceMs: 20,
    stop: () => resumed,
    afterStop: 3,
    deadline: Date.now() + TEST_DEADLINE_MS,
    timeoutMs: 40_000,
  });
  let paused: number | null = null;
  try {
    await until(() => book.acked.size >= ACKS_PER_PHASE, 20_000, `${ACKS_PER_PHASE} acknowledgements before the pause`);
    const md = await metadataFrom(cluster.member(1).kafkaPort, [TOPIC]);
    paused = md.topics[0]!.partitions[0]!.leaderId;
    const others = cluster.members.filter((m) => m.id !== paused);
    const pid = cluster.member(paused).process!.proc.pid!;
    // Connections made before the freeze: the frozen broker cannot accept new ones, but writes on these
    // wait in its socket buffers until it wakes.
    const conns = await Promise.all(Array.from({ length: PENDING_WRITES }, () => RawKafka.connect(cluster.member(paused!).kafkaPort)));
    process.kill(pid, 'SIGSTOP');
    const pausedAt = Date.now();
    const ackedAtPause = book.acked.size;
    queued.sent = PENDING_WRITES;
    const answers = Promise.all(conns.map((conn, i) => pendingWrite(conn, valueOf(queued.name, i))));

    const elected = await metadataUntil(
      others[0]!.kafkaPort,
      [TOPIC],
      (m) => m.topics[0]!.partitions[0]!.errorCode === 0 && ![paused, -1].includes(m.topics[0]!.partitions[0]!.leaderId),
      'another leader while the old one is frozen',
      15_000,
    );
    const electedMs = Date.now() - pausedAt;
    await sleep(Math.max(0, pausedAt + PAUSE_MS - Date.now()));
    await until(() => book.acked.size >= ackedAtPause + ACKS_DURING_PAUSE, 30_000, `${ACKS_DURING_PAUSE} acknowledgements while the old leader is frozen`);
    const pausedMs = Date.now() - pausedAt;
    process.kill(pid, 'SIGCONT');
    const resumedAt = Date.now();

    // The woken broker hears of the newer term and names the new leader, as the others do.
    await metadataUntil(cluster.member(paused).kafkaPort, [TOPIC], (m) => ![paused, -1].includes(m.topics[0]!.partitions[0]!.leaderId), `broker ${paused} to name the new leader`, 10_000);
    const steppedDownMs = Date.now() - resumedAt;
    const codes = await answers;
    conns.forEach((c) => c.socket.destroy());
    codes.forEach((code, i) => {
      if (code === 0) queued.acked.add(i);
    });
    t.diagnostic(`froze broker ${paused} for ${pausedMs} ms; broker ${elected.topics[0]!.partitions[0]!.leaderId} elected after ${electedMs} ms; stepped down ${steppedDownMs} ms after waking; queued writes answered ${codes.join(', ')}`);
    for (const code of codes) assert.ok(code === null || code === 0 || isRetriable(code), `a queued write answered with non-retriable error ${code}`);

    const syncDeadline = Date.now() + 20_000;
    while (!(await metadataAgrees(cluster.members.map((m) => m.kafkaPort), TOPIC, 0, 3))) {
      assert.ok(Date.now() < syncDeadline, `broker ${paused} not back in sync, or the brokers disagree, 20 s after waking`);
      await sleep(100);
    }
    t.diagnostic(`in sync and agreed ${Date.now() - resumedAt} ms after waking`);
  } finally {
    resumed = true;
    if (paused !== null) cluster.member(paused).process?.proc.kill('SIGCONT');
  }
  const failures = await producing;
  assert.deepEqual(failures, [], 'every steady batch acknowledged');

  const sizes = await converge(cluster.members.map((m) => m.httpPort), TOPIC, 0);
  assert.ok(sizes.every((s) => s > 0 && s === sizes[0]), `log sizes per broker differ: ${sizes.join(', ')}`);
  const stored = await readTopic(cluster.member(1).kafkaPort, TOPIC, 1);
  const offsets = new Set(stored.map((r) => r.offset));
  assert.equal(offsets.size, stored.length, 'no offset read twice');
  const report = checkDelivery(stored, [book, queued]);
  assert.deepEqual(report.problems, []);
  t.diagnostic(`sent ${book.sent}, acknowledged ${book.acked.size}; queued writes stored ${stored.filter((r) => r.value.startsWith('queued:')).length}; stored ${stored.length}`);
});
