// Goal: the number-based big-endian helpers agree with Buffer's own readers and writers, signs included,
// over the whole range they promise (int64 within ±2^53).
// Method: round trips at the edges, checked against readBigInt64BE / readInt32BE / readInt16BE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readInt16, readInt32, readInt64, readUint32, writeInt16, writeInt32, writeInt64 } from '../../src/util/big-endian.ts';

test('int64 round trip over the safe range', () => {
  const b = Buffer.alloc(9);
  for (const v of [0, 1, -1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 53 - 1, -(2 ** 53 - 1), -(2 ** 40) + 3]) {
    writeInt64(b, 1, v);
    assert.equal(readInt64(b, 1), v, String(v));
    assert.equal(b.readBigInt64BE(1), BigInt(v), String(v));
  }
});

test('int32, uint32 and int16 match Buffer', () => {
  const b = Buffer.alloc(6);
  for (const v of [0, 1, -1, 0x7fffffff, -0x80000000, 0x12345678]) {
    writeInt32(b, 2, v);
    assert.equal(readInt32(b, 2), v);
    assert.equal(b.readInt32BE(2), v);
    assert.equal(readUint32(b, 2), b.readUInt32BE(2));
  }
  for (const v of [0, 1, -1, 0x7fff, -0x8000, 0x20]) {
    writeInt16(b, 3, v);
    assert.equal(readInt16(b, 3), v);
    assert.equal(b.readInt16BE(3), v);
  }
});
