// Goal: on a real broker, transactional batches and WriteTxnMarkers give Kafka's read_committed
// behaviour: Fetch with isolation_level 1 returns data only below the last stable offset and lists
// the aborted transactions it overlaps, every Fetch answer carries the real last stable offset,
// read_uncommitted reads everything to the high watermark, ListOffsets latest follows the isolation
// level, and kafkajs consumers (read_committed by default) skip aborted records and wait for open
// transactions, while readUncommitted consumers see every data record. On a compacted topic the
// broker's compaction removes the markers of transactions that have nothing left (after
// delete.retention.ms) and read_committed reads the same records, raw, with kafkajs and with kcat while the
// markers carry their delete horizon. All of it survives restarts.
// Method: one broker process compacting every second; batches from the project's builder with the
// transactional attribute, producer ids from InitProducerId without a transactional id, markers
// through WriteTxnMarkers v1; raw Fetch v11 and ListOffsets v5, then kafkajs consumers and kcat; then the
// broker stopped (SIGTERM) and killed (SIGKILL) and started again on the same data. Waits are bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { readdirSync, rmSync } from 'node:fs';
import { restartBroker, startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { createTopic, produceBody, RawKafka, textBatch } from '../helpers/raw-kafka.ts';
import { until } from '../helpers/timeout.ts';
import { runKcat } from '../helpers/kcat.ts';
import { requireTool } from '../helpers/tools.ts';
import {
  ControlType,
  isControlBatch,
  isTransactionalBatch,
  readAttributes,
  readBatchHeader,
  readControlMarker,
  readDeleteHorizonMs,
  readRecords,
  splitBatches,
} from '../../src/protocol/kafka/record-batch/index.ts';

const TOPIC = 'txn';
/** Compacted, small segments, delete.retention.ms 1 s. */
const TABLE = 'txn-table';
let broker: BrokerProcess;
let conn: RawKafka;

before(async () => {
  broker = await startBroker({ env: { STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0', STREAMBUS_STORAGE_COMPACTION_INTERVAL: '1s' }, keepData: true });
  conn = await RawKafka.connect(broker.kafkaPort);
  assert.equal(await createTopic(conn, TOPIC, 1), 0);
});

after(async () => {
  conn?.close();
  const code = await broker?.stop();
  if (broker) rmSync(broker.dataDir, { recursive: true, force: true });
  assert.equal(code, 0, broker?.output());
});

async function producerId(): Promise<bigint> {
  const res = await conn.request(22, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  assert.equal(res.errorCode, 0);
  return res.producerId;
}

async function produce(values: readonly string[], pid = -1n, sequence = -1, topic = TOPIC, keys?: readonly string[]): Promise<bigint> {
  const batch = pid < 0n ? textBatch(values, {}, keys) : textBatch(values, { transactional: true, producerId: pid, producerEpoch: 0, baseSequence: sequence }, keys);
  const res = await conn.request(0, 7, produceBody(topic, 0, batch));
  const p = res.responses[0]!.partitionResponses[0]!;
  assert.equal(p.errorCode, 0, `produce ${values.join(',')}`);
  return p.baseOffset;
}

async function markers(decisions: readonly [bigint, boolean][], topic = TOPIC): Promise<void> {
  const res = await conn.request(27, 1, {
    markers: decisions.map(([pid, commit]) => ({ producerId: pid, producerEpoch: 0, transactionResult: commit, coordinatorEpoch: 0, topics: [{ name: topic, partitionIndexes: [0] }] })),
  });
  assert.deepEqual(res.markers.map((m) => [m.producerId, m.topics[0]!.partitions[0]!.errorCode]), decisions.map(([pid]) => [pid, 0]));
}

/** One Fetch v11 from offset 0: what it says, and the data records (offset:value) and control batch offsets it returns. */
async function fetchFromStart(isolationLevel: number) {
  const res = await conn.request(1, 11, {
    replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 8 << 20, isolationLevel, sessionId: 0, sessionEpoch: -1,
    topics: [{ topic: TOPIC, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 4 << 20, currentLeaderEpoch: -1, logStartOffset: -1n }] }],
    forgottenTopicsData: [], rackId: '',
  });
  const p = res.responses[0]!.partitions[0]!;
  assert.equal(p.errorCode, 0);
  const records: string[] = [];
  const controls: bigint[] = [];
  const bytes = p.records ?? Buffer.alloc(0);
  for (const { start, end } of splitBatches(bytes)) {
    const batch = bytes.subarray(start, end);
    const base = batch.readBigInt64BE(0);
    if (isControlBatch(readAttributes(batch, 0))) controls.push(base);
    else for (const r of readRecords(batch)) records.push(`${base + BigInt(r.offsetDelta)}:${r.value}`);
  }
  return { hw: p.highWatermark, lso: p.lastStableOffset, aborted: p.abortedTransactions?.map((t) => [t.producerId, t.firstOffset]), records, controls };
}

/**
 * Reads `topic` from offset 0 to its last stable offset with read_committed Fetch v11 as a Kafka
 * consumer does (the records of a listed aborted transaction are dropped up to its abort marker):
 * the records it keeps ("offset:key"), the markers it meets (and those with a delete horizon), the
 * aborted transactions listed.
 */
async function readCommittedAll(topic: string) {
  const records: string[] = [];
  const controls: bigint[] = [];
  const stamped: bigint[] = [];
  const aborted = new Set<string>();
  let next = 0n;
  let lso = 0n;
  for (let round = 0; round < 1000; round++) {
    const res = await conn.request(1, 11, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 8 << 20, isolationLevel: 1, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: next, partitionMaxBytes: 4 << 20, currentLeaderEpoch: -1, logStartOffset: -1n }] }],
      forgottenTopicsData: [], rackId: '',
    });
    const p = res.responses[0]!.partitions[0]!;
    assert.equal(p.errorCode, 0);
    lso = p.lastStableOffset;
    const listed = [...(p.abortedTransactions ?? [])].sort((x, y) => Number(x.firstOffset - y.firstOffset));
    for (const t of listed) aborted.add(`${t.producerId}@${t.firstOffset}`);
    const abortedProducers = new Set<bigint>();
    const bytes = p.records ?? Buffer.alloc(0);
    for (const { start, end } of splitBatches(bytes)) {
      const h = readBatchHeader(bytes, start);
      const batch = bytes.subarray(start, end);
      const last = h.baseOffset + BigInt(h.lastOffsetDelta);
      while (listed.length > 0 && listed[0]!.firstOffset <= last) abortedProducers.add(listed.shift()!.producerId);
      if (last >= next) next = last + 1n;
      if (isControlBatch(h.attributes)) {
        controls.push(h.baseOffset);
        if (readDeleteHorizonMs(batch, 0) !== null) stamped.push(h.baseOffset);
        if (readControlMarker(readRecords(batch)[0]!).type === ControlType.abort) abortedProducers.delete(h.producerId);
      } else if (!(isTransactionalBatch(h.attributes) && abortedProducers.has(h.producerId))) {
        for (const r of readRecords(batch)) records.push(`${h.baseOffset + BigInt(r.offsetDelta)}:${r.key}`);
      }
    }
    if (next >= lso) break;
  }
  return { lso, records, controls, stamped, aborted: [...aborted] };
}

