// Goal: record batches v2 are built, checked, rewritten in place and read back correctly for every
// codec, including control batches, and malformed batches give typed errors.
// Method: build batches with known contents, compare header fields at their documented offsets, flip
// bytes to break length/magic/CRC, and read records back from each codec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildRecordBatch, buildControlBatch, checkBatch, readBatchHeader, readRecords, readControlMarker,
  setBaseOffset, setPartitionLeaderEpoch, setLogAppendTime, splitBatches, computeBatchCrc, BATCH_PROBLEM_ERROR,
  compressionOf, isControlBatch, ControlType,
} from '../../../src/protocol/kafka/record-batch/index.ts';
import { compress, decompress, loadCompressionCodecs } from '../../../src/protocol/kafka/compression/index.ts';
import { isStreamBusError } from '../../../src/util/errors.ts';

const records = [
  { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{ key: 'h', value: Buffer.from('1') }], timestamp: 1700000000000n },
  { key: null, value: null, timestamp: 1700000000005n },
  { key: Buffer.alloc(0), value: Buffer.alloc(3000, 'x'), headers: [{ key: 'n', value: null }], timestamp: 1699999999990n },
];

test('header fields sit at their documented offsets and the CRC covers attributes..end', () => {
  const b = buildRecordBatch(records, { producerId: 7n, producerEpoch: 1, baseSequence: 5 });
  const h = readBatchHeader(b);
  assert.equal(h.baseOffset, 0n);
  assert.equal(h.batchLength, b.length - 12);
  assert.equal(h.magic, 2);
  assert.equal(h.lastOffsetDelta, 2);
  assert.equal(h.recordsCount, 3);
  assert.equal(h.baseTimestamp, 1700000000000n);
  assert.equal(h.maxTimestamp, 1700000000005n);
  assert.equal(h.producerId, 7n);
  assert.equal(h.producerEpoch, 1);
  assert.equal(h.baseSequence, 5);
  assert.equal(h.crc, computeBatchCrc(b, 0, b.length));
  assert.equal(checkBatch(b), null);
});

test('baseOffset and partitionLeaderEpoch rewrite in place without touching the CRC', () => {
  const b = buildRecordBatch(records);
  const crc = readBatchHeader(b).crc;
  setBaseOffset(b, 0, 123456789n);
  setPartitionLeaderEpoch(b, 0, 9);
  const h = readBatchHeader(b);
  assert.equal(h.baseOffset, 123456789n);
  assert.equal(h.partitionLeaderEpoch, 9);
  assert.equal(h.crc, crc);
  assert.equal(checkBatch(b), null);
  setLogAppendTime(b, 0, 1800000000000n);
  assert.equal(readBatchHeader(b).maxTimestamp, 1800000000000n);
  assert.equal(readBatchHeader(b).attributes & 8, 8);
  assert.equal(checkBatch(b), null, 'CRC recomputed after LogAppendTime');
});

test('length, magic and CRC problems are reported with the Kafka error they map to', () => {
  const b = buildRecordBatch(records);
  assert.equal(checkBatch(b.subarray(0, 40)), 'truncated');
  assert.equal(checkBatch(b, 0, b.length - 1), 'length');
  const m = Buffer.from(b);
  m[16] = 1;
  assert.equal(checkBatch(m), 'magic');
  assert.equal(BATCH_PROBLEM_ERROR.magic, 87);
  const c = Buffer.from(b);
  c[c.length - 1]! ^= 1;
  assert.equal(checkBatch(c), 'crc');
  assert.equal(BATCH_PROBLEM_ERROR.crc, 2);
});

test('records read back for every codec', async () => {
  await loadCompressionCodecs();
  for (const codec of [0, 1, 2, 3, 4]) {
    const b = buildRecordBatch(records, { compression: codec });
    assert.equal(compressionOf(readBatchHeader(b).attributes), codec);
    assert.equal(checkBatch(b), null);
    const got = readRecords(b);
    assert.equal(got.length, 3);
    assert.deepEqual(got[0]!.key, Buffer.from('k1'));
    assert.deepEqual(got[0]!.headers, [{ key: 'h', value: Buffer.from('1') }]);
    assert.equal(got[1]!.key, null);
    assert.equal(got[1]!.value, null);
    assert.equal(got[1]!.timestampDelta, 5);
    assert.equal(got[2]!.timestampDelta, -10);
    assert.equal(got[2]!.offsetDelta, 2);
    assert.deepEqual(got[2]!.key, Buffer.alloc(0));
    assert.deepEqual(got[2]!.value, Buffer.alloc(3000, 'x'));
    assert.deepEqual(got[2]!.headers, [{ key: 'n', value: null }]);
  }
});

test('snappy decodes both raw and xerial-framed input; codecs reject garbage with a typed error', async () => {
  await loadCompressionCodecs();
  const data = Buffer.from('snappy '.repeat(20000));
  const xerial = compress(2, data);
  assert.equal(xerial.subarray(1, 7).toString(), 'SNAPPY');
  assert.deepEqual(decompress(2, xerial), data);
  for (const codec of [1, 2, 3, 4]) {
    assert.deepEqual(decompress(codec, compress(codec, data)), data);
    assert.throws(() => decompress(codec, Buffer.from('definitely not compressed data')), (e) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH'), `codec ${codec}`);
  }
});

test('decompression refuses to exceed its byte limit', async () => {
  await loadCompressionCodecs();
  const data = Buffer.alloc(1 << 20);
  for (const codec of [1, 2, 3, 4]) {
    assert.throws(() => decompress(codec, compress(codec, data), 1000), (e) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH'), `codec ${codec}`);
  }
});

test('control batches carry the marker', () => {
  const b = buildControlBatch({ type: ControlType.commit, coordinatorEpoch: 3 }, { producerId: 11n, producerEpoch: 2, timestamp: 1n });
  const h = readBatchHeader(b);
  assert.ok(isControlBatch(h.attributes));
  assert.equal(h.attributes & 0x10, 0x10);
  assert.deepEqual(readControlMarker(readRecords(b)[0]!), { type: 1, coordinatorEpoch: 3 });
});

test('concatenated batches split, with a trailing partial batch left out', () => {
  const a = buildRecordBatch(records);
  const b = buildRecordBatch(records.slice(0, 1));
  const all = Buffer.concat([a, b, b.subarray(0, 30)]);
  assert.deepEqual(splitBatches(all), [{ start: 0, end: a.length }, { start: a.length, end: a.length + b.length }]);
});

test('malformed records give SB_ERR_INVALID_BATCH', () => {
  const b = buildRecordBatch(records);
  const bad = Buffer.from(b);
  bad.writeInt32BE(1000000, 57); // recordsCount far beyond the bytes
  assert.throws(() => readRecords(bad), (e) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH'));
  const bad2 = Buffer.from(b);
  bad2[61] = 0x7f; // first record's length varint now wrong
  assert.throws(() => readRecords(bad2), (e) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH'));
});
