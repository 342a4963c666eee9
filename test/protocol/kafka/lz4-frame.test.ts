// Goal: the hand-written LZ4 frame decoder reads what LZ4 encoders write (lz4js here; librdkafka in the
// golden fixtures) and turns every malformation into SB_ERR_INVALID_BATCH without over-allocating.
// Method: round trips through lz4js over data that exercises long literals, overlapping matches and
// several blocks; hand-made frames for stored blocks and hostile headers; a corruption sweep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import lz4 from 'lz4js';
import { lz4FrameDecode } from '../../../src/protocol/kafka/compression/lz4-frame.ts';
import { isStreamBusError } from '../../../src/util/errors.ts';

const invalidBatch = (e: unknown) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH');
const MAX = 64 * 1024 * 1024;

function frame(flg: number, bd: number, blocks: Buffer[], extra: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.from([0x04, 0x22, 0x4d, 0x18, flg, bd]);
  return Buffer.concat([head, extra, Buffer.from([0]), ...blocks, Buffer.alloc(4)]);
}

test('decodes lz4js frames: random, repetitive (overlapping matches) and multi-block data', () => {
  let seed = 7;
  const rand = Buffer.alloc(300000, 0).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
  const inputs = [Buffer.alloc(0), Buffer.from('a'), Buffer.from('ab'.repeat(50000)), Buffer.alloc(5_000_000, 7), rand, Buffer.concat([rand.subarray(0, 1000), Buffer.from('xyz'.repeat(3000)), rand.subarray(0, 1000)])];
  for (const input of inputs) {
    const c = Buffer.from(lz4.compress(input));
    assert.deepEqual(lz4FrameDecode(c, MAX), input, `length ${input.length}`);
  }
});

test('stored (uncompressed) blocks and concatenated frames', () => {
  const stored = Buffer.alloc(4);
  stored.writeUInt32LE(0x80000005, 0);
  const f = frame(0x60, 0x40, [stored, Buffer.from('hello')]);
  assert.equal(lz4FrameDecode(f, MAX).toString(), 'hello');
  assert.equal(lz4FrameDecode(Buffer.concat([f, f]), MAX).toString(), 'hellohello');
});

test('hostile frames fail with SB_ERR_INVALID_BATCH and allocate nothing large', () => {
  const huge = Buffer.alloc(8);
  huge.writeBigUInt64LE(1n << 40n, 0);
  assert.throws(() => lz4FrameDecode(frame(0x68, 0x40, [], huge), MAX), invalidBatch, 'declared content size');
  const zeroOffset = Buffer.alloc(4);
  zeroOffset.writeUInt32LE(4, 0);
  assert.throws(() => lz4FrameDecode(frame(0x60, 0x40, [zeroOffset, Buffer.from([0x10, 0x61, 0x00, 0x00])]), MAX), invalidBatch, 'offset 0');
  const farOffset = Buffer.from([0x10, 0x61, 0x05, 0x00]);
  assert.throws(() => lz4FrameDecode(frame(0x60, 0x40, [zeroOffset, farOffset]), MAX), invalidBatch, 'offset before output');
  const oversize = Buffer.alloc(4);
  oversize.writeUInt32LE(0x7fffffff, 0);
  assert.throws(() => lz4FrameDecode(frame(0x60, 0x40, [oversize]), MAX), invalidBatch, 'block larger than maximum');
  assert.throws(() => lz4FrameDecode(Buffer.from('not lz4 at all'), MAX), invalidBatch, 'magic');
  assert.throws(() => lz4FrameDecode(frame(0xa0, 0x40, []), MAX), invalidBatch, 'version');
  // Output bomb: a valid frame of 5 MB of zeros against a 1 MB cap.
  assert.throws(() => lz4FrameDecode(Buffer.from(lz4.compress(Buffer.alloc(5_000_000))), 1024 * 1024), invalidBatch, 'cap');
});

test('every single-byte corruption of a valid frame gives data or SB_ERR_INVALID_BATCH', () => {
  const c = Buffer.from(lz4.compress(Buffer.from('the quick brown fox '.repeat(200))));
  for (let i = 0; i < c.length; i++) {
    for (const v of [0x00, 0xff, c[i]! ^ 0x80]) {
      const bad = Buffer.from(c);
      bad[i] = v;
      try {
        lz4FrameDecode(bad, 1024 * 1024);
      } catch (e) {
        assert.ok(invalidBatch(e), `byte ${i} = ${v}: ${String(e)}`);
      }
      try {
        lz4FrameDecode(bad.subarray(0, i), 1024 * 1024);
      } catch (e) {
        assert.ok(invalidBatch(e), `cut at ${i}: ${String(e)}`);
      }
    }
  }
});
