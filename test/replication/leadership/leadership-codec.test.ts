// Goal: leadership digests cross between brokers unchanged, a full digest too large for one message is
// split into chunks that each fit and together tile every group id, and the decoder facing hostile data
// returns a well-formed digest or throws SB_ERR_PEER_PROTOCOL, never anything else.
// Method: fast-check round trips through the codec and MessagePack; splits at random sizes checked
// against the limit and against the entries; arbitrary values and mutated valid bodies fed to the
// decoder; hand-made cases for each rule with the message naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { packPlain, unpackPlain } from '../../../src/protocol/cluster/plain-codec.ts';
import {
  decodeDigest,
  DIGEST_ENTRIES_MAX,
  encodeDigest,
  GROUP_ID_MAX,
  ISR_LENGTH_MAX,
  LEADERSHIP_DIGEST_TYPE,
  splitFullDigest,
  type DigestEntry,
  type LeadershipDigest,
} from '../../../src/protocol/cluster/leadership-codec.ts';
import { isStreamBusError } from '../../../src/util/errors.ts';

const protocolError = (e: unknown): boolean => isStreamBusError(e, 'SB_ERR_PEER_PROTOCOL');
const wire = (body: unknown): unknown => (unpackPlain(packPlain([LEADERSHIP_DIGEST_TYPE, body])) as unknown[])[1];

const groupId = fc.oneof(fc.integer({ min: 0, max: 50 }), fc.constant(GROUP_ID_MAX), fc.integer({ min: 0, max: GROUP_ID_MAX }));
const term = fc.oneof(fc.nat({ max: 100 }), fc.constant(2 ** 32), fc.constant(Number.MAX_SAFE_INTEGER));
const isr = fc.uniqueArray(fc.oneof(fc.integer({ min: 1, max: 7 }), fc.constant(0x7fffffff)), { maxLength: ISR_LENGTH_MAX });
const entry = fc.record({ groupId, term, isr }).map((e): DigestEntry => ({ ...e }));
const entries = fc.uniqueArray(entry, { selector: (e) => e.groupId, maxLength: 40 });

const digest: fc.Arbitrary<LeadershipDigest> = fc.oneof(
  fc.record({ full: fc.boolean(), firstGroupId: fc.constant(0), lastGroupId: fc.constant(GROUP_ID_MAX), entries }).map((d) => ({ ...d })),
  fc.tuple(groupId, groupId, entries).map(([a, b, es]) => {
    const [first, last] = a <= b ? [a, b] : [b, a];
    return { full: true, firstGroupId: first, lastGroupId: last, entries: es.filter((e) => e.groupId >= first && e.groupId <= last) };
  }),
);

test('digests round-trip through the codec and MessagePack', () => {
  fc.assert(
    fc.property(digest, (d) => {
      assert.deepEqual(decodeDigest(wire(encodeDigest(d))), d);
    }),
    { numRuns: 2000, seed: 48 },
  );
});

test('the common layouts are as documented', () => {
  const es: DigestEntry[] = [{ groupId: 3, term: 7, isr: [2, 1] }];
  assert.deepEqual(encodeDigest({ full: true, firstGroupId: 0, lastGroupId: GROUP_ID_MAX, entries: es }), [true, [[3, 7, [2, 1]]]]);
  assert.deepEqual(encodeDigest({ full: false, firstGroupId: 0, lastGroupId: GROUP_ID_MAX, entries: es }), [false, [[3, 7, [2, 1]]]]);
  assert.deepEqual(encodeDigest({ full: true, firstGroupId: 2, lastGroupId: 9, entries: es }), [true, [[3, 7, [2, 1]]], 2, 9]);
  assert.throws(() => encodeDigest({ full: false, firstGroupId: 2, lastGroupId: 9, entries: es }), /partial digest has no range/);
});

test('a full digest that fits is one message; a larger one is split into chunks that fit and tile every group id', () => {
  fc.assert(
    fc.property(entries, fc.integer({ min: 150, max: 1200 }), (es, maxMessageBytes) => {
      const bodies = splitFullDigest(es, maxMessageBytes);
      const decoded = bodies.map((b) => {
        assert.ok(packPlain([LEADERSHIP_DIGEST_TYPE, b]).length <= maxMessageBytes, 'each message fits');
        return decodeDigest(wire(b));
      });
      assert.ok(decoded.every((d) => d.full));
      assert.equal(decoded[0]!.firstGroupId, 0);
      assert.equal(decoded[decoded.length - 1]!.lastGroupId, GROUP_ID_MAX);
      for (let i = 1; i < decoded.length; i++) assert.equal(decoded[i]!.firstGroupId, decoded[i - 1]!.lastGroupId + 1);
      const sortById = (list: readonly DigestEntry[]) => [...list].sort((a, b) => a.groupId - b.groupId);
      assert.deepEqual(sortById(decoded.flatMap((d) => d.entries)), sortById(es));
      assert.ok(decoded.length === 1 || decoded.every((d) => d.entries.length > 0), 'a split leaves no chunk empty');
    }),
    { numRuns: 500, seed: 49 },
  );
});

