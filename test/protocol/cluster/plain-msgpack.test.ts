// Goal: values between brokers are plain data both ways: what packPlain accepts comes back equal from
// unpackPlain; what would not arrive as sent is refused to the sender; whatever bytes a peer sends give a
// value or a typed SB_ERR_PEER_PROTOCOL error, quickly, without allocating what a length field claims.
// Method: fast-check round trips of random plain values; hand-made hostile encodings (extension types,
// lying counts, deep nesting, __proto__ and non-string keys, trailing bytes); random and mutated bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { packPlain, unpackPlain } from '../../../src/protocol/cluster/plain-codec.ts';
import { PLAIN_DEPTH_MAX } from '../../../src/protocol/cluster/plain-msgpack.ts';
import { isStreamBusError } from '../../../src/util/errors.ts';

const peerProtocolError = (e: unknown): boolean => isStreamBusError(e, 'SB_ERR_PEER_PROTOCOL');
const peerMessageError = (e: unknown): boolean => isStreamBusError(e, 'SB_ERR_PEER_MESSAGE');

const key = fc.string({ maxLength: 12 }).filter((k) => k !== '__proto__');
const { plain } = fc.letrec((tie) => ({
  plain: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double().filter((d) => !Object.is(d, -0)),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.string({ maxLength: 40 }),
    fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
    fc.array(tie('plain'), { maxLength: 5 }),
    fc.dictionary(key, tie('plain'), { maxKeys: 5, noNullPrototype: true }),
  ),
}));

test('plain values round-trip unchanged', () => {
  fc.assert(
    fc.property(plain, (value) => {
      assert.deepStrictEqual(unpackPlain(packPlain(value)), value);
    }),
    { numRuns: 2000, seed: 7 },
  );
});

test('undefined object properties are left out; values msgpack cannot carry as plain data are refused to the sender', () => {
  assert.deepStrictEqual(unpackPlain(packPlain({ a: 1, b: undefined })), { a: 1 });
  for (const value of [new Date(0), [1, undefined], new Map([[1, 2]]), new Error('e'), undefined, { nested: [new Date(0)] }]) {
    assert.throws(() => packPlain(value), peerMessageError, `${String(value)} is refused`);
  }
});

test('hostile encodings are refused with a typed error', () => {
  const hostile: Record<string, string> = {
    'fixext undefined': 'd40000',
    'ext 8 (a msgpackr record definition)': 'c7017200',
    'timestamp ext': 'd6ff00000000',
    'unused type 0xc1': 'c1',
    'nothing at all': '',
    'trailing bytes': '0102',
    'array 32 claiming 2^32-1 items': 'ddffffffff01',
    'map 32 claiming 2^32-1 entries': 'dfffffffff',
    'str 32 claiming 2^32-1 bytes': 'dbffffffff41',
    'bin 32 claiming 2^31 bytes': 'c68000000041',
    'truncated float 64': 'cb0000',
    'integer map key': '810102',
    '__proto__ key': '81a95f5f70726f746f5f5f01',
    'array missing its last item': '9301',
  };
  for (const [what, hex] of Object.entries(hostile)) {
    assert.throws(() => unpackPlain(Buffer.from(hex, 'hex')), peerProtocolError, what);
  }
  const nested = (depth: number): Buffer => Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0xc0])]);
  assert.deepEqual(JSON.stringify(unpackPlain(nested(PLAIN_DEPTH_MAX))), '['.repeat(PLAIN_DEPTH_MAX) + 'null' + ']'.repeat(PLAIN_DEPTH_MAX));
  assert.throws(() => unpackPlain(nested(PLAIN_DEPTH_MAX + 1)), peerProtocolError, 'one level too deep');
  assert.throws(() => unpackPlain(nested(100_000)), peerProtocolError, 'deep nesting is refused without recursion');
});

test('random and mutated bytes give a value or a typed error, fast', () => {
  const seeds = [packPlain({ term: 3, entries: [{ index: 7, data: Buffer.from('abc') }], commit: 2 ** 40 }), packPlain([1, 'x', [true, null, -5, 1.5]])];
  const mutated = fc
    .tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat())
    .map(([seed, edits, cut]) => {
      const bytes = Buffer.from(seed);
      for (const [at, value] of edits) bytes[at % bytes.length] = value;
      return cut % 3 === 0 ? bytes.subarray(0, cut % bytes.length) : bytes;
    });
  const started = performance.now();
  fc.assert(
    fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u))), (bytes) => {
      try {
        unpackPlain(bytes);
      } catch (err) {
        assert.ok(peerProtocolError(err), `unexpected ${String(err)} for ${bytes.toString('hex')}`);
      }
    }),
    { numRuns: 20_000, seed: 11 },
  );
  assert.ok(performance.now() - started < 20_000, 'decoding stays fast');
});
