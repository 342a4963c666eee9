// Goal: partitions replicated over three brokers keep every acknowledged message through repeated
// SIGKILLs of their leaders while three real clients write with acks=all: librdkafka plain
// (at-least-once: duplicates allowed, nothing acknowledged lost, acknowledged messages in send order),
// librdkafka idempotent and kafkajs idempotent (exactly once, in send order). Each killed broker
// restarts, catches up and is in sync again before the next kill.
// Method: three real broker processes; kcat producers run one child per small batch (exit status 0
// with no delivery failure printed = the whole batch acknowledged, since kcat cannot tell message by
// message), a kafkajs producer sends small batches, each to one partition; meanwhile the leader of partition 0, then 1, then
// 2 is SIGKILLed, a new leader is awaited, the broker restarted and awaited back in every ISR. Then
// kcat consumes the topic from the beginning and the result is compared with what raw Fetch from the
// leaders returns and with the producers' ledgers (test/cluster/delivery-checks.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { createReplicatedTopic, metadataFrom, metadataUntil } from './cluster-requests.ts';
import { checkDelivery, ledger, readTopic, type ProducerLedger, type StoredRecord } from './delivery-checks.ts';
import { runKcat } from '../helpers/kcat.ts';
import { produceWithKafkajs, produceWithKcat } from './fault-producers.ts';
import { requireTool } from '../helpers/tools.ts';
import { until } from '../helpers/timeout.ts';

const TOPIC = 'kills';
const PARTITIONS = 3;
const KILLS = 3;
/** Acknowledgements (all producers together) between two kills, so every kill lands mid-stream. */
const ACKS_BETWEEN_KILLS = 150;
const KCAT_BATCH = 20;
const KCAT_BATCHES_MAX = 150;
const KAFKAJS_BATCH = 5;
const KAFKAJS_SENDS_MAX = 600;
/** Pause between a producer's batches, so the producers spread over the kills rather than race ahead. */
const PACE_MS = 40;
/** Batches every producer still sends once the last killed broker is back. */
const BATCHES_AFTER_KILLS = 3;
const KCAT_TIMEOUT_MS = 40_000;
const TEST_DEADLINE_MS = 120_000;

let cluster: BrokerCluster;

before(async () => {
  cluster = await startCluster(3);
  await createReplicatedTopic(cluster.member(1).kafkaPort, TOPIC, PARTITIONS);
});

after(async () => {
  await cluster?.stop();
});


interface Stream {
  readonly done: () => boolean;
  readonly deadline: number;
}

function kcatProducer(book: ProducerLedger, settings: readonly string[], stream: Stream, failed: string[]): Promise<string[]> {
  return produceWithKcat(book, {
    brokers: () => cluster.bootstrap,
    topic: TOPIC,
    settings,
    batch: KCAT_BATCH,
    batchesMax: KCAT_BATCHES_MAX,
    paceMs: PACE_MS,
    stop: stream.done,
    afterStop: BATCHES_AFTER_KILLS,
    deadline: stream.deadline,
    timeoutMs: KCAT_TIMEOUT_MS,
    onFailure: (batch, stderr) => failed.push(`kcat ${batch}`, stderr),
  });
}

/**
 * Each send goes to one partition: kafkajs 2.2.4 resolves a send spanning several leaders without
 * resending the part whose leader failed when that partition moved to a broker that had already
 * answered its own part (tulios/kafkajs#1303), so multi-leader sends lose messages on the client side.
 */
async function kafkajsProducer(book: ProducerLedger, stream: Stream): Promise<string[]> {
  const kafka = new kafkajs.Kafka({ clientId: 'leader-kills', brokers: cluster.bootstrap, logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1_000 } });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    return await produceWithKafkajs(book, producer, {
      topic: TOPIC,
      batch: KAFKAJS_BATCH,
      sendsMax: KAFKAJS_SENDS_MAX,
      paceMs: PACE_MS,
      partition: (n) => n % PARTITIONS,
      stop: stream.done,
      afterStop: BATCHES_AFTER_KILLS,
      deadline: stream.deadline,
    });
  } finally {
    await producer.disconnect();
  }
}

/** Parses kcat -C output in the format `%p %o %s\n`. */
function parseConsumed(stdout: string): StoredRecord[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [partition, offset, value] = line.split(' ');
      return { partition: Number(partition), offset: BigInt(offset!), value: value ?? '' };
    });
}

