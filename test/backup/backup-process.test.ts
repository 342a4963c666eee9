// Goal: the guide's "complete failure" procedure works on a real broker. Backups taken while
// producers write with acks=all (a full one, then more writes, then an incremental one) restore into
// an emptied data directory, and the restarted broker serves every message acknowledged before the
// incremental backup began, at its offset, byte for byte, with the consumer group's committed offsets.
// Restore refuses while the broker runs and into a non-empty data directory; a flipped byte in a
// stored segment makes verify exit 1 and restore refuse.
// Method: one broker process (small segments, so that the incremental backup has sealed segments to
// reuse) under a kafkajs producer loop sending to explicit partitions, each acknowledged send recorded
// with its offsets; `streambus backup create|verify` and `streambus restore` run as the CLI does,
// with --config naming the broker's file; the restored broker is read back with a kafkajs consumer.
// (Restore verifies every file it writes, so its success also says the untouched backups verify.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { restartBroker, startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { runCli } from '../helpers/run-cli.ts';
import { RawKafka, commitOffsets } from '../helpers/raw-kafka.ts';
import { withTimeout } from '../helpers/timeout.ts';

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const TOPIC = 'orders';
const PARTITIONS = 3;
const { Kafka, logLevel } = kafkajs;

interface Sent {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

test('backups of a broker under acks=all load restore every acknowledged message and the group offsets', { timeout: 180_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'streambus-backup-'));
  roots.push(root);
  const dataDir = join(root, 'data');
  const backups = join(root, 'backups');
  const configFile = join(root, 'broker.yaml');
  writeFileSync(configFile, `storage:\n  dataDir: ${dataDir}\n  segmentBytes: 16KiB\n`);
  const env = { STREAMBUS_STORAGE_SEGMENT_BYTES: '16KiB', STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '100' };
  let broker: BrokerProcess = await startBroker({ dataDir: root, args: ['--config', configFile], env });
  const clients: { disconnect(): Promise<void> }[] = [];
  try {
    const kafka = new Kafka({ clientId: 'backup-test', brokers: [`127.0.0.1:${broker.kafkaPort}`], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 500 } });
    const admin = kafka.admin();
    clients.push(admin);
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
    const producer = kafka.producer();
    clients.push(producer);
    await producer.connect();

