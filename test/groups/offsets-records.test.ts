// Goal: the __consumer_offsets records are byte-for-byte Kafka's layout (OffsetCommitKey v1,
// OffsetCommitValue v3, GroupMetadataKey v2, GroupMetadataValue v3), older value versions written by
// Kafka still decode, anything malformed fails with SB_ERR_CORRUPT, and encode/decode round-trip.
// Method: golden bytes written out by hand from the schema; hand-built older versions; fast-check
// round trips over random values; truncation and trailing bytes at every position.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isStreamBusError } from '../../src/util/errors.ts';
import {
  decodeGroupMetadataValue,
  decodeKey,
  decodeOffsetCommitValue,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  type GroupMetadataValue,
} from '../../src/groups/offsets-records.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const str = (s: string) => Buffer.concat([Buffer.from([0, s.length]), Buffer.from(s)]).toString('hex');

test('OffsetCommitKey: int16 version 1, group, topic, int32 partition', () => {
  const key = encodeOffsetCommitKey('g', 't', 2);
  assert.deepEqual(key, hex(`0001 ${str('g')} ${str('t')} 00000002`));
  assert.deepEqual(decodeKey(key), { kind: 'offset', version: 1, group: 'g', topic: 't', partition: 2 });
  // Version 0 has the same layout.
  assert.deepEqual(decodeKey(hex(`0000 ${str('g')} ${str('t')} 00000002`)), { kind: 'offset', version: 0, group: 'g', topic: 't', partition: 2 });
});

test('GroupMetadataKey: int16 version 2, group; other key versions are reported as unknown', () => {
  assert.deepEqual(encodeGroupMetadataKey('grp'), hex(`0002 ${str('grp')}`));
  assert.deepEqual(decodeKey(hex(`0002 ${str('grp')}`)), { kind: 'group', version: 2, group: 'grp' });
  assert.deepEqual(decodeKey(hex(`0003 ${str('grp')}`)), { kind: 'unknown', version: 3 });
});

test('OffsetCommitValue v3: offset, leader epoch, metadata, commit timestamp', () => {
  const v = encodeOffsetCommitValue({ offset: 99n, leaderEpoch: 4, metadata: 'm', commitTimestampMs: 1000, expireTimestampMs: -1 });
  assert.deepEqual(v, hex(`0003 0000000000000063 00000004 ${str('m')} 00000000000003e8`));
  assert.deepEqual(decodeOffsetCommitValue(v), { offset: 99n, leaderEpoch: 4, metadata: 'm', commitTimestampMs: 1000, expireTimestampMs: -1 });
});

test('OffsetCommitValue versions 0, 1 and 2 written by older brokers decode', () => {
  const v0 = hex(`0000 0000000000000005 ${str('x')} 0000000000000007`);
  assert.deepEqual(decodeOffsetCommitValue(v0), { offset: 5n, leaderEpoch: -1, metadata: 'x', commitTimestampMs: 7, expireTimestampMs: -1 });
  const v1 = hex(`0001 0000000000000005 ${str('x')} 0000000000000007 0000000000000009`);
  assert.deepEqual(decodeOffsetCommitValue(v1), { offset: 5n, leaderEpoch: -1, metadata: 'x', commitTimestampMs: 7, expireTimestampMs: 9 });
  const v2 = hex(`0002 0000000000000005 ${str('x')} 0000000000000007`);
  assert.deepEqual(decodeOffsetCommitValue(v2), { offset: 5n, leaderEpoch: -1, metadata: 'x', commitTimestampMs: 7, expireTimestampMs: -1 });
});

const SAMPLE_GROUP: GroupMetadataValue = {
  protocolType: 'consumer',
  generation: 1,
  protocol: 'range',
  leader: 'm1',
  currentStateTimestampMs: 5,
  members: [
    {
      memberId: 'm1',
      groupInstanceId: null,
      clientId: 'c',
      clientHost: 'h',
      rebalanceTimeoutMs: 30_000,
      sessionTimeoutMs: 10_000,
      subscription: Buffer.from([1, 2]),
      assignment: Buffer.from([3]),
    },
  ],
};

test('GroupMetadataValue v3: type, generation, protocol, leader, state timestamp, members', () => {
  const v = encodeGroupMetadataValue(SAMPLE_GROUP);
  const golden = hex(
    `0003 ${str('consumer')} 00000001 ${str('range')} ${str('m1')} 0000000000000005 00000001` +
      ` ${str('m1')} ffff ${str('c')} ${str('h')} 00007530 00002710 00000002 0102 00000001 03`,
  );
  assert.deepEqual(v, golden);
  const back = decodeGroupMetadataValue(v);
  assert.deepEqual({ ...back, members: back.members.map((m) => ({ ...m, subscription: Buffer.from(m.subscription), assignment: Buffer.from(m.assignment) })) }, SAMPLE_GROUP);
  // An empty group: null protocol and leader, no members.
  const empty = encodeGroupMetadataValue({ protocolType: 'consumer', generation: 2, protocol: null, leader: null, currentStateTimestampMs: 9, members: [] });
  assert.deepEqual(empty, hex(`0003 ${str('consumer')} 00000002 ffff ffff 0000000000000009 00000000`));
});

