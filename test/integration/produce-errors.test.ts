// Goal: bad Produce input gets the Kafka error code clients act on, per partition, with nothing of it
// appended, and the connection keeps working: bad CRC -> CORRUPT_MESSAGE (2), a batch over
// max.message.bytes (topic config or broker default) -> MESSAGE_TOO_LARGE (10), two batches for one
// partition -> INVALID_RECORD (87), client control batches and idempotent batches without a sequence
// -> 87, zstd below Produce v7 -> UNSUPPORTED_COMPRESSION_TYPE (76), unknown topic with auto-creation
// off -> UNKNOWN_TOPIC_OR_PARTITION (3), invalid topic names -> INVALID_TOPIC_EXCEPTION (17), acks=2 ->
// INVALID_REQUIRED_ACKS (21). Idempotence: a duplicate batch (same producer id and sequence) gets
// its first base offset and is stored once; a skipped sequence -> OUT_OF_ORDER_SEQUENCE_NUMBER (45).
// Method: one broker with automatic topic creation off; requests built with the project's codecs and
// record batch builder over a raw socket; the log is read back with Fetch at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { RawKafka, createTopic, fetchAll, produceBody, textBatch } from '../helpers/raw-kafka.ts';
import { computeBatchCrc } from '../../src/protocol/kafka/record-batch/index.ts';

let broker: BrokerProcess;
let conn: RawKafka;
/** Values the broker acknowledged on topic 'good', in order. */
const acceptedOnGood: string[] = [];

before(async () => {
  broker = await startBroker({ env: { STREAMBUS_KAFKA_AUTO_CREATE_TOPICS: 'false' } });
  conn = await RawKafka.connect(broker.kafkaPort);
  assert.equal(await createTopic(conn, 'good', 1), 0);
  assert.equal(await createTopic(conn, 'small', 1, { 'max.message.bytes': '1024' }), 0);
});

after(async () => {
  // Nothing refused was appended: the log holds exactly the accepted batches.
  const { records } = await fetchAll(conn, 'good', 0);
  assert.deepEqual(records.map((r) => r.value), acceptedOnGood);
  conn?.close();
  const code = await broker?.stop();
  assert.equal(code, 0, broker?.output());
});

async function produce(topic: string, records: Uint8Array | readonly Uint8Array[], options: { acks?: number; version?: number } = {}) {
  const res = await conn.request(0, options.version ?? 7, produceBody(topic, 0, records, options.acks ?? -1));
  const p = res.responses[0]!.partitionResponses[0]!;
  return { errorCode: p.errorCode, baseOffset: p.baseOffset };
}

async function produceGood(values: string[], opts: Parameters<typeof textBatch>[1] = {}) {
  const r = await produce('good', textBatch(values, opts));
  if (r.errorCode === 0) acceptedOnGood.push(...values);
  return r;
}

test('a batch with a bad CRC is CORRUPT_MESSAGE', async () => {
  const batch = textBatch(['crc-1', 'crc-2']);
  batch[batch.length - 2] ^= 0xff; // inside the records, covered by the CRC
  assert.equal((await produce('good', batch)).errorCode, 2);
  const truncated = textBatch(['short']).subarray(0, 70); // batchLength says more than there is
  assert.equal((await produce('good', truncated)).errorCode, 2);
  assert.equal((await produceGood(['after-crc'])).errorCode, 0, 'the connection still works');
});

test('a batch over max.message.bytes is MESSAGE_TOO_LARGE (topic config and broker default)', async () => {
  assert.equal((await produce('small', textBatch(['x'.repeat(2000)]))).errorCode, 10);
  assert.equal((await produce('small', textBatch(['fits']))).errorCode, 0, 'a small batch fits the same topic');
  // Broker default message.max.bytes 1048588: one batch a little over it.
  assert.equal((await produce('good', textBatch(['y'.repeat(1_048_600)]))).errorCode, 10);
});

test('two batches for one partition, a client control batch, an idempotent batch without sequence: INVALID_RECORD', async () => {
  assert.equal((await produce('good', [textBatch(['two-a']), textBatch(['two-b'])])).errorCode, 87);
  assert.equal((await produce('good', textBatch(['ctl'], { control: true }))).errorCode, 87);
  assert.equal((await produce('good', textBatch(['noseq'], { producerId: 5n, producerEpoch: 0, baseSequence: -1 }))).errorCode, 87);
});