    const acked: Sent[] = [];
    let stop = false;
    let sends = 0;
    const load = (async () => {
      // Bounded by count as well as by the flag; paced so that the backups run between sends.
      for (let seq = 0; !stop && seq < 5_000; seq++) {
        await new Promise((r) => setTimeout(r, 2));
        const partition = seq % PARTITIONS;
        const messages = Array.from({ length: 5 }, (_, i) => ({ key: `k${seq}-${i}`, value: `v${seq}-${i}-${'x'.repeat((seq * 7 + i) % 200)}`, partition }));
        const [meta] = await producer.send({ topic: TOPIC, acks: -1, messages });
        const base = Number(meta!.baseOffset);
        messages.forEach((m, i) => acked.push({ partition, offset: base + i, key: m.key, value: m.value }));
        sends++;
      }
    })();
    const waitForSends = async (count: number) => {
      const target = sends + count;
      const deadline = Date.now() + 30_000;
      while (sends < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(sends >= target, `the producer made ${sends} sends, wanted ${target}`);
    };

    await waitForSends(150);
    const raw = await RawKafka.connect(broker.kafkaPort);
    const commitErrors = await commitOffsets(raw, 'audit', TOPIC, new Map([0, 1, 2].map((p) => [p, BigInt(10 + p)])));
    raw.close();
    assert.deepEqual([...commitErrors.values()], [0, 0, 0]);
    await waitForSends(50);
    const full = await runCli(['backup', 'create', '--config', configFile, '--to', backups, '--full', '--json']);
    assert.equal(full.status, 0, full.stderr);
    assert.equal(JSON.parse(full.stdout).kind, 'full');

    await waitForSends(150);
    const beforeIncremental = acked.length;
    const incremental = await runCli(['backup', 'create', '--config', configFile, '--to', backups, '--json']);
    assert.equal(incremental.status, 0, incremental.stderr);
    const summary = JSON.parse(incremental.stdout) as { kind: string; reusedFiles: number };
    assert.equal(summary.kind, 'incremental');
    assert.ok(summary.reusedFiles > 0, 'sealed segments of the full backup are not copied again');
    await waitForSends(20);
    stop = true;
    await withTimeout(load, 30_000, 'the producer loop did not stop');

    // Restore refuses while the broker runs (its lock), then into the old, non-empty data directory.
    const running = await runCli(['restore', '--from', backups, '--config', configFile]);
    assert.equal(running.status, 1);
    assert.match(running.stderr, /in use by a running broker/);
    await producer.disconnect();
    await admin.disconnect();
    assert.equal(await broker.stop(), 0);
    const nonEmpty = await runCli(['restore', '--from', backups, '--config', configFile]);
    assert.equal(nonEmpty.status, 1);
    assert.match(nonEmpty.stderr, /not empty/);


    // A flipped byte in a stored segment: verify exits 1, restore refuses and writes nothing.
    rmSync(dataDir, { recursive: true, force: true });
    const fullId = (JSON.parse(full.stdout) as { id: string }).id;
    const segmentDir = join(backups, fullId, 'files', 'data', `${TOPIC}-0`);
    const victim = join(segmentDir, readdirSync(segmentDir).find((n) => n.endsWith('.log'))!);
    const original = readFileSync(victim);
    const flipped = Buffer.from(original);
    flipped[100] = flipped[100]! ^ 0x01;
    writeFileSync(victim, flipped);
    const bad = await runCli(['backup', 'verify', backups]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, new RegExp(`${TOPIC}-0/\\d{20}\\.log: .*CRC`));
    const refused = await runCli(['restore', '--from', backups, '--config', configFile]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /failed verification/);
    assert.deepEqual(readdirSync(dataDir), []);
    writeFileSync(victim, original);

    const restored = await runCli(['restore', '--from', backups, '--config', configFile]);
    assert.equal(restored.status, 0, restored.stderr);
    assert.match(restored.stdout, new RegExp(`restored backup ${(JSON.parse(incremental.stdout) as { id: string }).id}`));
    assert.match(restored.stdout, /broker\.yaml is kept in the backup/);

    broker = await restartBroker(broker, { args: ['--config', configFile], env });
    const reader = new Kafka({ clientId: 'backup-check', brokers: [`127.0.0.1:${broker.kafkaPort}`], logLevel: logLevel.NOTHING });
    const checkAdmin = reader.admin();
    clients.push(checkAdmin);
    await checkAdmin.connect();
    const offsets = await checkAdmin.fetchOffsets({ groupId: 'audit', topics: [TOPIC] });
    assert.deepEqual(
      offsets[0]!.partitions.map((p) => [p.partition, p.offset]).sort(),
      [0, 1, 2].map((p) => [p, String(10 + p)]),
    );

    const expected = acked.slice(0, beforeIncremental);
    const want = new Map(expected.map((m) => [`${m.partition}:${m.offset}`, m]));
    const seen = new Map<string, { key: string; value: string }>();
    const consumer = reader.consumer({ groupId: 'backup-check', maxWaitTimeInMs: 100 });
    clients.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    let wanted = 0;
    const allSeen = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const at = `${partition}:${message.offset}`;
          if (!seen.has(at) && want.has(at)) wanted++;
          seen.set(at, { key: message.key!.toString(), value: message.value!.toString() });
          if (wanted === want.size) resolve();
        },
      });
    });
    await withTimeout(allSeen, 60_000, 'the restored broker did not serve every acknowledged message').catch((err: Error) => {
      const missing = [...want.keys()].filter((k) => !seen.has(k));
      throw new Error(`${err.message}: ${missing.length} of ${want.size} missing (first ${missing.slice(0, 5).join(', ')}), ${seen.size} read`);
    });
    for (const [at, m] of want) assert.deepEqual(seen.get(at), { key: m.key, value: m.value }, `message at ${at}`);
  } finally {
    await Promise.allSettled(clients.map((c) => c.disconnect()));
    await broker.stop();
  }
});
