// Goal: the one record batch v2 header module reads every field where the layout says, names each
// defect checkBatch finds under each set of rules (storage's, the client's, the default), uses the CRC
// function it is given, and rewrites base offset, leader epoch and LogAppendTime without leaving a bad CRC.
// Method: batches from the builder, one field changed at a time; a counting CRC function stands in for
// the native one storage passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BATCH_PROBLEM_ERROR, Offsets, batchSizeAt, buildControlBatch, buildRecordBatch, checkBatch, ControlType, readAttributes, readBaseOffset,
  readBaseSequence, readBaseTimestamp, readBatchHeader, readLastOffset, readLastOffsetDelta, readMaxTimestamp, readPartitionLeaderEpoch,
  readProducerEpoch, readProducerId, readRecordsCount, setLogAppendTime, stampBatch, writeBatchCrc, type BatchProblemKind, type BatchRules, type CrcFunction,
} from '../../../src/protocol/kafka/record-batch/index.ts';
import { KafkaErrorCode } from '../../../src/protocol/kafka/error-codes.ts';
import { AssertionError } from '../../../src/util/assert.ts';
import { crc32c } from '../../../src/util/crc32c.ts';
import { isStreamBusError } from '../../../src/util/errors.ts';

/** Storage's rules: batches follow one another, CRC checked. */
const STORED: BatchRules = { exact: false, maxBytes: 1 << 20, crc: crc32c, fromClient: false };
/** The broker's Produce rules: one whole batch from a client, CRC left to storage. */
const PRODUCED: BatchRules = { exact: true, maxBytes: 1 << 20, crc: null, fromClient: true };

function batch(count = 3, opts: Parameters<typeof buildRecordBatch>[1] = {}): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`value ${i}`), timestamp: 1_700_000_000_000n + BigInt(i * 7) }));
  return buildRecordBatch(records, opts);
}

/** The kind of problem, or 'ok'. */
function kind(b: Uint8Array, rules?: BatchRules, at = 0, end = b.length): BatchProblemKind | 'ok' {
  return checkBatch(b, at, end, rules)?.kind ?? 'ok';
}

test('the number readers agree with readBatchHeader at every field, also past 2^32', () => {
  const b = batch(3, { producerId: 77n, producerEpoch: 4, baseSequence: 12, partitionLeaderEpoch: 6, baseOffset: 5n });
  stampBatch(b, 0, 2 ** 40 + 5, 9);
  const h = readBatchHeader(b);
  assert.equal(batchSizeAt(b), b.length);
  assert.equal(h.batchLength + 12, b.length);
  assert.equal(readBaseOffset(b, 0), 2 ** 40 + 5);
  assert.equal(BigInt(readBaseOffset(b, 0)), h.baseOffset);
  assert.equal(readLastOffsetDelta(b, 0), 2);
  assert.equal(readLastOffset(b, 0), 2 ** 40 + 7);
  assert.equal(readPartitionLeaderEpoch(b, 0), 9);
  assert.equal(h.partitionLeaderEpoch, 9);
  assert.equal(readAttributes(b, 0), h.attributes);
  assert.equal(BigInt(readBaseTimestamp(b, 0)), h.baseTimestamp);
  assert.equal(readMaxTimestamp(b, 0), 1_700_000_000_014);
  assert.equal(BigInt(readMaxTimestamp(b, 0)), h.maxTimestamp);
  assert.equal(readProducerId(b, 0), 77n);
  assert.equal(readProducerEpoch(b, 0), 4);
  assert.equal(readBaseSequence(b, 0), 12);
  assert.equal(readRecordsCount(b, 0), 3);
  assert.equal(h.recordsCount, 3);
  assert.equal(checkBatch(b), null, 'stamping left the CRC valid');
});

test('readers and checks work at a batch inside a larger buffer', () => {
  const first = batch(1);
  const second = batch(2);
  stampBatch(second, 0, 1000, 1);
  const all = Buffer.concat([first, second, first.subarray(0, 30)]);
  const at = first.length;
  assert.equal(batchSizeAt(all, at), second.length);
  assert.equal(readBaseOffset(all, at), 1000);
  assert.equal(readLastOffset(all, at), 1001);
  assert.equal(kind(all, STORED, at), 'ok', 'more bytes may follow under the stored rules');
  assert.equal(kind(all, undefined, at, at + second.length), 'ok');
  assert.equal(kind(all, STORED, at + second.length), 'truncated', 'the partial batch at the end');
  all[at + second.length - 1]! ^= 1;
  assert.equal(kind(all, STORED, at), 'crc', 'the CRC range starts at this batch, not at the buffer');
  assert.equal(batchSizeAt(all, all.length - 5), -1, 'fewer than 12 bytes left');
});