async function latest(isolationLevel: number): Promise<bigint> {
  const res = await conn.request(2, 5, { replicaId: -1, isolationLevel, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }] });
  return res.topics[0]!.partitions[0]!.offset;
}

test('read_committed reads below the LSO and lists aborts; read_uncommitted reads all; kafkajs skips aborted records', { timeout: 120_000 }, async () => {
  const a = await producerId();
  const b = await producerId();
  assert.equal(await produce(['p0']), 0n);
  assert.equal(await produce(['a0', 'a1'], a, 0), 1n);
  assert.equal(await produce(['b0'], b, 0), 3n);
  assert.deepEqual(await fetchFromStart(1), { hw: 4n, lso: 1n, aborted: [], records: ['0:p0'], controls: [] });
  assert.equal(await latest(1), 1n);
  assert.equal(await latest(0), 4n);

  await markers([[a, true], [b, false]]);
  assert.equal(await produce(['a2'], a, 2), 6n, 'a new transaction of the same producer, sequences going on');
  assert.deepEqual(await fetchFromStart(1), { hw: 7n, lso: 6n, aborted: [[b, 3n]], records: ['0:p0', '1:a0', '2:a1', '3:b0'], controls: [4n, 5n] });
  const uncommitted = await fetchFromStart(0);
  assert.deepEqual({ ...uncommitted, aborted: undefined }, { hw: 7n, lso: 6n, aborted: undefined, records: ['0:p0', '1:a0', '2:a1', '3:b0', '6:a2'], controls: [4n, 5n] });
  assert.deepEqual(uncommitted.aborted, [], 'read_uncommitted lists no aborts');
  assert.equal(await latest(1), 6n);
  assert.equal(await latest(0), 7n);

  const kafka = new kafkajs.Kafka({ clientId: 'txn-markers', brokers: [`127.0.0.1:${broker.kafkaPort}`], logLevel: kafkajs.logLevel.NOTHING });
  const seen = { committed: [] as string[], uncommitted: [] as string[] };
  const committed = kafka.consumer({ groupId: 'txn-committed', maxWaitTimeInMs: 100 });
  const everything = kafka.consumer({ groupId: 'txn-uncommitted', maxWaitTimeInMs: 100, readUncommitted: true });
  try {
    for (const [consumer, list] of [[committed, seen.committed], [everything, seen.uncommitted]] as const) {
      await consumer.connect();
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void list.push(`${message.offset}:${message.value}`) });
    }
    await until(() => seen.committed.length >= 3 && seen.uncommitted.length >= 5, 30_000, 'both consumers to read');
    assert.deepEqual(seen.uncommitted, ['0:p0', '1:a0', '2:a1', '3:b0', '6:a2']);
    assert.deepEqual(seen.committed, ['0:p0', '1:a0', '2:a1'], 'the aborted record is skipped, the open transaction not read');
    await markers([[a, true]]);
    await until(() => seen.committed.length >= 4, 30_000, 'the committed transaction to be read');
    assert.deepEqual(seen.committed, ['0:p0', '1:a0', '2:a1', '6:a2']);
  } finally {
    await committed.disconnect();
    await everything.disconnect();
  }
});

