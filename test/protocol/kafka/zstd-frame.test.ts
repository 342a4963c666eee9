// Goal: zstd frames are checked before decoding, so a header cannot make the decoder allocate a huge
// window or output; valid frames (with and without a content size) still decode.
// Method: frames from the zstd encoder; hand-made headers with huge windows, content sizes and block
// counts; a bounded corruption sweep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compress, decompress, loadCompressionCodecs } from '../../../src/protocol/kafka/compression/index.ts';
import { zstdDecodedBound } from '../../../src/protocol/kafka/compression/zstd.ts';
import { isStreamBusError } from '../../../src/util/errors.ts';

const invalidBatch = (e: unknown) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH');
const MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

test('encoder output decodes and its bound covers it', async () => {
  await loadCompressionCodecs();
  for (const input of [Buffer.from('x'), Buffer.from('abc'.repeat(100000)), Buffer.alloc(3_000_000, 1)]) {
    const c = compress(4, input);
    assert.ok(zstdDecodedBound(c, 64 << 20) >= input.length);
    assert.deepEqual(decompress(4, c), input);
  }
});

test('a frame without a content size (as librdkafka writes) decodes, bounded by its blocks', () => {
  // Window 2^21 (descriptor 0x58), one raw last block of 5 bytes.
  const frame = Buffer.from([...MAGIC, 0x00, 0x58, 0x29, 0x00, 0x00, ...Buffer.from('hello')]);
  assert.equal(zstdDecodedBound(frame, 1 << 20), 5);
  assert.equal(decompress(4, frame).toString(), 'hello');
});

test('hostile headers are refused before decoding', () => {
  const hugeWindow = Buffer.from([...MAGIC, 0x00, 0xf8, 0x01, 0x00, 0x00]); // window 2^41
  assert.throws(() => decompress(4, hugeWindow, 1 << 20), invalidBatch, 'window');
  const hugeContent = Buffer.from([...MAGIC, 0xc0, 0x58, 0, 0, 0, 0, 0, 1, 0, 0, 0x01, 0x00, 0x00]); // FCS 2^40
  assert.throws(() => decompress(4, hugeContent, 1 << 20), invalidBatch, 'content size');
  // 40 compressed blocks of 1 byte each could regenerate 40 x 128 KiB: above a 1 MiB cap.
  const blocks: number[] = [];
  for (let i = 0; i < 40; i++) blocks.push(((1 << 3) | (2 << 1) | (i === 39 ? 1 : 0)) & 0xff, 0, 0, 0x00);
  assert.throws(() => decompress(4, Buffer.from([...MAGIC, 0x00, 0x58, ...blocks]), 1 << 20), invalidBatch, 'block bound');
  assert.throws(() => decompress(4, Buffer.from([...MAGIC, 0x08, 0x58]), 1 << 20), invalidBatch, 'reserved bit');
  assert.throws(() => decompress(4, Buffer.from('not zstd'), 1 << 20), invalidBatch, 'magic');
});

test('every single-byte corruption gives data or SB_ERR_INVALID_BATCH, quickly', async () => {
  await loadCompressionCodecs();
  const c = compress(4, Buffer.from('zstd corruption sweep '.repeat(500)));
  const t0 = performance.now();
  for (let i = 0; i < c.length; i++) {
    for (const v of [0x00, 0xff, c[i]! ^ 0x80, c[i]! ^ 0x01]) {
      const bad = Buffer.from(c);
      bad[i] = v;
      for (const input of [bad, bad.subarray(0, i)]) {
        try {
          decompress(4, input, 1 << 20);
        } catch (e) {
          assert.ok(invalidBatch(e), `byte ${i} = ${v}: ${String(e)}`);
        }
      }
    }
  }
  assert.ok(performance.now() - t0 < 10000, 'the sweep stays fast');
});