test('a split happens only when needed, and a channel that cannot carry one entry is refused', () => {
  const es = Array.from({ length: 2000 }, (_, i) => ({ groupId: i * 3, term: 5, isr: [1, 2, 3] }));
  assert.equal(splitFullDigest(es, 1024 * 1024).length, 1);
  const bodies = splitFullDigest(es, 4096);
  assert.ok(bodies.length > 10);
  assert.ok(bodies.every((b) => b.length === 4));
  assert.throws(() => splitFullDigest([], 64), /at least one entry/);
  assert.throws(() => splitFullDigest([{ groupId: 1, term: 1, isr: Array.from({ length: 17 }, (_, i) => i + 1) }], 4096), /longer than 16/);
});

const bad: [unknown, RegExp][] = [
  [null, /array of 2 or 4 items/],
  [[true], /array of 2 or 4 items/],
  [[true, [], 0], /array of 2 or 4 items/],
  [[1, []], /full must be a boolean/],
  [[false, [], 0, 5], /only a full digest has a range/],
  [[true, [], 5, 4], /lastGroupId must be an integer 5\.\./],
  [[true, [], -1, 4], /firstGroupId/],
  [[true, {}], /entries must be an array/],
  [[true, [[1, 2]]], /entry 0 must be \[groupId, term, isr\]/],
  [[true, [[-1, 2, []]]], /entry 0 group id/],
  [[true, [[2 ** 31, 2, []]]], /entry 0 group id/],
  [[true, [[1.5, 2, []]]], /entry 0 group id/],
  [[true, [[1, -1, []]]], /entry 0 term/],
  [[true, [[1, 2 ** 53, []]]], /entry 0 term/],
  [[true, [[1, 10n, []]]], /entry 0 term must be an integer 0\.\.\d+, got 10n/],
  [[true, [[1, 2, null]]], /entry 0 isr must be an array/],
  [[true, [[1, 2, [0]]]], /entry 0 isr broker 0/],
  [[true, [[1, 2, [2 ** 31]]]], /entry 0 isr broker 0/],
  [[true, [[1, 2, ['1']]]], /entry 0 isr broker 0 must be an integer 1\.\.\d+, got a string of 1/],
  [[true, [[1, 2, [3, 3]]]], /isr lists broker 3 twice/],
  [[true, [[1, 2, Array.from({ length: 17 }, (_, i) => i + 1)]]], /at most 16 brokers/],
  [[true, [[1, 2, []], [1, 3, []]]], /entry 1: group 1 is listed twice/],
  [[true, [[1, 2, []]], 2, 9], /group 1 is outside the digest's range 2\.\.9/],
];

test('each rule of the decoder has a message naming it', () => {
  for (const [body, message] of bad) {
    assert.throws(
      () => decodeDigest(body),
      (e: unknown) => protocolError(e) && message.test((e as Error).message),
      `${String(message)}`,
    );
  }
});

test('a digest with too many entries is refused before any is looked at', () => {
  const list = new Array(DIGEST_ENTRIES_MAX + 1);
  assert.throws(() => decodeDigest([true, list]), /at most 1000000 entries/);
});

/** Decodes or throws SB_ERR_PEER_PROTOCOL, and what decodes keeps every promise of the decoder. */
function decodesOrRefuses(body: unknown): void {
  let d: LeadershipDigest;
  try {
    d = decodeDigest(body);
  } catch (e) {
    assert.ok(protocolError(e), `unexpected error ${String(e)}`);
    return;
  }
  assert.ok(d.full || (d.firstGroupId === 0 && d.lastGroupId === GROUP_ID_MAX));
  const seen = new Set<number>();
  for (const e of d.entries) {
    assert.ok(Number.isInteger(e.groupId) && e.groupId >= d.firstGroupId && e.groupId <= d.lastGroupId);
    assert.ok(Number.isSafeInteger(e.term) && e.term >= 0);
    assert.ok(e.isr.length <= ISR_LENGTH_MAX && new Set(e.isr).size === e.isr.length);
    assert.ok(e.isr.every((id) => Number.isInteger(id) && id >= 1 && id <= 0x7fffffff));
    assert.ok(!seen.has(e.groupId));
    seen.add(e.groupId);
  }
  assert.deepEqual(decodeDigest(wire(encodeDigest(d))), d, 'what decodes re-encodes to itself');
}

test('fuzz: arbitrary values decode or throw SB_ERR_PEER_PROTOCOL', () => {
  fc.assert(fc.property(fc.anything({ withBigInt: true, withNullPrototype: true, withTypedArray: true, withSparseArray: true }), decodesOrRefuses), { numRuns: 3000, seed: 50 });
});

test('fuzz: valid bodies with an item replaced anywhere decode or throw SB_ERR_PEER_PROTOCOL', () => {
  const replace = (value: unknown, path: number[], item: unknown): unknown => {
    if (path.length === 0 || !Array.isArray(value) || value.length === 0) return item;
    const copy = [...value];
    const i = path[0]! % copy.length;
    copy[i] = replace(copy[i], path.slice(1), item);
    return copy;
  };
  const item = fc.oneof(fc.anything({ withBigInt: true }), fc.integer(), fc.constant(-1), fc.constant(2 ** 31), fc.constant([]), fc.constant(true));
  fc.assert(
    fc.property(digest, fc.array(fc.nat(), { maxLength: 4 }), item, (d, path, value) => {
      decodesOrRefuses(replace(encodeDigest(d), path, value));
    }),
    { numRuns: 3000, seed: 51 },
  );
});
