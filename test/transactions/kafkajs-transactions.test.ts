// Goal: kafkajs transactional producers work against a real broker as against Kafka: commit makes the
// records visible to read_committed consumers, abort hides them (read_uncommitted sees both), the
// records stay in order with the control batches skipped, and a second producer with the same
// transactional id fences the first (its next send or commit fails with a fencing error). The
// transaction metrics count what happened, and the broker's scrape lists each series once.
// Method: one broker process, kafkajs producers with transactionalId and idempotence, consumers with
// readUncommitted false (the default) and true, bounded waits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { type Kafka } from 'kafkajs';
import { startKafkajsBroker, type KafkajsBroker } from '../helpers/kafkajs-broker.ts';
import { until, withTimeout } from '../helpers/timeout.ts';
import { runCli } from '../cli/run-cli.ts';
import { repeatedSeries } from '../helpers/metric-series.ts';

let b: KafkajsBroker;
let kafka: Kafka;

before(async () => {
  b = await startKafkajsBroker('txn-test', { env: { STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0', STREAMBUS_KAFKA_TRANSACTION_TIMEOUT_CHECK_INTERVAL_MS: '200' } });
  kafka = b.kafka;
  await b.admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }] });
});

after(async () => {
  await b?.stop();
});

/** Every record value of `topic`, read from the start by a fresh group until `expected` arrived (or 20 s). */
async function readAll(topic: string, readUncommitted: boolean, expected: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `reader-${readUncommitted}-${Math.random()}`, readUncommitted, maxWaitTimeInMs: 200 });
  await consumer.connect();
  const seen: string[] = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await withTimeout(
      new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            seen.push(message.value!.toString());
            if (seen.length >= expected) resolve();
          },
        });
      }),
      20_000,
      `reading ${expected} records of ${topic} (have ${seen.length})`,
    );
    // Anything past the expected count would show up within a few fetches.
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await consumer.disconnect();
  }
  return seen.sort();
}

test('committed records are read, aborted ones only by read_uncommitted', { timeout: 90_000 }, async () => {
  const producer = kafka.producer({ transactionalId: 'orders-tx', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const t1 = await producer.transaction();
    await t1.send({ topic: 'orders', messages: [{ key: 'a', value: 'c1' }, { key: 'b', value: 'c2' }] });
    await t1.commit();
    const t2 = await producer.transaction();
    await t2.send({ topic: 'orders', messages: [{ key: 'a', value: 'x1' }, { key: 'b', value: 'x2' }] });
    await t2.abort();
    const t3 = await producer.transaction();
    await t3.send({ topic: 'orders', messages: [{ key: 'c', value: 'c3' }] });
    await t3.commit();
  } finally {
    await producer.disconnect();
  }
  assert.deepEqual(await readAll('orders', false, 3), ['c1', 'c2', 'c3']);
  assert.deepEqual(await readAll('orders', true, 5), ['c1', 'c2', 'c3', 'x1', 'x2']);
  const metrics = await (await fetch(`http://127.0.0.1:${b.broker.httpPort}/metrics`)).text();
  assert.match(metrics, /^streambus_transactions_ended_total\{[^}]*result="commit"[^}]*\} 2$/m);
  assert.match(metrics, /^streambus_transactions_ended_total\{[^}]*result="abort"[^}]*\} 1$/m);
  assert.match(metrics, /^streambus_transactional_ids(\{[^}]*\})? 1$/m);
  assert.match(metrics, /^streambus_transactions_ongoing(\{[^}]*\})? 0$/m);
  assert.deepEqual(repeatedSeries(metrics), [], 'every series once, with transactions and groups in use');
});

test('a second producer with the same transactional id fences the first', { timeout: 60_000 }, async () => {
  const first = kafka.producer({ transactionalId: 'zombie', idempotent: true, maxInFlightRequests: 1 });
  const second = kafka.producer({ transactionalId: 'zombie', idempotent: true, maxInFlightRequests: 1 });
  await first.connect();
  try {
    const zombie = await first.transaction();
    await zombie.send({ topic: 'orders', messages: [{ value: 'zombie' }] });
    await second.connect();
    // The new producer's InitProducerId aborts the zombie's open transaction and bumps the epoch.
    const t = await second.transaction();
    await t.send({ topic: 'orders', messages: [{ value: 'fresh' }] });
    await t.commit();
    await assert.rejects(zombie.commit(), (err: Error) => /fenced|epoch/i.test(`${err.name} ${err.message} ${String((err as { type?: string }).type)}`), 'the zombie cannot commit');
  } finally {
    await first.disconnect().catch(() => undefined);
    await second.disconnect();
  }
  const committed = await readAll('orders', false, 4);
  assert.ok(committed.includes('fresh'));
  assert.ok(!committed.includes('zombie'), `the zombie's record is never read_committed: ${committed.join(',')}`);
});