test('each defect is named, with the Kafka error it maps to', () => {
  const good = batch();
  const cases: Array<[string, (b: Buffer) => Buffer, BatchRules | undefined, BatchProblemKind, RegExp, number]> = [
    ['no room for batchLength', (b) => b.subarray(0, 10), STORED, 'truncated', /truncated batch header/, KafkaErrorCode.CORRUPT_MESSAGE],
    ['header cut short', (b) => b.subarray(0, 40), STORED, 'truncated', /runs past the end/, KafkaErrorCode.CORRUPT_MESSAGE],
    ['last byte missing', (b) => b.subarray(0, b.length - 1), undefined, 'truncated', /runs past the end/, KafkaErrorCode.CORRUPT_MESSAGE],
    ['length below a header', (b) => (b.writeInt32BE(10, Offsets.batchLength), b), STORED, 'length', /below the minimum/, KafkaErrorCode.CORRUPT_MESSAGE],
    ['over maxBytes', (b) => b, { ...STORED, maxBytes: 64 }, 'too-large', /above the limit of 64/, KafkaErrorCode.MESSAGE_TOO_LARGE],
    ['a second batch behind', (b) => Buffer.concat([b, b]), PRODUCED, 'trailing', /more than one batch/, KafkaErrorCode.INVALID_RECORD],
    ['magic 1', (b) => ((b[Offsets.magic] = 1), b), STORED, 'magic', /magic 1/, KafkaErrorCode.INVALID_RECORD],
    ['negative lastOffsetDelta', (b) => (b.writeInt32BE(-1, Offsets.lastOffsetDelta), b), STORED, 'count', /negative lastOffsetDelta/, KafkaErrorCode.INVALID_RECORD],
    ['more records than offsets', (b) => (b.writeInt32BE(4, Offsets.recordsCount), b), STORED, 'count', /records count 4/, KafkaErrorCode.INVALID_RECORD],
    ['negative records count', (b) => (b.writeInt32BE(-1, Offsets.recordsCount), b), STORED, 'count', /records count -1/, KafkaErrorCode.INVALID_RECORD],
    ['fewer records than offsets from a client', (b) => (b.writeInt32BE(2, Offsets.recordsCount), b), PRODUCED, 'count', /does not match/, KafkaErrorCode.INVALID_RECORD],
    ['codec 5', (b) => (b.writeInt16BE(5, Offsets.attributes), b), STORED, 'compression', /codec 5/, KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE],
    ['producer id without a sequence', (b) => (b.writeBigInt64BE(5n, Offsets.producerId), b), PRODUCED, 'sequence', /base sequence/, KafkaErrorCode.INVALID_RECORD],
    ['a flipped record byte', (b) => ((b[b.length - 1]! ^= 0xff), b), STORED, 'crc', /CRC32C mismatch/, KafkaErrorCode.CORRUPT_MESSAGE],
  ];
  for (const [name, mutate, rules, expected, message, errorCode] of cases) {
    const b = mutate(Buffer.from(good));
    const problem = checkBatch(b, 0, b.length, rules);
    assert.equal(problem?.kind, expected, name);
    assert.match(problem!.message, message, name);
    assert.equal(BATCH_PROBLEM_ERROR[problem!.kind], errorCode, name);
  }
  assert.equal(kind(good, { ...STORED, maxBytes: good.length }), 'ok', 'exactly maxBytes fits');
});

test('stored batches may hold fewer records than offsets (compaction) and be control batches; client batches may not', () => {
  const compacted = batch(3);
  compacted.writeInt32BE(1, Offsets.recordsCount);
  writeBatchCrc(compacted, 0);
  assert.equal(kind(compacted, STORED), 'ok');
  assert.equal(kind(compacted, PRODUCED), 'count');
  const marker = buildControlBatch({ type: ControlType.commit, coordinatorEpoch: 1 }, { producerId: 3n, producerEpoch: 0, timestamp: 1n });
  assert.equal(kind(marker, STORED), 'ok');
  assert.equal(kind(marker), 'ok');
  const refused = checkBatch(marker, 0, marker.length, PRODUCED);
  assert.equal(refused?.kind, 'control');
  assert.equal(BATCH_PROBLEM_ERROR.control, KafkaErrorCode.INVALID_RECORD);
  const idempotent = batch(2, { producerId: 5n, producerEpoch: 0, baseSequence: 0 });
  assert.equal(kind(idempotent, PRODUCED), 'ok');
});

test('the CRC is checked with the function given, once over attributes..end, and skipped when it is null', () => {
  const b = batch();
  const calls: Array<[number, number, number]> = [];
  const counting: CrcFunction = (data, seed, start, end) => {
    calls.push([seed, start, end]);
    return crc32c(data, seed, start, end);
  };
  assert.equal(kind(b, { ...STORED, crc: counting }), 'ok');
  assert.deepEqual(calls, [[0, Offsets.attributes, b.length]]);
  b[b.length - 1]! ^= 1;
  assert.equal(kind(b, { ...STORED, crc: null }), 'ok', 'a trusted scan does not read the records');
  assert.equal(kind(b, PRODUCED), 'ok', 'the broker leaves the CRC to storage');
  assert.equal(kind(b), 'crc', 'the default checks it');
});

test('stamping rewrites base offset and leader epoch outside the CRC and refuses impossible offsets', () => {
  const b = batch();
  const crc = readBatchHeader(b).crc;
  stampBatch(b, 0, 123_456_789, 7);
  assert.equal(readBatchHeader(b).crc, crc);
  assert.equal(readBatchHeader(b).baseOffset, 123_456_789n);
  assert.equal(kind(b), 'ok');
  assert.throws(() => stampBatch(b, 0, -1, 0), AssertionError);
  assert.throws(() => stampBatch(b.subarray(0, 40), 0, 1, 0), AssertionError);
});

test('LogAppendTime sets bit 3 and maxTimestamp and recomputes the CRC with the function given', () => {
  const b = batch();
  let used = 0;
  setLogAppendTime(b, 0, 1_800_000_000_000n, (data, seed, start, end) => (used++, crc32c(data, seed, start, end)));
  assert.equal(used, 1);
  assert.equal(readMaxTimestamp(b, 0), 1_800_000_000_000);
  assert.equal(readAttributes(b, 0) & 0x08, 0x08);
  assert.equal(kind(b), 'ok');
});

test('readBatchHeader refuses fewer than 61 bytes with a typed error', () => {
  const b = batch();
  assert.throws(() => readBatchHeader(b.subarray(0, 60)), (e) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH'));
  assert.throws(() => readBatchHeader(b, b.length - 60), (e) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH'));
});
