// Goal: Raft messages cross between brokers unchanged, compactly, and a decoder facing hostile data
// returns only well-formed messages or throws SB_ERR_PEER_PROTOCOL, never anything else.
// Method: fast-check round trips of random valid messages through the codec and MessagePack; random
// plain values, random items spliced into valid encodings, and the scripts/fuzz.ts Raft harness over
// mutated bytes, each result checked against the invariants the decoder promises; hand-made cases for
// every rule with a message naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { packPlain, unpackPlain } from '../../../src/protocol/cluster/plain-codec.ts';
import {
  decodeGroupMessages,
  decodeHeartbeats,
  decodeQuiesce,
  decodeRaftMessage,
  encodeGroupMessages,
  encodeRaftMessage,
  NODE_ID_MAX,
  pushHeartbeat,
  pushQuiesce,
  WIRE_MESSAGE_TYPES,
  type WireEntry,
  type WireMessage,
  type WireMessageType,
} from '../../../src/protocol/cluster/raft-codec.ts';
import { fuzzRaft } from '../../../scripts/fuzz.ts';
import { isStreamBusError } from '../../../src/util/errors.ts';

const peerProtocolError = (e: unknown): boolean => isStreamBusError(e, 'SB_ERR_PEER_PROTOCOL');

const neutral = { logTerm: 0, index: 0, entries: [] as WireEntry[], commit: 0, reject: false, rejectHint: 0, snapshot: null, leaderTransfer: false };
const msg = (fields: Partial<WireMessage> & Pick<WireMessage, 'type' | 'from' | 'to' | 'term'>): WireMessage => ({ ...neutral, ...fields });

const nodeId = fc.oneof(fc.integer({ min: 1, max: 7 }), fc.constant(NODE_ID_MAX));
const count = fc.oneof(fc.nat({ max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER - 100), fc.constant(2 ** 32));
const data = fc.uint8Array({ maxLength: 64 });

/** A valid message of any type: entries only on appends, a snapshot only on snapshot messages. */
const message: fc.Arbitrary<WireMessage> = fc
  .record({
    type: fc.constantFrom(...WIRE_MESSAGE_TYPES),
    from: nodeId,
    toOffset: fc.integer({ min: 1, max: 5 }),
    logTerm: fc.nat({ max: 50 }),
    termStep: fc.nat({ max: 50 }),
    index: count,
    commit: count,
    reject: fc.boolean(),
    rejectHint: count,
    leaderTransfer: fc.boolean(),
    entries: fc.array(fc.record({ termStep: fc.nat({ max: 2 }), type: fc.constantFrom(0 as const, 1 as const), data }), { maxLength: 6 }),
    snapshot: fc.record({ index: fc.integer({ min: 1, max: 10_000 }), voters: fc.uniqueArray(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 5 }), learners: fc.uniqueArray(fc.integer({ min: 21, max: 30 }), { maxLength: 3 }), data }),
  })
  .map((r) => {
    const to = r.from === NODE_ID_MAX ? 1 : r.from + r.toOffset;
    let entryTerm = r.logTerm;
    const entries: WireEntry[] =
      r.type === 'app' && r.index < 10_000
        ? r.entries.map((e, i) => {
            entryTerm += e.termStep;
            return { term: entryTerm, index: r.index + 1 + i, type: e.type, data: e.data };
          })
        : [];
    const term = entryTerm + r.termStep;
    const snapshot = r.type === 'snapshot' ? { metadata: { index: r.snapshot.index, term: Math.max(1, term), confState: { voters: r.snapshot.voters, learners: r.snapshot.learners } }, data: r.snapshot.data } : null;
    return msg({ type: r.type, from: r.from, to, term: Math.max(term, snapshot === null ? 0 : 1), logTerm: r.logTerm, index: r.index, commit: r.commit, reject: r.reject, rejectHint: r.rejectHint, leaderTransfer: r.leaderTransfer, entries, snapshot });
  });