test('`streambus transaction list|describe` show an open transaction and its end', { timeout: 60_000 }, async () => {
  const producer = kafka.producer({ transactionalId: 'shown', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const b0 = ['-b', `127.0.0.1:${b.broker.kafkaPort}`];
  try {
    const t = await producer.transaction();
    await t.send({ topic: 'orders', messages: [{ value: 'open', partition: 1 }] });
    const listed = await runCli(['transaction', 'list', ...b0, '--state', 'Ongoing', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.out) as { transactionalId: string; state: string }[]).map((x) => [x.transactionalId, x.state]), [['shown', 'Ongoing']]);
    const described = await runCli(['transaction', 'describe', 'shown', ...b0, '--json']);
    assert.equal(described.code, 0, described.stderr);
    const d = JSON.parse(described.out) as { state: string; partitions: unknown; startTimeMs: number };
    assert.deepEqual([d.state, d.partitions], ['Ongoing', [{ topic: 'orders', partitions: [1] }]]);
    assert.ok(d.startTimeMs > 0);
    await t.commit();
    await until(async () => JSON.parse((await runCli(['transaction', 'describe', 'shown', ...b0, '--json'])).out).state === 'CompleteCommit', 10_000, 'the commit is complete');
    const text = await runCli(['transaction', 'describe', 'shown', ...b0]);
    assert.match(text.out, /state\s+CompleteCommit/);
    const missing = await runCli(['transaction', 'describe', 'nobody', ...b0]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /TRANSACTIONAL_ID_NOT_FOUND|not found/i);
  } finally {
    await producer.disconnect();
  }
});

test('an abandoned transaction is aborted at its timeout and read_committed consumers move past it', { timeout: 60_000 }, async () => {
  await b.admin.createTopics({ topics: [{ topic: 'abandoned', numPartitions: 1 }] });
  const gone = kafka.producer({ transactionalId: 'abandoned-tx', idempotent: true, maxInFlightRequests: 1, transactionTimeout: 1_500 });
  await gone.connect();
  const t = await gone.transaction();
  await t.send({ topic: 'abandoned', messages: [{ value: 'never' }] });
  await gone.disconnect(); // no commit, no abort: the producer is gone
  const later = kafka.producer({ transactionalId: 'later-tx', idempotent: true, maxInFlightRequests: 1 });
  await later.connect();
  try {
    const t2 = await later.transaction();
    await t2.send({ topic: 'abandoned', messages: [{ value: 'after' }] });
    await t2.commit();
  } finally {
    await later.disconnect();
  }
  // The committed record lies behind the open transaction: read_committed consumers see it only once
  // the coordinator aborted that transaction at its timeout.
  assert.deepEqual(await readAll('abandoned', false, 1), ['after']);
  const described = await runCli(['transaction', 'describe', 'abandoned-tx', '-b', `127.0.0.1:${b.broker.kafkaPort}`, '--json']);
  assert.equal(JSON.parse(described.out).state, 'CompleteAbort');
  assert.deepEqual(await readAll('abandoned', true, 2), ['after', 'never']);
});

test('offsets sent inside a transaction count only when it commits', { timeout: 60_000 }, async () => {
  const producer = kafka.producer({ transactionalId: 'offsets-tx', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const committed = async () => (await b.admin.fetchOffsets({ groupId: 'eos-group', topics: ['orders'] }))[0]!.partitions.map((p) => [p.partition, p.offset]).sort();
  try {
    const t1 = await producer.transaction();
    await t1.send({ topic: 'orders', messages: [{ value: 'derived-1', partition: 0 }] });
    await t1.sendOffsets({ consumerGroupId: 'eos-group', topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '2' }, { partition: 1, offset: '1' }] }] });
    await t1.commit();
    assert.deepEqual(await committed(), [[0, '2'], [1, '1']]);
    const t2 = await producer.transaction();
    await t2.sendOffsets({ consumerGroupId: 'eos-group', topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '9' }] }] });
    await t2.abort();
    assert.deepEqual(await committed(), [[0, '2'], [1, '1']], 'the aborted offsets never count');
  } finally {
    await producer.disconnect();
  }
});
