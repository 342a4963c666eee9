// Goal: the hand-written raw snappy decoder reads what snappy encoders write (snappyjs here; librdkafka
// in the golden fixtures) and turns every malformation into SB_ERR_INVALID_BATCH quickly. This includes
// the 4-byte literal length that made snappyjs walk about 2^31 positions.
// Method: round trips through snappyjs; hand-made hostile blocks; a bounded single-byte corruption sweep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import snappy from 'snappyjs';
import { snappyRawDecode } from '../../../src/protocol/kafka/compression/snappy-raw.ts';
import { decompress } from '../../../src/protocol/kafka/compression/index.ts';
import { isStreamBusError } from '../../../src/util/errors.ts';

const invalidBatch = (e: unknown) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH');

test('decodes snappyjs output: empty, tiny, random, repetitive (overlapping copies), large', () => {
  let seed = 11;
  const rand = Buffer.alloc(200000).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
  for (const input of [Buffer.alloc(0), Buffer.from('a'), rand, Buffer.from('abc'.repeat(70000)), Buffer.alloc(1_000_000, 9)]) {
    const c = Buffer.from(snappy.compress(input));
    assert.deepEqual(snappyRawDecode(c), input, `length ${input.length}`);
  }
});

test('hostile blocks fail fast with SB_ERR_INVALID_BATCH', () => {
  const cases: [string, Buffer][] = [
    ['4-byte literal length near 2^32', Buffer.from([0x0a, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x61])],
    ['literal longer than the declared length', Buffer.from([0x01, 0x04, 0x61, 0x62])],
    ['copy with offset 0', Buffer.from([0x08, 0x00, 0x61, 0x01, 0x00])],
    ['copy reaching before the output', Buffer.from([0x08, 0x00, 0x61, 0x01, 0x05])],
    ['4-byte offset beyond the output', Buffer.from([0x08, 0x00, 0x61, 0x0f, 0xff, 0xff, 0xff, 0xff])],
    ['output shorter than declared', Buffer.from([0x05, 0x00, 0x61])],
    ['truncated preamble', Buffer.from([0xff, 0xff])],
  ];
  for (const [name, block] of cases) {
    const t0 = performance.now();
    assert.throws(() => snappyRawDecode(block), invalidBatch, name);
    assert.ok(performance.now() - t0 < 100, `${name} is rejected quickly`);
  }
  // Through the codec entry point, a declared length beyond any possible expansion is refused up front.
  assert.throws(() => decompress(2, Buffer.from([0x80, 0x80, 0x80, 0x04, 0x00, 0x61])), invalidBatch);
});

test('every single-byte corruption of a block gives data or SB_ERR_INVALID_BATCH, quickly', () => {
  const c = Buffer.from(snappy.compress(Buffer.from('hello snappy world, '.repeat(300))));
  const t0 = performance.now();
  for (let i = 0; i < c.length; i++) {
    for (const v of [0x00, 0xff, 0xfc, c[i]! ^ 0x80]) {
      const bad = Buffer.from(c);
      bad[i] = v;
      for (const input of [bad, bad.subarray(0, i)]) {
        try {
          decompress(2, input, 1024 * 1024);
        } catch (e) {
          assert.ok(invalidBatch(e), `byte ${i} = ${v}: ${String(e)}`);
        }
      }
    }
  }
  assert.ok(performance.now() - t0 < 10000, 'the sweep stays fast');
});