/** What the decoder promises about anything it returns. */
function assertWellFormed(m: WireMessage): void {
  assert.ok(WIRE_MESSAGE_TYPES.includes(m.type));
  for (const id of [m.from, m.to]) assert.ok(Number.isInteger(id) && id >= 1 && id <= NODE_ID_MAX);
  assert.notEqual(m.from, m.to);
  for (const n of [m.term, m.logTerm, m.index, m.commit, m.rejectHint]) assert.ok(Number.isSafeInteger(n) && n >= 0);
  assert.equal(typeof m.reject, 'boolean');
  assert.equal(typeof m.leaderTransfer, 'boolean');
  if (m.type !== 'app') assert.equal(m.entries.length, 0);
  m.entries.forEach((e, i) => {
    assert.equal(e.index, m.index + 1 + i);
    assert.ok(e.type === 0 || e.type === 1);
    assert.ok(e.data instanceof Uint8Array);
    assert.ok(e.term >= (i === 0 ? m.logTerm : m.entries[i - 1]!.term) && e.term <= m.term);
  });
  assert.equal(m.snapshot !== null, m.type === 'snapshot');
  if (m.snapshot !== null) {
    assert.ok(m.snapshot.metadata.confState.voters.length > 0);
    assert.ok(m.snapshot.data instanceof Uint8Array);
  }
}

const wire = (value: unknown): unknown => unpackPlain(packPlain(value));

test('every valid message round-trips through the codec and MessagePack', () => {
  fc.assert(
    fc.property(message, (m) => {
      const decoded = decodeRaftMessage(wire(encodeRaftMessage(m)));
      assertWellFormed(decoded);
      assert.deepStrictEqual(decoded, m);
    }),
    { numRuns: 3000, seed: 11 },
  );
});

test('group runs and coalesced heartbeats round-trip in order', () => {
  const run = fc.record({ groupId: fc.nat({ max: 2 ** 31 - 1 }), messages: fc.array(message, { minLength: 1, maxLength: 4 }) });
  fc.assert(
    fc.property(fc.array(run, { maxLength: 6 }), (runs) => {
      const decoded = decodeGroupMessages(wire(encodeGroupMessages(runs)));
      assert.deepStrictEqual(decoded, runs.flatMap((r) => r.messages.map((message) => ({ groupId: r.groupId, message }))));
    }),
    { numRuns: 500, seed: 12 },
  );
  const beats = [
    { groupId: 0, message: msg({ type: 'heartbeat', from: 1, to: 2, term: 3, commit: 9 }) },
    { groupId: 2 ** 31 - 1, message: msg({ type: 'heartbeatResp', from: 1, to: 2, term: 4 }) },
  ];
  const body: number[] = [];
  for (const b of beats) pushHeartbeat(body, b.groupId, b.message);
  assert.deepStrictEqual(body, [0, 0, 3, 9, 2 ** 31 - 1, 1, 4, 0]);
  assert.deepStrictEqual(decodeHeartbeats(wire(body), 1, 2), beats);
  assert.throws(() => pushHeartbeat([], 1, msg({ type: 'heartbeat', from: 1, to: 2, term: 3, index: 1 })), TypeError);
});

test('encodings are compact: arrays, small type numbers, trailing neutral items left out', () => {
  assert.deepStrictEqual(encodeRaftMessage(msg({ type: 'heartbeatResp', from: 2, to: 1, term: 7 })), [3, 2, 1, 7]);
  assert.deepStrictEqual(encodeRaftMessage(msg({ type: 'vote', from: 1, to: 3, term: 7, logTerm: 6, index: 40 })), [4, 1, 3, 7, 6, 40]);
  const entry = { term: 7, index: 41, type: 0 as const, data: new Uint8Array([1, 2]) };
  assert.deepStrictEqual(encodeRaftMessage(msg({ type: 'app', from: 1, to: 3, term: 7, logTerm: 7, index: 40, commit: 39, entries: [entry] })), [0, 1, 3, 7, 7, 40, 39, false, 0, false, [[7, 41, 0, entry.data]]]);
  // A heartbeat of one of many groups costs a few bytes.
  const body: number[] = [];
  for (let g = 0; g < 1000; g++) pushHeartbeat(body, g, msg({ type: 'heartbeat', from: 1, to: 2, term: 12, commit: 3000 }));
  assert.ok(packPlain(body).length < 1000 * 8, `${packPlain(body).length} bytes for 1000 heartbeats`);
});

test('a large entry filling most of the buffer it arrived in is kept as a view, not copied', () => {
  const data = new Uint8Array(64 * 1024).fill(9);
  const m = msg({ type: 'app', from: 1, to: 2, term: 1, entries: [{ term: 1, index: 1, type: 0, data }] });
  // A frame of its own, as the frame decoder assembles one that spans socket chunks.
  const received = Buffer.from(packPlain(encodeRaftMessage(m)));
  const decoded = decodeRaftMessage(unpackPlain(received));
  const kept = decoded.entries[0]!.data;
  assert.ok(Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength).equals(data), "the entry's bytes");
  assert.equal(kept.buffer, received.buffer, 'a view of the received frame');
});

