// Goal: DeleteRecords works from kafkajs (admin.deleteTopicRecords) and @platformatic/kafka
// (admin.deleteRecords) against a lone broker: the log start (low watermark) moves, ListOffsets
// earliest answers it, a fetch below it is OFFSET_OUT_OF_RANGE, kcat reads from it, the segments
// wholly below it are gone from the data folder, and an offset past the high watermark or an unknown
// partition is refused with Kafka's error.
// Method: one broker process; a topic with small segments (segment.bytes 1024) filled by kafkajs in
// separate batches; the data folder is listed before and after.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin, Kafka } from 'kafkajs';
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import type { BrokerProcess } from '../helpers/broker-process.ts';
import { startKafkajsBroker, type KafkajsBroker } from '../helpers/kafkajs-broker.ts';
import { RawKafka } from '../helpers/raw-kafka.ts';
import { runKcat } from '../helpers/kcat.ts';
import { requireTool } from '../helpers/tools.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';

const RECORDS = 40;

let started: KafkajsBroker;
let broker: BrokerProcess;
let kafka: Kafka;
let admin: Admin;

before(async () => {
  started = await startKafkajsBroker('delete-records', {}, 2);
  ({ broker, kafka, admin } = started);
});

after(async () => {
  await started?.stop();
});

async function fill(topic: string): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '1024' }] }] });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < RECORDS; i++) await producer.send({ topic, messages: [{ value: `record-${i}-${'x'.repeat(100)}` }] });
  } finally {
    await producer.disconnect();
  }
  // deleteTopicRecords finds leaders in the admin's cached metadata, which it does not refresh itself.
  await admin.fetchTopicMetadata({ topics: [topic] });
}

const segmentFiles = (topic: string): string[] => readdirSync(join(broker.dataDir, 'data', `${topic}-0`)).filter((f) => f.endsWith('.log')).sort();

async function fetchError(topic: string, offset: bigint): Promise<number> {
  const conn = await RawKafka.connect(broker.kafkaPort);
  try {
    const res = await conn.request(1, 11, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1n }] }],
      forgottenTopicsData: [], rackId: '',
    });
    return res.responses[0]!.partitions[0]!.errorCode;
  } finally {
    conn.close();
  }
}

test('kafkajs deleteTopicRecords moves the low watermark; earlier segments are gone, reads below it are out of range, kcat reads from it', async (t) => {
  const topic = 'delete-records-kafkajs';
  await fill(topic);
  const before = segmentFiles(topic);
  assert.ok(before.length >= 4, `small segments roll: ${before.join(' ')}`);

  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '25' }] });
  const offsets = await admin.fetchTopicOffsets(topic);
  assert.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]), [[0, '25', String(RECORDS)]]);
  const after = segmentFiles(topic);
  assert.ok(after.length < before.length, `segments wholly below 25 are deleted: ${before.join(' ')} -> ${after.join(' ')}`);
  const base = (f: string): number => Number(f.slice(0, 20));
  assert.ok(base(after[0]!) <= 25, `the segment holding 25 stays: ${after.join(' ')}`);
  assert.deepEqual(before.filter((f) => !after.includes(f)).filter((f) => base(f) >= 25), [], 'no segment at or above the new start went');
  assert.equal(await fetchError(topic, 24n), KafkaErrorCode.OFFSET_OUT_OF_RANGE);
  assert.equal(await fetchError(topic, 25n), 0);

  // An offset below the log start changes nothing; -1 means the high watermark.
  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '3' }] });
  assert.equal((await admin.fetchTopicOffsets(topic))[0]!.low, '25');

  if (!requireTool(t, 'kcat', { probeArgs: ['-V'] })) return;
  const read = await runKcat(['-b', `127.0.0.1:${broker.kafkaPort}`, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o %s\\n'], null, 20_000);
  assert.equal(read.code, 0, read.stderr);
  const lines = read.stdout.trim().split('\n');
  assert.equal(lines.length, RECORDS - 25);
  assert.match(lines[0]!, /^25 record-25-/);
});

test('deleting to -1 empties the partition up to the high watermark; past it is OFFSET_OUT_OF_RANGE; an unknown partition is refused', async () => {
  const topic = 'delete-records-errors';
  await fill(topic);
  await assert.rejects(admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: String(RECORDS + 1) }] }), /Error while deleting records/);
  const conn = await RawKafka.connect(broker.kafkaPort);
  try {
    const past = await conn.request(21, 0, { topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: BigInt(RECORDS + 1) }] }], timeoutMs: 5000 });
    assert.deepEqual(past.topics[0]!.partitions.map((p) => [p.errorCode, p.lowWatermark]), [[KafkaErrorCode.OFFSET_OUT_OF_RANGE, -1n]]);
    const res = await conn.request(21, 2, { topics: [{ name: topic, partitions: [{ partitionIndex: 7, offset: 1n }] }, { name: 'no-such-topic', partitions: [{ partitionIndex: 0, offset: 1n }] }], timeoutMs: 5000 });
    assert.deepEqual(res.topics.map((r) => r.partitions.map((p) => [p.errorCode, p.lowWatermark])), [[[KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n]], [[KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n]]]);
    const all = await conn.request(21, 1, { topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: -1n }] }], timeoutMs: 5000 });
    assert.deepEqual(all.topics[0]!.partitions.map((p) => [p.errorCode, p.lowWatermark]), [[0, BigInt(RECORDS)]]);
  } finally {
    conn.close();
  }
  const offsets = await admin.fetchTopicOffsets(topic);
  assert.deepEqual(offsets.map((o) => [o.low, o.high]), [[String(RECORDS), String(RECORDS)]]);
});

test('@platformatic/kafka deleteRecords answers the new low watermark', async () => {
  const topic = 'delete-records-platformatic';
  await fill(topic);
  const client = new PlatformaticAdmin({ clientId: 'delete-records-platformatic', bootstrapBrokers: [`127.0.0.1:${broker.kafkaPort}`] });
  try {
    const result = await client.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 10n }] }] });
    assert.deepEqual(result, [{ name: topic, partitions: [{ partition: 0, lowWatermark: 10n }] }]);
  } finally {
    await client.close();
  }
  assert.equal((await admin.fetchTopicOffsets(topic))[0]!.low, '10');
});
