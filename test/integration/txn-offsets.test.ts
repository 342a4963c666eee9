// Goal: on a real broker, offsets committed with TxnOffsetCommit stay invisible to OffsetFetch (the
// last committed offset without require_stable, UNSTABLE_OFFSET_COMMIT with it) until a commit
// marker for the producer is written on the group's `__consumer_offsets` partition (WriteTxnMarkers,
// which tells the group coordinator), are dropped by an abort marker, and come back the same after a
// clean stop and after a kill (replay of the offsets log), where a transaction still open before the
// restart is decided after it.
// Method: one broker process; producer ids from InitProducerId without a transactional id (enough
// for the group side: no transaction coordinator checks them yet), raw TxnOffsetCommit v3,
// WriteTxnMarkers v1 and OffsetFetch v8. Waits are bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { restartBroker, startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { commitOffsets, createTopic, offsetsPartitionOf, RawKafka } from '../helpers/raw-kafka.ts';
import { until } from '../helpers/timeout.ts';

const TOPIC = 'txn-offsets';
const GROUP = 'txn-offsets-group';
const UNSTABLE_OFFSET_COMMIT = 88;
let broker: BrokerProcess;
let conn: RawKafka;

before(async () => {
  broker = await startBroker({ keepData: true });
  conn = await RawKafka.connect(broker.kafkaPort);
  assert.equal(await createTopic(conn, TOPIC, 2), 0);
});

after(async () => {
  conn?.close();
  const code = await broker?.stop();
  if (broker) rmSync(broker.dataDir, { recursive: true, force: true });
  assert.equal(code, 0, broker?.output());
});

async function producerId(): Promise<{ producerId: bigint; producerEpoch: number }> {
  const res = await conn.request(API_KEYS.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  assert.equal(res.errorCode, 0);
  return { producerId: res.producerId, producerEpoch: res.producerEpoch };
}

/** TxnOffsetCommit v3 of `offsets` (partition -> offset) for the producer; the error code per partition. */
async function txnCommit(producer: { producerId: bigint; producerEpoch: number }, offsets: Record<number, bigint>): Promise<Record<number, number>> {
  const res = await conn.request(API_KEYS.TxnOffsetCommit, 3, {
    transactionalId: `tx-${producer.producerId}`,
    groupId: GROUP,
    ...producer,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    topics: [{ name: TOPIC, partitions: Object.entries(offsets).map(([p, committedOffset]) => ({ partitionIndex: Number(p), committedOffset, committedLeaderEpoch: -1, committedMetadata: null })) }],
  });
  return Object.fromEntries(res.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode]));
}

/** The producer's marker on the group's offsets partition, through WriteTxnMarkers. */
async function marker(producer: { producerId: bigint; producerEpoch: number }, commit: boolean): Promise<void> {
  const res = await conn.request(API_KEYS.WriteTxnMarkers, 1, {
    markers: [{ ...producer, transactionResult: commit, coordinatorEpoch: 0, topics: [{ name: '__consumer_offsets', partitionIndexes: [await offsetsPartitionOf(conn, GROUP)] }] }],
  });
  assert.equal(res.markers[0]!.topics[0]!.partitions[0]!.errorCode, 0, `${commit ? 'commit' : 'abort'} marker`);
}

/** Partitions 0 and 1 as OffsetFetch v8 answers them: the offset, or `error N`. */
async function fetched(requireStable: boolean): Promise<(bigint | string)[]> {
  const res = await conn.request(API_KEYS.OffsetFetch, 8, { groups: [{ groupId: GROUP, topics: [{ name: TOPIC, partitionIndexes: [0, 1] }] }], requireStable });
  const group = res.groups[0]!;
  if (group.errorCode !== 0) return [`error ${group.errorCode}`];
  return group.topics[0]!.partitions.map((p) => (p.errorCode === 0 ? p.committedOffset : `error ${p.errorCode}`));
}

test('TxnOffsetCommit offsets become visible on the commit marker and are dropped by the abort marker', { timeout: 30_000 }, async () => {
  assert.deepEqual(await commitOffsets(conn, GROUP, TOPIC, new Map([[0, 1n]])), new Map([[0, 0]]));
  const first = await producerId();
  assert.deepEqual(await txnCommit(first, { 0: 10n, 1: 11n, 7: 99n }), { 0: 0, 1: 0, 7: 3 }, 'partition 7 does not exist: UNKNOWN_TOPIC_OR_PARTITION');
  assert.deepEqual(await fetched(false), [1n, -1n], 'pending offsets are not visible');
  assert.deepEqual(await fetched(true), [`error ${UNSTABLE_OFFSET_COMMIT}`, `error ${UNSTABLE_OFFSET_COMMIT}`]);
  await marker(first, true);
  assert.deepEqual(await fetched(true), [10n, 11n]);

  const second = await producerId();
  assert.deepEqual(await txnCommit(second, { 0: 20n }), { 0: 0 });
  assert.deepEqual(await fetched(true), [`error ${UNSTABLE_OFFSET_COMMIT}`, 11n]);
  await marker(second, false);
  assert.deepEqual(await fetched(true), [10n, 11n], 'the aborted offset is gone');
});

test('after a clean stop and after a kill the offsets log replays to the same answers; an open transaction is decided after the restart', { timeout: 90_000 }, async () => {
  const open = await producerId();
  assert.deepEqual(await txnCommit(open, { 1: 30n }), { 1: 0 });
  const expected = { plain: await fetched(false), stable: await fetched(true) };
  assert.deepEqual(expected, { plain: [10n, 11n], stable: [10n, `error ${UNSTABLE_OFFSET_COMMIT}`] });
  for (const how of ['stop', 'kill'] as const) {
    conn.close();
    if (how === 'stop') assert.equal(await broker.stop(), 0, broker.output());
    else await broker.kill();
    broker = await restartBroker(broker);
    conn = await RawKafka.connect(broker.kafkaPort);
    // Until the coordinator has loaded, the group answers a group-level error (loading, or not the coordinator yet).
    await until(async () => (await fetched(false)).length === 2, 30_000, 'the group coordinator to load');
    assert.deepEqual({ plain: await fetched(false), stable: await fetched(true) }, expected, `after ${how}`);
  }
  await marker(open, true);
  assert.deepEqual(await fetched(true), [10n, 30n]);
});