test('a small entry is copied out of the receive buffer (it must not pin it)', () => {
  const m = msg({ type: 'app', from: 1, to: 2, term: 1, entries: [{ term: 1, index: 1, type: 0, data: new Uint8Array([5, 6, 7]) }] });
  const received = Buffer.concat([Buffer.from([0xee, 0xee]), packPlain(encodeRaftMessage(m))]).subarray(2);
  const value = unpackPlain(received);
  const decoded = decodeRaftMessage(value);
  received.fill(0);
  assert.deepStrictEqual(decoded.entries[0]!.data, new Uint8Array([5, 6, 7]));
  assert.equal(decoded.entries[0]!.data.byteLength, decoded.entries[0]!.data.buffer.byteLength, 'a buffer of its own');
});

test('each rule is enforced with a message naming it', () => {
  const base = encodeRaftMessage(msg({ type: 'app', from: 1, to: 2, term: 5, logTerm: 4, index: 9, commit: 1, entries: [{ term: 5, index: 10, type: 0, data: new Uint8Array(1) }] }));
  const withItem = (i: number, v: unknown): unknown[] => Object.assign([...base], { [i]: v });
  const entryWith = (i: number, v: unknown): unknown[] => withItem(10, [Object.assign([...((base[10] as unknown[])[0] as unknown[])], { [i]: v })]);
  const cases: [unknown, RegExp][] = [
    [null, /array of 4..12 items/],
    [[0, 1, 2], /array of 4..12 items/],
    [[...base, null, 1], /array of 4..12 items/],
    [withItem(0, 10), /type must be an integer 0..9/],
    [withItem(0, 0.5), /type must be an integer/],
    [withItem(1, 0), /from must be an integer 1..2147483647/],
    [withItem(2, 2 ** 31), /to must be an integer 1..2147483647/],
    [withItem(2, 1), /from and to are both node 1/],
    [withItem(3, -1), /term must be an integer 0..9007199254740991/],
    [withItem(3, 2 ** 53), /term must be an integer/],
    [withItem(3, 5n), /term must be an integer .* got 5n/],
    [withItem(4, '4'), /logTerm must be an integer/],
    [withItem(5, null), /index must be an integer/],
    [withItem(7, 0), /reject must be a boolean/],
    [withItem(9, 1), /leaderTransfer must be a boolean/],
    [withItem(10, {}), /entries must be an array/],
    [entryWith(1, 11), /entry 0 index must be 10/],
    [entryWith(0, 3), /entry 0 term must be 4..5/],
    [entryWith(0, 6), /entry 0 term must be 4..5/],
    [entryWith(2, 2), /entry 0 type must be 0 or 1/],
    [entryWith(3, 'x'), /entry 0 data must be binary/],
    [withItem(10, [[5, 10, 0]]), /entry 0 must be an array of 4 items/],
    [withItem(0, 1), /only app messages carry entries/],
    [withItem(11, [1, 1, [1], [], new Uint8Array(0)]), /only snapshot messages carry a snapshot/],
    [[8, 1, 2, 5], /a snapshot message needs a snapshot/],
    [[8, 1, 2, 5, 0, 0, 0, false, 0, false, [], [0, 1, [1], [], new Uint8Array(0)]], /snapshot index must be an integer 1/],
    [[8, 1, 2, 5, 0, 0, 0, false, 0, false, [], [3, 6, [1], [], new Uint8Array(0)]], /snapshot term must be an integer 1..5/],
    [[8, 1, 2, 5, 0, 0, 0, false, 0, false, [], [3, 5, [], [], new Uint8Array(0)]], /at least one voter/],
    [[8, 1, 2, 5, 0, 0, 0, false, 0, false, [], [3, 5, [1, 2], [2], new Uint8Array(0)]], /node 2 appears twice/],
    [[8, 1, 2, 5, 0, 0, 0, false, 0, false, [], [3, 5, [1, 0], [], new Uint8Array(0)]], /voters 1 must be an integer 1/],
  ];
  for (const [value, pattern] of cases) {
    assert.throws(
      () => decodeRaftMessage(value),
      (e: unknown) => peerProtocolError(e) && pattern.test((e as Error).message),
      `${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))} should fail with ${pattern}`,
    );
  }
  assert.throws(() => decodeGroupMessages([[-1, []]]), /groupId must be an integer 0..2147483647/);
  assert.throws(() => decodeGroupMessages([[1, [base], 3]]), /group run 0 must be an array of 2 items/);
  assert.throws(() => decodeHeartbeats([1, 0, 5], 1, 2), /groups of 4 items/);
  assert.throws(() => decodeHeartbeats([1, 2, 5, 0], 1, 2), /kind must be an integer 0..1/);
  assert.throws(() => decodeHeartbeats({}, 1, 2), /heartbeats must be an array/);
  assert.throws(() => decodeQuiesce([1, 5]), /groups of 3 items/);
  assert.throws(() => decodeQuiesce([1, 0, 5]), /term must be an integer 1../);
  assert.throws(() => decodeQuiesce([1, 2, -1]), /commit must be an integer 0../);
  assert.throws(() => decodeQuiesce([2 ** 31, 2, 1]), /groupId must be an integer 0..2147483647/);
  assert.throws(() => decodeQuiesce('x'), /quiesce notices must be an array/);
});