let table: Awaited<ReturnType<typeof readCommittedAll>> | undefined;

/**
 * Writes to a new compacted topic (small segments): an aborted transaction (k1), a committed one
 * whose record a plain one supersedes (k2), and three committed ones that stay (k3, k4, k5; a and b
 * write again so that their first markers are not their last batches), then plain records.
 */
async function writeTransactions(topic: string, deleteRetentionMs: string) {
  assert.equal(await createTopic(conn, topic, 1, { 'cleanup.policy': 'compact', 'segment.bytes': '1024', 'delete.retention.ms': deleteRetentionMs }), 0);
  const [a, b, c] = [await producerId(), await producerId(), await producerId()];
  const sequences = new Map<bigint, number>();
  const put = (key: string, pid = -1n) => {
    const sequence = pid < 0n ? -1 : (sequences.get(pid) ?? 0);
    if (pid >= 0n) sequences.set(pid, sequence + 1);
    return produce([`${key} value`], pid, sequence, topic, [key]);
  };
  const decide = async (pid: bigint, commit: boolean) => {
    await markers([[pid, commit]], topic);
    return (await readCommittedAll(topic)).controls.at(-1)!;
  };
  const abortedRecord = await put('k1', a);
  const abort = await decide(a, false);
  const supersededRecord = await put('k2', b);
  const supersededCommit = await decide(b, true);
  await put('k2');
  await put('k3', c);
  const kept = [await decide(c, true)];
  await put('k4', a);
  kept.push(await decide(a, true));
  await put('k5', b);
  kept.push(await decide(b, true));
  for (let i = 0; i < 30; i++) await put(`pad${i}`);
  const before = await readCommittedAll(topic);
  assert.deepEqual(before.controls, [abort, supersededCommit, ...kept]);
  assert.deepEqual(before.aborted, [`${a}@${abortedRecord}`]);
  assert.ok(!before.records.includes(`${abortedRecord}:k1`) && before.records.includes(`${supersededRecord}:k2`));
  return { before, kept, emptied: [abort, supersededCommit], supersededRecord };
}