test('zstd below Produce v7 is UNSUPPORTED_COMPRESSION_TYPE', async () => {
  // The codec bits are checked before any decompression, so the payload need not really be zstd;
  // the CRC is recomputed so that only the codec is wrong.
  const batch = textBatch(['zstd?']);
  batch.writeInt16BE(4, 21);
  batch.writeUInt32BE(computeBatchCrc(batch, 0, batch.length), 17);
  assert.equal((await produce('good', batch, { version: 6 })).errorCode, 76);
});

test('unknown topic with automatic creation off: UNKNOWN_TOPIC_OR_PARTITION in Produce and Metadata; no topic appears', async () => {
  assert.equal((await produce('missing', textBatch(['m']))).errorCode, 3);
  const md = await conn.request(3, 9, { topics: [{ name: 'missing' }], allowAutoTopicCreation: true });
  assert.equal(md.topics[0]!.errorCode, 3);
  const all = await conn.request(3, 9, { topics: null, allowAutoTopicCreation: false });
  assert.ok(!all.topics.some((t) => t.name === 'missing'));
  // An existing topic, a partition it does not have.
  const res = await conn.request(0, 7, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: 'good', partitionData: [{ index: 7, records: textBatch(['p7']) }] }] });
  assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, 3);
});

test('invalid topic names: INVALID_TOPIC_EXCEPTION from CreateTopics and Metadata', async () => {
  for (const name of ['bad name', 'bad/name', '..', 'x'.repeat(250)]) {
    assert.equal(await createTopic(conn, name, 1), 17, name);
    const md = await conn.request(3, 9, { topics: [{ name }], allowAutoTopicCreation: true });
    assert.equal(md.topics[0]!.errorCode, 17, name);
  }
});

test('acks=2 is INVALID_REQUIRED_ACKS and appends nothing', async () => {
  assert.equal((await produce('good', textBatch(['acks2']), { acks: 2 })).errorCode, 21);
});

test('acks=0 gets no response, even when refused; the next request is answered in order', async () => {
  conn.send(0, 7, produceBody('missing', 0, textBatch(['zero-refused']), 0));
  const accepted = textBatch(['zero-ok']);
  conn.send(0, 7, produceBody('good', 0, accepted, 0));
  acceptedOnGood.push('zero-ok');
  const answer = await conn.request(18, 3, { clientSoftwareName: 'after-acks0', clientSoftwareVersion: '1' });
  assert.equal(answer.errorCode, 0);
});

test('idempotent producer: a duplicate batch gets its first offset and is stored once; a skipped sequence is 45', async () => {
  const init = await conn.request(22, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  assert.equal(init.errorCode, 0);
  assert.ok(init.producerId >= 0n);
  const ids = { producerId: init.producerId, producerEpoch: init.producerEpoch };
  const first = textBatch(['idem-0', 'idem-1', 'idem-2'], { ...ids, baseSequence: 0 });
  // The broker stamps offsets into the bytes it is given, so each send gets its own copy.
  const a = await produce('good', Buffer.from(first));
  assert.equal(a.errorCode, 0);
  acceptedOnGood.push('idem-0', 'idem-1', 'idem-2');
  const again = await produce('good', Buffer.from(first));
  assert.deepEqual(again, a, 'the duplicate is answered with the first base offset');
  const next = await produce('good', textBatch(['idem-3'], { ...ids, baseSequence: 3 }));
  assert.deepEqual(next, { errorCode: 0, baseOffset: a.baseOffset + 3n });
  acceptedOnGood.push('idem-3');
  assert.equal((await produce('good', textBatch(['idem-gap'], { ...ids, baseSequence: 5 }))).errorCode, 45);
  assert.equal((await produce('good', textBatch(['idem-back'], { ...ids, baseSequence: 2 }))).errorCode, 45, 'an old sequence that is not a known batch');
  const older = await conn.request(22, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  assert.notEqual(older.producerId, init.producerId, 'every InitProducerId hands out a fresh id');
});
