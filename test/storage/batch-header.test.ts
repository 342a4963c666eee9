// Goal: the record batch v2 header reader validates exactly what storage relies on and rewrites the
// base offset and leader epoch without invalidating the CRC.
// Method: batches built by the helpers, mutated one field at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchProblem, checkProducedBatch, lastOffset, maxTimestamp, readInt64, stampBatch, writeInt64, baseOffset, leaderEpoch } from '../../src/storage/batch-header.ts';
import { crc32c } from '../../src/util/crc32c.ts';
import { isStreamBusError } from '../../src/util/errors.ts';
import { makeBatch } from './helpers.ts';

test('int64 round trip over the safe range', () => {
  const b = Buffer.alloc(8);
  for (const v of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -(2 ** 40)]) {
    writeInt64(b, 0, v);
    assert.equal(readInt64(b, 0), v);
    assert.equal(b.readBigInt64BE(0), BigInt(v));
  }
});

test('a valid batch passes; stamping keeps the CRC valid', () => {
  const b = makeBatch([{ value: Buffer.from('a'), timestampDelta: 5 }, { value: Buffer.from('b') }], 1000);
  assert.equal(batchProblem(b, 0, b.length, crc32c), undefined);
  stampBatch(b, 0, 2 ** 40 + 5, 9);
  assert.equal(baseOffset(b, 0), 2 ** 40 + 5);
  assert.equal(leaderEpoch(b, 0), 9);
  assert.equal(lastOffset(b, 0), 2 ** 40 + 6);
  assert.equal(maxTimestamp(b, 0), 1005);
  assert.doesNotThrow(() => checkProducedBatch(b, crc32c, 1 << 20));
});

test('each defect is named', () => {
  const good = makeBatch([{ value: Buffer.from('hello') }]);
  const cases: Array<[string, (b: Buffer) => Buffer, RegExp]> = [
    ['short header', (b) => b.subarray(0, 10), /truncated/],
    ['length too small', (b) => (b.writeInt32BE(10, 8), b), /below the minimum/],
    ['runs past the end', (b) => b.subarray(0, b.length - 1), /runs past the end/],
    ['magic', (b) => ((b[16] = 1), b), /magic 1/],
    ['crc', (b) => ((b[b.length - 1] ^= 0xff), b), /CRC32C mismatch/],
    ['negative delta', (b) => (b.writeInt32BE(-1, 23), b), /negative lastOffsetDelta/],
  ];
  for (const [name, mutate, re] of cases) {
    const b = mutate(Buffer.from(good));
    assert.match(batchProblem(b, 0, b.length, crc32c) ?? 'ok', re, name);
  }
  assert.match(batchProblem(good, 0, good.length, crc32c, 20) ?? 'ok', /above the limit/);
  assert.throws(() => checkProducedBatch(Buffer.concat([good, Buffer.alloc(1)]), crc32c, 1 << 20), (e) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH'));
});
