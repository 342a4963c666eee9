// Goal: a produced batch gets the Kafka error code a client acts on for each format problem and for
// this broker's policy (zstd before Produce v7, a transactional batch without a producer id), and an accepted batch reports the header
// fields producer state needs.
// Method: batches from the builder, one field changed at a time, checked without a broker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateProducedBatch } from '../../src/broker/produce-validation.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';
import { buildControlBatch, buildRecordBatch, ControlType, Offsets, writeBatchCrc } from '../../src/protocol/kafka/record-batch/index.ts';

const MAX = 1 << 20;

function batch(opts: Parameters<typeof buildRecordBatch>[1] = {}): Buffer {
  return buildRecordBatch([{ value: Buffer.from('one'), timestamp: 1000n }, { value: Buffer.from('two'), timestamp: 1009n }], opts);
}

test('an accepted batch reports its count, producer fields, offset delta and max timestamp', () => {
  const got = validateProducedBatch(batch({ producerId: 9n, producerEpoch: 2, baseSequence: 40 }), 9, MAX);
  assert.deepEqual(got, { errorCode: 0, errorMessage: null, recordCount: 2, producerId: 9n, producerEpoch: 2, baseSequence: 40, lastOffsetDelta: 1, maxTimestamp: 1009 });
});

test('a transactional batch of a producer is accepted like an idempotent one', () => {
  const got = validateProducedBatch(batch({ transactional: true, producerId: 4n, producerEpoch: 1, baseSequence: 0 }), 9, MAX);
  assert.equal(got.errorCode, 0);
  assert.equal(got.producerId, 4n);
});

test('format problems map to Kafka errors', () => {
  const good = batch();
  const cases: Array<[string, Buffer | null, number]> = [
    ['no records', null, KafkaErrorCode.INVALID_RECORD],
    ['empty records', Buffer.alloc(0), KafkaErrorCode.INVALID_RECORD],
    ['header cut short', good.subarray(0, 30), KafkaErrorCode.CORRUPT_MESSAGE],
    ['truncated batch', good.subarray(0, good.length - 1), KafkaErrorCode.CORRUPT_MESSAGE],
    ['two batches', Buffer.concat([good, good]), KafkaErrorCode.INVALID_RECORD],
    ['magic 1', Object.assign(Buffer.from(good), { [Offsets.magic]: 1 }), KafkaErrorCode.INVALID_RECORD],
    ['control batch', buildControlBatch({ type: ControlType.commit, coordinatorEpoch: 0 }, { producerId: 1n, producerEpoch: 0, timestamp: 1n }), KafkaErrorCode.INVALID_RECORD],
    ['idempotent without sequence', batch({ producerId: 4n, producerEpoch: 0 }), KafkaErrorCode.INVALID_RECORD],
    ['transactional without a producer id', batch({ transactional: true }), KafkaErrorCode.INVALID_RECORD],
  ];
  for (const [name, records, errorCode] of cases) {
    const got = validateProducedBatch(records, 9, MAX);
    assert.equal(got.errorCode, errorCode, name);
    assert.ok(got.errorMessage, name);
  }
  const miscounted = Buffer.from(good);
  miscounted.writeInt32BE(1, Offsets.recordsCount);
  writeBatchCrc(miscounted, 0);
  assert.equal(validateProducedBatch(miscounted, 9, MAX).errorCode, KafkaErrorCode.INVALID_RECORD, 'records count below lastOffsetDelta + 1');
  assert.equal(validateProducedBatch(good, 9, good.length - 1).errorCode, KafkaErrorCode.MESSAGE_TOO_LARGE);
  assert.equal(validateProducedBatch(good, 9, good.length).errorCode, 0, 'exactly max.message.bytes fits');
});

test('zstd needs Produce v7; unknown codecs are refused at any version', () => {
  const zstd = batch();
  zstd.writeInt16BE(4, Offsets.attributes);
  assert.equal(validateProducedBatch(zstd, 6, MAX).errorCode, KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  assert.equal(validateProducedBatch(zstd, 7, MAX).errorCode, 0);
  const unknown = batch();
  unknown.writeInt16BE(6, Offsets.attributes);
  assert.equal(validateProducedBatch(unknown, 9, MAX).errorCode, KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
});
