// Goal: librdkafka's exactly-once consume-transform-produce loop (confluent-kafka-python over Debian's
// librdkafka) works against the broker and survives its SIGKILL: every input record appears in the
// output exactly once for read_committed consumers, records of aborted transactions (every fifth batch
// is aborted on purpose, plus whatever the kill interrupts) never do, and the group's committed
// offsets, written inside the transactions (TxnOffsetCommit), end at the input's end.
// Method: one broker process (its data kept across a SIGKILL and a restart on the same ports); a
// Python script (test/transactions/librdkafka/eos.py, /usr/bin/python3) runs the loop; inputs written
// by kafkajs beforehand; the broker is killed once a third of the input is committed; outputs read
// back with a kafkajs read_committed consumer (the source offset in a header); offsets with a raw
// OffsetFetch. Every wait is bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import kafkajs from 'kafkajs';
import { restartBroker, startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { PythonScript, SYSTEM_PYTHON } from '../helpers/python-script.ts';
import { createTopic, fetchOffsets, RawKafka } from '../helpers/raw-kafka.ts';
import { requireTool } from '../helpers/tools.ts';
import { until, withTimeout } from '../helpers/timeout.ts';

const INPUTS = 400;
const PARTITIONS = 2;
const GROUP = 'eos-loop';

let broker: BrokerProcess;

before(async () => {
  broker = await startBroker({ env: { STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' }, keepData: true });
  const conn = await RawKafka.connect(broker.kafkaPort);
  try {
    for (const name of ['eos-in', 'eos-out']) assert.equal(await createTopic(conn, name, PARTITIONS), 0);
  } finally {
    conn.close();
  }
});

after(async () => {
  const code = await broker?.stop();
  if (broker) rmSync(broker.dataDir, { recursive: true, force: true });
  assert.equal(code, 0, broker?.output());
});

const kafka = () => new kafkajs.Kafka({ clientId: 'eos-check', brokers: [`127.0.0.1:${broker.kafkaPort}`], logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });

test('an exactly-once loop over librdkafka survives a SIGKILL of the broker', { timeout: 180_000 }, async (t) => {
  if (!requireTool(t, SYSTEM_PYTHON, { probeArgs: ['-c', 'import confluent_kafka'], probeMustSucceed: true, what: 'confluent-kafka for /usr/bin/python3', installHint: 'apt-get install python3-confluent-kafka' })) return;
  const producer = kafka().producer({ idempotent: true });
  await producer.connect();
  for (let i = 0; i < INPUTS; i += 50) {
    await producer.send({ topic: 'eos-in', acks: -1, messages: Array.from({ length: 50 }, (_, j) => ({ value: `in-${i + j}`, partition: (i + j) % PARTITIONS })) });
  }
  await producer.disconnect();

  const loop = new PythonScript('test/transactions/librdkafka/eos.py', { bootstrap: `127.0.0.1:${broker.kafkaPort}`, input: 'eos-in', output: 'eos-out', group: GROUP, transactional_id: 'eos-loop-tx', expected: INPUTS, abort_every: 5, deadline_s: 140 }, 150_000);
  const total = () => Math.max(0, ...loop.lines.filter((l) => l['event'] === 'committed').map((l) => Number(l['total'])));
  try {
    await loop.until(() => total() >= INPUTS / 3, 60_000, 'a third of the input committed');
    await broker.kill();
    broker = await restartBroker(broker, { env: { STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' }, keepData: true });
    await loop.until(() => loop.lines.some((l) => l['event'] === 'done' || l['event'] === 'fatal' || l['event'] === 'deadline'), 120_000, 'the loop ends');
    const end = loop.lines.at(-1)!;
    assert.equal(end['event'], 'done', loop.describe());
    assert.ok(loop.lines.some((l) => l['event'] === 'aborted'), 'batches were aborted on purpose');
    t.diagnostic(`${loop.lines.filter((l) => l['event'] === 'abortable').length} abortable error(s) around the kill`);
  } finally {
    loop.kill();
  }

  const consumer = kafka().consumer({ groupId: 'eos-reader', maxWaitTimeInMs: 200 });
  const outputs: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: 'eos-out', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => void outputs.push(`${partition}:${message.headers!['src']!.toString()}:${message.value!.toString()}`) });
    await withTimeout(until(() => outputs.length >= INPUTS, 30_000, 'every output read'), 35_000, 'reading the output');
    await new Promise((r) => setTimeout(r, 1_000)); // a duplicate would arrive in this time
  } finally {
    await consumer.disconnect();
  }
  assert.equal(outputs.length, INPUTS, 'each input once: no duplicate, nothing lost');
  const expected = Array.from({ length: INPUTS }, (_, i) => `${i % PARTITIONS}:${Math.floor(i / PARTITIONS)}:IN-${i}`);
  assert.deepEqual(outputs.sort(), expected.sort());

  const conn = await RawKafka.connect(broker.kafkaPort);
  try {
    const committed = await fetchOffsets(conn, GROUP, 'eos-in', [0, 1]);
    assert.deepEqual([...committed.entries()].sort(), [[0, BigInt(INPUTS / PARTITIONS)], [1, BigInt(INPUTS / PARTITIONS)]]);
  } finally {
    conn.close();
  }
});
