// Goal: a message gathered around its large binaries decodes to exactly what msgpackr's one-buffer
// encoding decodes to, whatever the value, and its large binaries are the sender's own bytes (not
// copies); a value without one is msgpackr's buffer as before.
// Method: fast-check values of every plain kind nested in arrays, compared through the receiver's
// decoder (unpackPlain, which also checks the bytes are plain MessagePack).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GATHER_BINARY_MIN_BYTES, GatheredBytes, packGathered } from '../../../src/protocol/cluster/gathered-pack.ts';
import { packPlain, unpackPlain } from '../../../src/protocol/cluster/plain-codec.ts';

const bytesOf = (m: Buffer | GatheredBytes): Buffer => (m instanceof GatheredBytes ? Buffer.concat(m.parts) : m);

const leaf = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 32 + 5 }),
  fc.constantFrom(0, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
  fc.integer({ min: GATHER_BINARY_MIN_BYTES - 2, max: 70_000 }).map((n) => Buffer.alloc(n, n % 251)),
  fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }).filter((k) => k !== '__proto__'), fc.nat(), { maxKeys: 3 }),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('value'), { maxLength: 20 })),
}));

test('gathered bytes decode as msgpackr\'s do, for any plain value', () => {
  fc.assert(
    fc.property(value, (v) => {
      const gathered = packGathered(v);
      assert.equal(bytesOf(gathered).length, gathered.length, 'length is the bytes written');
      assert.deepStrictEqual(unpackPlain(bytesOf(gathered)), unpackPlain(packPlain(v)));
    }),
    { numRuns: 400, seed: 11 },
  );
});

test('large binaries are referenced, small ones copied; a value without a large one is one buffer', () => {
  const big = Buffer.alloc(100 * 1024, 7);
  const entries = [[1, 5, 0, big], [1, 6, 0, Buffer.from('tiny')], [1, 7, 0, new Uint8Array(GATHER_BINARY_MIN_BYTES)]];
  const gathered = packGathered([17, [[3, [[0, 1, 2, 1, 0, 4, 4, false, 0, false, entries]]]]]);
  assert.ok(gathered instanceof GatheredBytes);
  assert.ok(gathered.parts.some((p) => p.buffer === big.buffer && p.byteOffset === big.byteOffset && p.length === big.length), 'the 100 KiB entry is not copied');
  assert.equal(gathered.parts.filter((p) => p.length >= GATHER_BINARY_MIN_BYTES).length, 2);
  const small = packGathered([16, [1, 0, 3, 4, 2, 1, 3, 4]]);
  assert.ok(Buffer.isBuffer(small));
  assert.deepEqual(small, packPlain([16, [1, 0, 3, 4, 2, 1, 3, 4]]));
});

test('parts already handed out are never written again by the same encoding', () => {
  const big = Buffer.alloc(GATHER_BINARY_MIN_BYTES, 1);
  // Many small items after a cut make the small-bytes buffer grow and move: earlier parts must stay intact.
  const v = [big, Array.from({ length: 2000 }, (_, i) => i * 7), big, 'end'];
  const gathered = packGathered(v) as GatheredBytes;
  const snapshot = gathered.parts.map((p) => Buffer.from(p));
  assert.deepStrictEqual(unpackPlain(Buffer.concat(gathered.parts)), unpackPlain(packPlain(v)));
  gathered.parts.forEach((p, i) => assert.deepEqual(p, snapshot[i]));
});