test('three producers keep every acknowledged message through three leader SIGKILLs and restarts', { timeout: TEST_DEADLINE_MS + 60_000 }, async (t) => {
  if (!requireTool(t, 'kcat', { probeArgs: ['-V'] })) return;
  const plain = ledger('kcat-plain', false);
  const idempotent = ledger('kcat-idem', true);
  const jsIdempotent = ledger('kafkajs-idem', true);
  const books = [plain, idempotent, jsIdempotent];
  const totalAcked = () => books.reduce((n, b) => n + b.acked.size, 0);
  let killsDone = false;
  const stream: Stream = { done: () => killsDone, deadline: Date.now() + TEST_DEADLINE_MS };

  /** Output of the killed broker processes and of failed kcat runs (name, text, ...), written out if a check fails. */
  const pastLogs: string[] = [];
  const producers = Promise.all([
    kcatProducer(plain, ['-X', 'max.in.flight=1'], stream, pastLogs),
    kcatProducer(idempotent, ['-X', 'enable.idempotence=true'], stream, pastLogs),
    kafkajsProducer(jsIdempotent, stream),
  ]);
  const kills: string[] = [];
  try {
    for (let k = 0; k < KILLS; k++) {
      const before = totalAcked();
      await until(() => totalAcked() >= before + ACKS_BETWEEN_KILLS, 30_000, `${ACKS_BETWEEN_KILLS} more acknowledgements before kill ${k + 1}`);
      const md = await metadataFrom(cluster.member(1 + (k % 3)).kafkaPort, [TOPIC]);
      const victim = md.topics[0]!.partitions.find((p) => p.partitionIndex === k)!.leaderId;
      const survivor = cluster.members.find((m) => m.id !== victim)!;
      const killedAt = Date.now();
      const killedProcess = cluster.member(victim).process!;
      await killedProcess.kill();
      pastLogs.push(`broker ${victim} before kill ${k + 1}`, killedProcess.output());
      await metadataUntil(
        survivor.kafkaPort,
        [TOPIC],
        (m) => m.topics[0]!.partitions.every((p) => p.errorCode === 0 && p.leaderId !== victim && p.leaderId > 0),
        `every partition led by a broker other than ${victim}`,
        15_000,
      );
      const movedMs = Date.now() - killedAt;
      await cluster.start(victim);
      await metadataUntil(
        survivor.kafkaPort,
        [TOPIC],
        (m) => m.topics[0]!.partitions.every((p) => p.errorCode === 0 && p.isrNodes.includes(victim)),
        `broker ${victim} back in every ISR`,
        30_000,
      );
      kills.push(`kill ${k + 1}: broker ${victim} (leader of partition ${k}); leaders moved after ${movedMs} ms; back in sync after ${Date.now() - killedAt} ms`);
    }
  } finally {
    killsDone = true;
  }
  const failures = await producers;
  t.diagnostic(kills.join('; '));
  t.diagnostic(books.map((b) => `${b.name}: sent ${b.sent}, acknowledged ${b.acked.size}`).join('; '));
  const keepLogs = (): void => {
    const dir = mkdtempSync(join(tmpdir(), 'streambus-leader-kills-'));
    for (let i = 0; i < pastLogs.length; i += 2) writeFileSync(join(dir, `${i / 2}-${pastLogs[i]!.replace(/ /g, '-')}.log`), pastLogs[i + 1]!);
    for (const m of cluster.members) writeFileSync(join(dir, `now-broker-${m.id}.log`), m.process?.output() ?? '');
    t.diagnostic(`logs in ${dir}`);
  };
  // librdkafka and kafkajs retry through an election; with 30 s message timeouts nothing should fail.
  if (failures.flat().length > 0) keepLogs();
  assert.deepEqual(failures.flat(), [], 'every batch acknowledged');

  // kcat reads the whole topic back, which is also what raw Fetch from each leader serves.
  const consumed = await runKcat(['-b', cluster.bootstrap.join(','), '-C', '-t', TOPIC, '-o', 'beginning', '-e', '-q', '-f', '%p %o %s\n'], null, KCAT_TIMEOUT_MS);
  assert.equal(consumed.code, 0, consumed.stderr);
  const viaKcat = parseConsumed(consumed.stdout).sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset));
  const viaFetch = await readTopic(cluster.member(1).kafkaPort, TOPIC, PARTITIONS);
  assert.deepEqual(viaKcat, viaFetch, 'kcat consumed what raw Fetch returns');

  const report = checkDelivery(viaFetch, books);
  t.diagnostic(`stored ${viaFetch.length} records; duplicates left by the plain producer: ${report.duplicates.get(plain.name) ?? 0}`);
  if (report.problems.length > 0) {
    t.diagnostic(`stored: ${viaFetch.map((r) => `p${r.partition}@${r.offset}=${r.value}`).join(' ')}`);
    keepLogs();
  }
  assert.deepEqual(report.problems, []);
});
