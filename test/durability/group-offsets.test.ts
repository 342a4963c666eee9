// Goal: committed consumer-group offsets are durable on their own. An OffsetCommit is answered only
// once its __consumer_offsets record is synced, whatever storage.syncInterval says, so it is answered
// promptly even with a one-hour sync interval, and it survives the broker being SIGKILLed, with the
// commit in flight at the kill either fully there or not at all.
// Method: a broker with storage.syncInterval 1h; raw OffsetCommit requests in a loop while the broker
// is SIGKILLed at seeded random moments, restarted on the same data folder and ports, and read back
// with OffsetFetch; then a kafkajs consumer commits, the broker is killed, and a new consumer of the
// same group resumes exactly at the committed offset.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { restartBroker, startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { RawKafka, commitOffsets, createTopic, fetchOffsets } from '../helpers/raw-kafka.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { withTimeout } from '../helpers/timeout.ts';

const SEED = Number(process.env['STREAMBUS_CRASH_SEED'] ?? 20251127);
const ENV = { STREAMBUS_STORAGE_SYNC_INTERVAL: '1h', STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '100' };
const dirs: string[] = [];

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'streambus-offsets-crash-'));
  dirs.push(d);
  return d;
}

const PARTITIONS = [0, 1, 2, 3];
const offsetFor = (round: number, partition: number): bigint => BigInt(round * 10 + partition);

test('offset commits are answered with a 1 h sync interval and survive SIGKILL, the in-flight one all or nothing', { timeout: 120_000 }, async () => {
  const random = mulberry32(SEED);
  let broker: BrokerProcess = await startBroker({ dataDir: dataDir(), env: ENV });
  try {
    const setup = await RawKafka.connect(broker.kafkaPort);
    assert.equal(await createTopic(setup, 'commits', PARTITIONS.length), 0);
    setup.close();
    let round = 0;
    for (let kill = 0; kill < 3; kill++) {
      const conn = await RawKafka.connect(broker.kafkaPort);
      let acked = -1;
      let attempted = -1;
      const killAfterMs = 100 + Math.floor(random() * 400);
      const killer = new Promise<void>((resolve) => setTimeout(resolve, killAfterMs)).then(() => broker.kill());
      // Commits until the kill cuts the connection; bounded by count as well.
      for (let i = 0; i < 5_000 && conn.open; i++) {
        round++;
        attempted = round;
        let errors: Map<number, number>;
        try {
          errors = await commitOffsets(conn, 'durable-group', 'commits', new Map(PARTITIONS.map((p) => [p, offsetFor(round, p)])));
        } catch {
          break; // the broker died with this commit in flight
        }
        assert.deepEqual([...errors.values()], [0, 0, 0, 0], `commit ${round} refused (seed ${SEED})`);
        acked = round;
      }
      await killer;
      conn.close();
      assert.ok(acked > 0, `no commit was acknowledged within ${killAfterMs} ms (seed ${SEED})`);

      broker = await restartBroker(broker, { env: ENV });
      const check = await RawKafka.connect(broker.kafkaPort);
      const committed = await fetchOffsets(check, 'durable-group', 'commits', PARTITIONS);
      check.close();
      // Every partition shows the last acknowledged commit, or the one in flight, the same one everywhere.
      const rounds = new Set<number>();
      for (const p of PARTITIONS) {
        const offset = committed.get(p)!;
        const which = offset === offsetFor(acked, p) ? acked : offset === offsetFor(attempted, p) ? attempted : -1;
        assert.notEqual(which, -1, `partition ${p}: committed ${offset}, acknowledged ${offsetFor(acked, p)}, in flight ${offsetFor(attempted, p)} (seed ${SEED})`);
        rounds.add(which);
      }
      assert.equal(rounds.size, 1, `one commit request landed partly (seed ${SEED})`);
      round = Math.max(round, [...rounds][0]!);
    }
  } finally {
    await broker.stop();
  }
});

test('kafkajs: a consumer resumes at the offset committed before the broker was SIGKILLed', { timeout: 120_000 }, async () => {
  let broker: BrokerProcess = await startBroker({ dataDir: dataDir(), env: ENV });
  const { Kafka, logLevel } = kafkajs;
  const clientConfig = () => ({ clientId: 'offsets-crash', brokers: [`127.0.0.1:${broker.kafkaPort}`], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 500 } });
  const consumerConfig = { groupId: 'resume-group', heartbeatInterval: 300, sessionTimeout: 6000, maxWaitTimeInMs: 100 };
  const clients: { disconnect(): Promise<void> }[] = [];
  try {
    const kafka = new Kafka(clientConfig());
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'resume', acks: -1, messages: Array.from({ length: 100 }, (_, i) => ({ value: `m${i}` })) });
    await producer.disconnect();

    const first = kafka.consumer(consumerConfig);
    clients.push(first);
    await first.connect();
    await first.subscribe({ topic: 'resume', fromBeginning: true });
    const committed = new Promise<void>((resolve, reject) => {
      void first.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          if (message.offset !== '37') return;
          try {
            await first.commitOffsets([{ topic, partition, offset: '38' }]);
            resolve();
          } catch (err) {
            reject(err as Error);
          }
        },
      });
    });
    await withTimeout(committed, 30_000, 'the first consumer did not commit');
    await first.disconnect();
    await broker.kill();

    broker = await restartBroker(broker, { env: ENV });
    const second = new Kafka(clientConfig()).consumer(consumerConfig);
    clients.push(second);
    await second.connect();
    await second.subscribe({ topic: 'resume', fromBeginning: true });
    const firstOffset = new Promise<string>((resolve) => {
      void second.run({ autoCommit: false, eachMessage: async ({ message }) => resolve(message.offset) });
    });
    assert.equal(await withTimeout(firstOffset, 30_000, 'the second consumer read nothing'), '38');
  } finally {
    // Disconnect even after a failure: a running kafkajs consumer keeps the test process alive.
    await Promise.allSettled(clients.map((c) => c.disconnect()));
    await broker.stop();
  }
});