test('GroupMetadataValue versions 0, 1 and 2 decode (v0 rebalance timeout = session timeout)', () => {
  const member0 = `${str('m')} ${str('c')} ${str('h')} 00002710 00000000 00000000`;
  const v0 = decodeGroupMetadataValue(hex(`0000 ${str('consumer')} 00000003 ${str('range')} ${str('m')} 00000001 ${member0}`));
  assert.equal(v0.currentStateTimestampMs, -1);
  assert.equal(v0.members[0]!.rebalanceTimeoutMs, 10_000);
  assert.equal(v0.members[0]!.sessionTimeoutMs, 10_000);
  assert.equal(v0.members[0]!.groupInstanceId, null);
  const member1 = `${str('m')} ${str('c')} ${str('h')} 00007530 00002710 00000000 00000000`;
  const v1 = decodeGroupMetadataValue(hex(`0001 ${str('consumer')} 00000003 ${str('range')} ${str('m')} 00000001 ${member1}`));
  assert.equal(v1.members[0]!.rebalanceTimeoutMs, 30_000);
  const v2 = decodeGroupMetadataValue(hex(`0002 ${str('consumer')} 00000003 ${str('range')} ${str('m')} 000000000000000c 00000001 ${member1}`));
  assert.equal(v2.currentStateTimestampMs, 12);
  assert.equal(v2.generation, 3);
});

function assertCorrupt(fn: () => unknown, what: string): void {
  assert.throws(fn, (e: unknown) => isStreamBusError(e, 'SB_ERR_CORRUPT'), what);
}

test('every truncation and any trailing byte is SB_ERR_CORRUPT, as are unknown value versions', () => {
  const samples: [Buffer, (b: Buffer) => unknown][] = [
    [encodeOffsetCommitKey('group', 'topic', 1), decodeKey],
    [encodeGroupMetadataKey('group'), decodeKey],
    [encodeOffsetCommitValue({ offset: 1n, leaderEpoch: 0, metadata: 'meta', commitTimestampMs: 1, expireTimestampMs: -1 }), decodeOffsetCommitValue],
    [encodeGroupMetadataValue(SAMPLE_GROUP), decodeGroupMetadataValue],
  ];
  for (const [buf, decode] of samples) {
    for (let n = 0; n < buf.length; n++) assertCorrupt(() => decode(buf.subarray(0, n)), `truncated to ${n}`);
    assertCorrupt(() => decode(Buffer.concat([buf, Buffer.from([0])])), 'trailing byte');
  }
  assertCorrupt(() => decodeOffsetCommitValue(hex('0004 0000000000000001')), 'value v4');
  assertCorrupt(() => decodeGroupMetadataValue(hex('0009')), 'group v9');
  assertCorrupt(() => decodeGroupMetadataValue(hex(`0003 ${str('c')} 00000001 ffff ffff 0000000000000000 7fffffff`)), 'huge member count');
  assertCorrupt(() => decodeKey(hex(`0001 ffff ${str('t')} 00000000`)), 'null group');
  assertCorrupt(() => decodeKey(hex(`0001 ${str('g')} ${str('t')} ffffffff`)), 'negative partition');
});

const text = fc.string({ maxLength: 40 });
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const timestamp = fc.integer({ min: -1, max: 2 ** 50 });

test('property: offset commit keys and values round-trip', () => {
  fc.assert(
    fc.property(text, text, fc.integer({ min: 0, max: 0x7fffffff }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), int32, text, timestamp, (g, t, p, offset, epoch, meta, ts) => {
      assert.deepEqual(decodeKey(encodeOffsetCommitKey(g, t, p)), { kind: 'offset', version: 1, group: g, topic: t, partition: p });
      const v = { offset, leaderEpoch: epoch, metadata: meta, commitTimestampMs: ts, expireTimestampMs: -1 };
      assert.deepEqual(decodeOffsetCommitValue(encodeOffsetCommitValue(v)), v);
    }),
    { numRuns: 300, seed: 301 },
  );
});

test('property: group metadata values round-trip', () => {
  const member = fc.record({
    memberId: text,
    groupInstanceId: fc.option(text, { nil: null }),
    clientId: text,
    clientHost: text,
    rebalanceTimeoutMs: fc.integer({ min: 1, max: 0x7fffffff }),
    sessionTimeoutMs: fc.integer({ min: 1, max: 0x7fffffff }),
    subscription: fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a)),
    assignment: fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a)),
  }).map((m) => ({ ...m }));
  const group = fc.record({
    protocolType: text,
    generation: int32,
    protocol: fc.option(text, { nil: null }),
    leader: fc.option(text, { nil: null }),
    currentStateTimestampMs: timestamp,
    members: fc.array(member, { maxLength: 5 }),
  }).map((g) => ({ ...g })); // fast-check records have no prototype; deepEqual compares prototypes
  fc.assert(
    fc.property(group, (v) => {
      const back = decodeGroupMetadataValue(encodeGroupMetadataValue(v));
      assert.deepEqual({ ...back, members: back.members.map((m) => ({ ...m, subscription: Buffer.from(m.subscription), assignment: Buffer.from(m.assignment) })) }, v);
    }),
    { numRuns: 200, seed: 302 },
  );
});