test('quiesce notices round-trip in order', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ groupId: fc.nat({ max: 2 ** 31 - 1 }), term: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), commit: count }), { maxLength: 8 }), (notices) => {
      const body: number[] = [];
      for (const n of notices) pushQuiesce(body, n.groupId, n.term, n.commit);
      assert.deepStrictEqual(decodeQuiesce(wire(body)), notices.map((n) => ({ groupId: n.groupId, term: n.term, commit: n.commit })));
    }),
    { numRuns: 300, seed: 15 },
  );
});

const key = fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__');
const { plain } = fc.letrec((tie) => ({
  plain: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -3, max: 12 }),
    fc.integer(),
    fc.double(),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.string({ maxLength: 8 }),
    fc.uint8Array({ maxLength: 8 }),
    fc.array(tie('plain'), { maxLength: 12 }),
    fc.dictionary(key, tie('plain'), { maxKeys: 3, noNullPrototype: true }),
  ),
}));

/** Decodes `value` every way; anything returned must be well formed and anything thrown typed. */
function decodeAnyway(value: unknown): void {
  for (const decode of [() => [decodeRaftMessage(value)], () => decodeGroupMessages(value).map((g) => g.message), () => decodeHeartbeats(value, 1, 2).map((g) => g.message)]) {
    try {
      for (const m of decode()) assertWellFormed(m);
    } catch (e) {
      if (!peerProtocolError(e)) throw e;
    }
  }
  try {
    for (const n of decodeQuiesce(value)) {
      assert.ok(Number.isSafeInteger(n.groupId) && n.groupId >= 0 && n.groupId <= 2 ** 31 - 1);
      assert.ok(Number.isSafeInteger(n.term) && n.term >= 1);
      assert.ok(Number.isSafeInteger(n.commit) && n.commit >= 0);
    }
  } catch (e) {
    if (!peerProtocolError(e)) throw e;
  }
}

test('random plain values decode to well-formed messages or SB_ERR_PEER_PROTOCOL', () => {
  fc.assert(fc.property(plain, decodeAnyway), { numRuns: 5000, seed: 13 });
});

test('valid encodings with one item replaced decode to well-formed messages or SB_ERR_PEER_PROTOCOL', () => {
  fc.assert(
    fc.property(message, fc.nat(), fc.nat(), plain, (m, at, inner, value) => {
      const encoded = encodeRaftMessage(m);
      const i = at % encoded.length;
      const item = encoded[i];
      if (Array.isArray(item) && item.length > 0 && inner % 2 === 0) {
        const copy = [...item];
        copy[inner % copy.length] = value;
        encoded[i] = copy;
      } else {
        encoded[i] = value;
      }
      decodeAnyway(wire(encoded));
      decodeAnyway(wire([[1, [encoded]]]));
    }),
    { numRuns: 5000, seed: 14 },
  );
});

test('mutated and random bodies from the fuzz harness give messages or SB_ERR_PEER_PROTOCOL only', () => {
  const report = fuzzRaft(20_000, 20240602);
  assert.deepEqual(report.failures, []);
  assert.equal(report.bodies, 20_000);
  assert.ok(report.decoded > 0, 'some mutations still decode');
  assert.ok((report.typedErrors.SB_ERR_PEER_PROTOCOL ?? 0) > 1000, 'most mutations are rejected');
});

test('every message type has its own small number', () => {
  const codes = WIRE_MESSAGE_TYPES.map((t: WireMessageType) => encodeRaftMessage(msg({ type: t, from: 1, to: 2, term: 1 }))[0]);
  assert.deepStrictEqual(codes, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});