test('a compacted topic loses the markers of transactions with nothing left; read_committed reads the same', { timeout: 60_000 }, async () => {
  const { before, kept, supersededRecord } = await writeTransactions(TABLE, '1000');
  // Compaction every second: the records go, then the markers get their horizon, then they go.
  await until(async () => (await readCommittedAll(TABLE)).controls.length === kept.length, 30_000, 'the markers of the emptied transactions to go', 200);
  table = await readCommittedAll(TABLE);
  assert.deepEqual(table.controls, kept);
  assert.deepEqual(table.aborted, [], 'the abort whose marker went is no longer listed');
  assert.equal(table.lso, before.lso);
  assert.deepEqual(table.records, before.records.filter((r) => r !== `${supersededRecord}:k2`), 'read_committed reads the same records, less the superseded one');
});

test('markers waiting for their delete horizon (KIP-534 bit 6) are read by kafkajs and librdkafka as before', { timeout: 60_000 }, async (t) => {
  const topic = 'txn-table-stamped';
  const { emptied, supersededRecord, before } = await writeTransactions(topic, '3600000');
  await until(async () => String((await readCommittedAll(topic)).stamped) === String(emptied), 30_000, 'the markers of the emptied transactions to get a horizon', 200);
  const raw = await readCommittedAll(topic);
  assert.deepEqual(raw.records, before.records.filter((r) => r !== `${supersededRecord}:k2`));
  const kafka = new kafkajs.Kafka({ clientId: 'txn-markers-stamped', brokers: [`127.0.0.1:${broker.kafkaPort}`], logLevel: kafkajs.logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: 'txn-stamped', maxWaitTimeInMs: 100 });
  const seen: string[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(`${message.offset}:${message.key}`) });
    await until(() => seen.length >= raw.records.length, 30_000, 'kafkajs to read the topic');
    assert.deepEqual(seen, raw.records, 'read_committed kafkajs reads what a raw read_committed Fetch gives');
  } finally {
    await consumer.disconnect();
  }
  if (!requireTool(t, 'kcat', { probeArgs: ['-V'] })) return;
  const kcat = await runKcat(['-C', '-b', `127.0.0.1:${broker.kafkaPort}`, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_committed', '-f', '%o:%k\\n'], null, 30_000);
  assert.equal(kcat.code, 0, kcat.stderr);
  assert.deepEqual(kcat.stdout.split('\n').filter((l) => l !== ''), raw.records, 'read_committed kcat reads what a raw read_committed Fetch gives');
});

test('the transactions come back the same after a clean stop (checkpoint) and after a kill (checkpoint, then the log after it)', { timeout: 60_000 }, async () => {
  await produce(['c0'], await producerId(), 0);
  const expected = await fetchFromStart(1);
  assert.ok(expected.lso < expected.hw && expected.aborted!.length > 0, 'an open transaction and an abort to come back');
  for (const how of ['stop', 'kill'] as const) {
    conn.close();
    if (how === 'stop') assert.equal(await broker.stop(), 0, broker.output());
    else await broker.kill();
    const checkpoints = readdirSync(broker.dataDir, { recursive: true }).filter((name) => String(name).endsWith(`${TOPIC}-0/transactions.checkpoint`));
    // A clean stop writes the partition's checkpoint; it stays valid (the log below it does not
    // change), so the kill after the next start finds it too and scans nothing before it.
    assert.equal(checkpoints.length, 1, `checkpoints after ${how}: ${checkpoints.join(', ')}`);
    broker = await restartBroker(broker);
    conn = await RawKafka.connect(broker.kafkaPort);
    assert.deepEqual(await fetchFromStart(1), expected, `after ${how}`);
    assert.deepEqual(await readCommittedAll(TABLE), table, `${TABLE} after ${how}`);
  }
});
