// Goal: with storage.syncInterval 0, a Produce with acks=-1 is answered only once its batch is on
// stable storage, so killing the broker never loses an acknowledged message; with an idempotent
// producer, the batch in flight at the kill is retried into the restarted broker and stored once.
// Method: a kafkajs producer in this process sends numbered messages (one send in flight at a time)
// and records each acknowledged number; the broker is SIGKILLed at seeded random moments, restarted
// on the same data folder and ports, and the producer carries on, retrying. Three kills per variant
// (plain acks=-1, then idempotent). Afterwards a raw Fetch reads the partition: every acknowledged
// number is there; with idempotence every number is there at most once (without it, retries may
// duplicate, but never lose). A last, deterministic case resends an acknowledged idempotent batch to
// the restarted broker by hand: the producer state rebuilt from the log must recognise it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type Producer } from 'kafkajs';
import { restartBroker, startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { RawKafka, fetchAll, produceBody, textBatch } from '../helpers/raw-kafka.ts';
import { mulberry32 } from '../helpers/prng.ts';

const { Kafka, logLevel } = kafkajs;
const SEED = Number(process.env['STREAMBUS_CRASH_SEED'] ?? 20251127);
const KILLS = 3;
const PER_SEND = 20;
const ENV = { STREAMBUS_STORAGE_SYNC_INTERVAL: '0' };
const dirs: string[] = [];

after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Outcome {
  acked: Set<number>;
  /** Numbers whose send failed for good (retries exhausted): may or may not be stored. */
  failed: Set<number>;
  stored: number[];
}

async function crashRun(idempotent: boolean, seed: number): Promise<Outcome> {
  const random = mulberry32(seed);
  const dataDir = mkdtempSync(join(tmpdir(), 'streambus-produce-crash-'));
  dirs.push(dataDir);
  let broker: BrokerProcess = await startBroker({ dataDir, env: ENV });
  const kafka = new Kafka({
    clientId: idempotent ? 'crash-idempotent' : 'crash-plain',
    brokers: [`127.0.0.1:${broker.kafkaPort}`],
    logLevel: logLevel.NOTHING,
    // Generous retries: a send must outlive a broker restart (about a second here).
    retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 500 },
  });
  const newProducer = async (): Promise<Producer> => {
    const p = kafka.producer(idempotent ? { idempotent: true, maxInFlightRequests: 1 } : { maxInFlightRequests: 1 });
    await p.connect();
    return p;
  };
  const acked = new Set<number>();
  const failed = new Set<number>();
  let producer = await newProducer();
  let next = 0;
  let stop = false;
  let sendsSinceRestart = 0;
  try {
    const producing = (async () => {
      // Bounded: at most 2,000 sends, and the loop ends once the last restart has seen 10 sends.
      for (let s = 0; s < 2_000 && !stop; s++) {
        const numbers = Array.from({ length: PER_SEND }, () => next++);
        try {
          await producer.send({ topic: 'crash', acks: -1, messages: numbers.map((n) => ({ partition: 0, value: String(n) })) });
          for (const n of numbers) acked.add(n);
        } catch {
          // Retries ran out. The batch may or may not be stored; a fresh producer (a new producer id)
          // goes on, so its sequence numbers cannot collide with the failed batch.
          for (const n of numbers) failed.add(n);
          await producer.disconnect().catch(() => undefined);
          producer = await newProducer();
        }
        sendsSinceRestart++;
      }
    })();
    for (let kill = 0; kill < KILLS; kill++) {
      const delayMs = 150 + Math.floor(random() * 600);
      await new Promise((r) => setTimeout(r, delayMs));
      const ackedBefore = acked.size;
      await broker.kill();
      broker = await restartBroker(broker, { env: ENV });
      sendsSinceRestart = 0;
      assert.ok(ackedBefore > 0 || kill > 0, `nothing acknowledged before the first kill (seed ${seed})`);
    }
    // Let the producer prove the restarted broker takes new messages, then stop it.
    const deadline = Date.now() + 60_000;
    while (sendsSinceRestart < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    stop = true;
    await producing;
    assert.ok(sendsSinceRestart >= 10, `the producer did not get going again after the last restart (seed ${seed})`);
    await producer.disconnect();

    const conn = await RawKafka.connect(broker.kafkaPort);
    const { records } = await fetchAll(conn, 'crash', 0);
    conn.close();
    records.forEach((r, i) => assert.equal(r.offset, BigInt(i), `offsets contiguous (seed ${seed})`));
    return { acked, failed, stored: records.map((r) => Number(r.value)) };
  } finally {
    stop = true;
    await producer.disconnect().catch(() => undefined);
    await broker.stop();
  }
}

function check(outcome: Outcome, exactlyOnce: boolean, seed: number): void {
  const counts = new Map<number, number>();
  for (const n of outcome.stored) counts.set(n, (counts.get(n) ?? 0) + 1);
  const missing = [...outcome.acked].filter((n) => !counts.has(n));
  assert.deepEqual(missing, [], `acknowledged messages missing after SIGKILL (seed ${seed})`);
  for (const n of counts.keys()) assert.ok(outcome.acked.has(n) || outcome.failed.has(n), `stored message ${n} was never sent (seed ${seed})`);
  if (exactlyOnce) {
    const duplicated = [...counts].filter(([, c]) => c > 1).map(([n]) => n);
    assert.deepEqual(duplicated, [], `idempotent producer: messages stored more than once (seed ${seed})`);
  }
  // One send in flight at a time: first appearances keep send order.
  let last = -1;
  const seen = new Set<number>();
  for (const n of outcome.stored) {
    if (seen.has(n)) continue;
    seen.add(n);
    assert.ok(n > last, `message ${n} stored after ${last} (seed ${seed})`);
    last = n;
  }
  console.log(`seed ${seed}: ${outcome.acked.size} acknowledged, ${outcome.failed.size} failed sends' messages, ${outcome.stored.length} stored, ${outcome.stored.length - counts.size} duplicates`);
}

test('acks=-1, syncInterval 0: no acknowledged message is lost across 3 SIGKILLs (retries may duplicate)', { timeout: 120_000 }, async () => {
  check(await crashRun(false, SEED), false, SEED);
});

test('idempotent producer, syncInterval 0: across 3 SIGKILLs every acknowledged message is stored exactly once', { timeout: 120_000 }, async () => {
  check(await crashRun(true, SEED + 1), true, SEED + 1);
});

test('a resent idempotent batch is recognised after a SIGKILL restart: same offset, stored once', { timeout: 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'streambus-produce-crash-'));
  dirs.push(dataDir);
  let broker = await startBroker({ dataDir, env: ENV });
  try {
    let conn = await RawKafka.connect(broker.kafkaPort);
    const init = await conn.request(22, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    assert.equal(init.errorCode, 0);
    const ids = { producerId: init.producerId, producerEpoch: init.producerEpoch };
    const first = textBatch(['a0', 'a1', 'a2', 'a3', 'a4'], { ...ids, baseSequence: 0 });
    const second = textBatch(['b0', 'b1', 'b2', 'b3', 'b4'], { ...ids, baseSequence: 5 });
    const produce = async (batch: Buffer) => {
      // The broker stamps offsets into the bytes it is given: send a copy so the batch can be resent.
      const res = await conn.request(0, 7, produceBody('dedup', 0, Buffer.from(batch)));
      const p = res.responses[0]!.partitionResponses[0]!;
      return { errorCode: p.errorCode, baseOffset: p.baseOffset };
    };
    await conn.request(3, 9, { topics: [{ name: 'dedup' }], allowAutoTopicCreation: true });
    assert.deepEqual(await produce(first), { errorCode: 0, baseOffset: 0n });
    assert.deepEqual(await produce(second), { errorCode: 0, baseOffset: 5n });
    conn.close();

    await broker.kill();
    broker = await restartBroker(broker, { env: ENV });
    conn = await RawKafka.connect(broker.kafkaPort);
    assert.deepEqual(await produce(second), { errorCode: 0, baseOffset: 5n }, 'the retried batch is answered with its first offset');
    assert.deepEqual(await produce(first), { errorCode: 0, baseOffset: 0n }, 'an older batch among the last five is recognised too');
    const third = textBatch(['c0', 'c1'], { ...ids, baseSequence: 10 });
    assert.deepEqual(await produce(third), { errorCode: 0, baseOffset: 10n });
    const gap = textBatch(['d0'], { ...ids, baseSequence: 20 });
    assert.equal((await produce(gap)).errorCode, 45, 'a sequence gap after the restart is OUT_OF_ORDER_SEQUENCE_NUMBER');
    const { records } = await fetchAll(conn, 'dedup', 0);
    conn.close();
    assert.deepEqual(records.map((r) => r.value), ['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1', 'b2', 'b3', 'b4', 'c0', 'c1']);
  } finally {
    await broker.stop();
  }
});
