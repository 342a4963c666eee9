// Goal: record batches v2 are built, checked, rewritten in place and read back correctly for every
// codec, including control batches; record walks give each record's byte range; malformed records give
// typed errors. (Every checkBatch defect is in record-batch-header.test.ts.)
// Method: build batches with known contents, compare header fields at their documented offsets, read
// records back from each codec, and break record bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildRecordBatch, buildControlBatch, checkBatch, readBatchHeader, readRecords, readControlMarker, forEachRecord,
  stampBatch, setLogAppendTime, splitBatches, computeBatchCrc, compressionOf, isControlBatch, ControlType, batchSizeAt,
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
  stampBatch(b, 0, 123456789, 9);
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

test('forEachRecord walks an uncompressed batch: keys, null keys and values, deltas, byte ranges', () => {
  const recs = [
    { key: Buffer.from('a'), value: Buffer.from('1'), timestamp: 5000n },
    { key: null, value: Buffer.from('2'), timestamp: 5070n },
    { key: Buffer.from('b'.repeat(300)), value: null, timestamp: 105000n },
  ];
  const one = buildRecordBatch(recs, { baseOffset: 42n });
  // Behind another batch, so that ranges are positions in the whole buffer.
  const all = Buffer.concat([buildRecordBatch(recs.slice(0, 1)), one]);
  const at = batchSizeAt(all, 0);
  const seen: Array<[number, number, string | undefined, boolean]> = [];
  const ranges: Array<[number, number]> = [];
  forEachRecord(all, at, (r, start, end) => {
    seen.push([r.offsetDelta, r.timestampDelta, r.key?.toString().slice(0, 3), r.value === null]);
    ranges.push([start, end]);
  });
  assert.deepEqual(seen, [
    [0, 0, 'a', false],
    [1, 70, undefined, false],
    [2, 100000, 'bbb', true],
  ]);
  assert.equal(ranges[0]![0], at + 61, 'the first record starts after the header');
  assert.equal(ranges[1]![0], ranges[0]![1], 'records are contiguous');
  assert.equal(ranges[2]![1], all.length, 'the last record ends with the batch');
  const again = readRecords(one);
  assert.deepEqual(again.map((r) => r.offsetDelta), [0, 1, 2]);
});

test('forEachRecord: malformed records are typed errors; a compressed batch is a caller mistake', () => {
  const b = buildRecordBatch(records);
  const bad = Buffer.from(b);
  bad[61] = 0x7f; // the first record's length far past the batch end
  assert.throws(() => forEachRecord(bad, 0, () => undefined), (e) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH'));
  const extra = Buffer.from(b);
  extra.writeInt32BE(2, 57); // one record fewer than the bytes hold
  assert.throws(() => forEachRecord(extra, 0, () => undefined), (e) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH'));
  assert.throws(() => forEachRecord(b.subarray(0, b.length - 1), 0, () => undefined), (e) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH'));
  const gzip = buildRecordBatch(records, { compression: 1 });
  assert.throws(() => forEachRecord(gzip, 0, () => undefined), /compressed batch/);
});
