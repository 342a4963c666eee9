// Goal: OffsetCommit / OffsetFetch and the offset admin paths follow Kafka: simple commits (generation
// -1, no member) only while the group is Empty or unknown; member commits checked for member (25),
// generation (22) and state (27 in CompletingRebalance, accepted in PreparingRebalance); answers only
// once the commit is durable; OffsetFetch answers -1/""/error 0 for partitions without a commit; CLI
// resets only for empty groups; lag from a high-watermark callback; OffsetDelete as Kafka decides it
// (Empty groups, consumer groups' unsubscribed topics, 86 / 68 / 69 otherwise).
// Method: fake time and an in-memory log that can hold or fail appends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaErrorCode as E } from '../../src/groups/error-codes.ts';
import { decodeKey, decodeOffsetCommitValue } from '../../src/groups/offsets-records.ts';
import type { OffsetCommitResponse } from '../../src/groups/group-api.ts';
import { encodeSubscription } from '../../src/protocol/kafka/consumer-protocol.ts';
import { advanceUntil, commitRequest, flush, formGroup, joinRequest, makeCoordinator, startJoin, track } from './harness.ts';

const DELAY = { groupInitialRebalanceDelayMs: 3_000 };
const codes = (r: OffsetCommitResponse) => r.topics.flatMap((t) => t.partitions.map((p) => p.errorCode));

test('simple commits create the group and are fetched back with leader epoch and metadata', async () => {
  const h = await makeCoordinator();
  const req = commitRequest({ orders: { 0: 10n, 1: 20n } });
  const withMeta = { ...req, topics: [{ name: 'orders', partitions: [{ ...req.topics[0]!.partitions[0]!, committedLeaderEpoch: 4, committedMetadata: 'meta' }, req.topics[0]!.partitions[1]!] }] };
  const r = await h.coordinator.offsetCommit(withMeta);
  assert.deepEqual(codes(r), [E.NONE, E.NONE]);
  const g = h.coordinator.inspectGroup('g')!;
  assert.equal(g.state, 'Empty');
  assert.equal(g.protocolType, null);
  const f = h.coordinator.offsetFetch({ groupId: 'g', topics: [{ name: 'orders', partitionIndexes: [0, 1, 2] }], requireStable: true });
  assert.equal(f.errorCode, E.NONE);
  assert.deepEqual(f.topics[0]!.partitions, [
    { partitionIndex: 0, committedOffset: 10n, committedLeaderEpoch: 4, metadata: 'meta', errorCode: E.NONE },
    { partitionIndex: 1, committedOffset: 20n, committedLeaderEpoch: -1, metadata: '', errorCode: E.NONE },
    { partitionIndex: 2, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: E.NONE },
  ]);
});

test('OffsetFetch: an unknown group or partition answers offset -1, metadata "" and error 0; null topics = all', async () => {
  const h = await makeCoordinator();
  const unknown = h.coordinator.offsetFetch({ groupId: 'nobody', topics: [{ name: 't', partitionIndexes: [3] }], requireStable: false });
  assert.deepEqual(unknown, {
    errorCode: E.NONE,
    topics: [{ name: 't', partitions: [{ partitionIndex: 3, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: E.NONE }] }],
  });
  assert.deepEqual(h.coordinator.offsetFetch({ groupId: 'nobody', topics: null, requireStable: false }), { errorCode: E.NONE, topics: [] });
  await h.coordinator.offsetCommit(commitRequest({ b: { 1: 5n, 0: 4n }, a: { 7: 1n } }));
  const all = h.coordinator.offsetFetch({ groupId: 'g', topics: null, requireStable: false });
  assert.deepEqual(all.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset])]), [
    ['a', [[7, 1n]]],
    ['b', [[0, 4n], [1, 5n]]],
  ]);
});

test('commits are stored as OffsetCommit records (key v1, value v3) and answered only once durable', async () => {
  const h = await makeCoordinator();
  h.log.hold();
  const c = track(h.coordinator.offsetCommit(commitRequest({ t: { 2: 99n } })));
  await flush();
  assert.equal(c.settled(), false);
  // Not visible before it is durable.
  assert.equal(h.coordinator.offsetFetch({ groupId: 'g', topics: [{ name: 't', partitionIndexes: [2] }], requireStable: false }).topics[0]!.partitions[0]!.committedOffset, -1n);
  h.log.release();
  await flush();
  assert.deepEqual(codes(c.value()), [E.NONE]);
  const rec = h.log.records[h.log.records.length - 1]!;
  assert.deepEqual(decodeKey(rec.key), { kind: 'offset', version: 1, group: 'g', topic: 't', partition: 2 });
  assert.deepEqual(decodeOffsetCommitValue(rec.value!), { offset: 99n, leaderEpoch: -1, metadata: '', commitTimestampMs: h.time.now(), expireTimestampMs: -1 });
});

test('a commit that cannot be made durable answers COORDINATOR_NOT_AVAILABLE and is not applied', async () => {
  const h = await makeCoordinator();
  h.log.failNext = 1;
  const r = await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n, 1: 2n } }));
  assert.deepEqual(codes(r), [E.COORDINATOR_NOT_AVAILABLE, E.COORDINATOR_NOT_AVAILABLE]);
  assert.equal(h.coordinator.offsetFetch({ groupId: 'g', topics: [{ name: 't', partitionIndexes: [0] }], requireStable: false }).topics[0]!.partitions[0]!.committedOffset, -1n);
});

test('per-partition checks: metadata over offset.metadata.max.bytes gets 12, a bad partition 3; the rest commit', async () => {
  const h = await makeCoordinator({ offsetMetadataMaxBytes: 8 });
  const req = commitRequest({ t: { 0: 1n, 1: 2n, 2: 3n } });
  const parts = req.topics[0]!.partitions;
  const r = await h.coordinator.offsetCommit({
    ...req,
    topics: [{ name: 't', partitions: [{ ...parts[0]!, committedMetadata: '123456789' }, { ...parts[1]!, committedMetadata: '12345678' }, { ...parts[2]!, partitionIndex: -1 }] }],
  });
  assert.deepEqual(codes(r), [E.OFFSET_METADATA_TOO_LARGE, E.NONE, E.UNKNOWN_TOPIC_OR_PARTITION]);
  const f = h.coordinator.offsetFetch({ groupId: 'g', topics: [{ name: 't', partitionIndexes: [0, 1] }], requireStable: false });
  assert.deepEqual(f.topics[0]!.partitions.map((p) => p.committedOffset), [-1n, 2n]);
});

test('a group id or topic too long for the record format is refused per API', async () => {
  const h = await makeCoordinator();
  const long = 'x'.repeat(40_000);
  assert.deepEqual(codes(await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n } }, { groupId: long }))), [E.INVALID_GROUP_ID]);
  assert.deepEqual(codes(await h.coordinator.offsetCommit(commitRequest({ [long]: { 0: 1n } }))), [E.UNKNOWN_TOPIC_OR_PARTITION]);
  assert.equal(await h.coordinator.resetOffsets(long, 't', new Map([[0, 1n]])), E.INVALID_GROUP_ID);
  // The empty group id is a valid id for commits, as in Kafka.
  assert.deepEqual(codes(await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n } }, { groupId: '' }))), [E.NONE]);
});

test('OffsetCommit v1 carries its own commit timestamp; -1 means now', async () => {
  const h = await makeCoordinator();
  const req = commitRequest({ t: { 0: 1n } });
  await h.coordinator.offsetCommit({ ...req, topics: [{ name: 't', partitions: [{ ...req.topics[0]!.partitions[0]!, commitTimestampMs: 1_234 }] }] });
  assert.equal(decodeOffsetCommitValue(h.log.records[h.log.records.length - 1]!.value!).commitTimestampMs, 1_234);
});

test('simple commits to a group with members get UNKNOWN_MEMBER_ID', async () => {
  const h = await makeCoordinator(DELAY);
  await formGroup(h, 1);
  assert.deepEqual(codes(await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n } }))), [E.UNKNOWN_MEMBER_ID]);
});

test('member commits: accepted when Stable, 25 for strangers, 22 for other generations', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 2);
  const m = joins[1]!.memberId;
  assert.deepEqual(codes(await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n } }, { generationId: 1, memberId: m }))), [E.NONE]);
  assert.deepEqual(codes(await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n } }, { generationId: 1, memberId: 'x' }))), [E.UNKNOWN_MEMBER_ID]);
  assert.deepEqual(codes(await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n } }, { generationId: 0, memberId: m }))), [E.ILLEGAL_GENERATION]);
  assert.deepEqual(codes(await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n } }, { generationId: 2, memberId: m }))), [E.ILLEGAL_GENERATION]);
});

test('member commits: accepted during PreparingRebalance, REBALANCE_IN_PROGRESS during CompletingRebalance', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 2);
  const newcomer = track((await startJoin(h, { clientId: 'n' })).pending);
  await flush();
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'PreparingRebalance');
  const during = await h.coordinator.offsetCommit(commitRequest({ t: { 0: 7n } }, { generationId: 1, memberId: joins[0]!.memberId }));
  assert.deepEqual(codes(during), [E.NONE]);
  const r = [0, 1].map((i) => track(h.coordinator.joinGroup(joinRequest({ clientId: `c${i}`, memberId: joins[i]!.memberId }))));
  await advanceUntil(h, [newcomer, ...r]);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'CompletingRebalance');
  const completing = await h.coordinator.offsetCommit(commitRequest({ t: { 0: 8n } }, { generationId: 2, memberId: joins[0]!.memberId }));
  assert.deepEqual(codes(completing), [E.REBALANCE_IN_PROGRESS]);
});

test('a member commit to an unknown group: ILLEGAL_GENERATION before v9, GROUP_ID_NOT_FOUND from v9', async () => {
  const h = await makeCoordinator();
  assert.deepEqual(codes(await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n } }, { generationId: 3, memberId: 'm', apiVersion: 8 }))), [E.ILLEGAL_GENERATION]);
  assert.deepEqual(codes(await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n } }, { generationId: 3, memberId: 'm', apiVersion: 9 }))), [E.GROUP_ID_NOT_FOUND]);
  assert.equal(h.coordinator.inspectGroup('g'), undefined);
});

test('resetOffsets: allowed for empty or unknown groups, NON_EMPTY_GROUP otherwise', async () => {
  const h = await makeCoordinator(DELAY);
  assert.equal(await h.coordinator.resetOffsets('fresh', 't', new Map([[0, 5n], [1, 6n]])), E.NONE);
  const f = h.coordinator.offsetFetch({ groupId: 'fresh', topics: [{ name: 't', partitionIndexes: [0, 1] }], requireStable: false });
  assert.deepEqual(f.topics[0]!.partitions.map((p) => p.committedOffset), [5n, 6n]);
  const { joins } = await formGroup(h, 1);
  assert.equal(await h.coordinator.resetOffsets('g', 't', new Map([[0, 1n]])), E.NON_EMPTY_GROUP);
  h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: joins[0]!.memberId, groupInstanceId: null }] });
  assert.equal(await h.coordinator.resetOffsets('g', 't', new Map([[0, 1n]])), E.NONE);
  h.log.failNext = 1;
  assert.equal(await h.coordinator.resetOffsets('g', 't', new Map([[0, 2n]])), E.COORDINATOR_NOT_AVAILABLE);
  assert.equal(h.coordinator.offsetFetch({ groupId: 'g', topics: [{ name: 't', partitionIndexes: [0] }], requireStable: false }).topics[0]!.partitions[0]!.committedOffset, 1n);
});

test('consumerLag: committed offset and lag per group partition; unknown partitions skipped; never negative', async () => {
  const h = await makeCoordinator();
  await h.coordinator.offsetCommit(commitRequest({ t: { 0: 10n, 1: 50n, 2: 0n } }));
  await h.coordinator.offsetCommit(commitRequest({ t: { 0: 3n } }, { groupId: 'other' }));
  const hw = new Map<string, bigint | number>([['t/0', 25n], ['t/1', 40]]);
  const lag = h.coordinator.consumerLag((topic, partition) => hw.get(`${topic}/${partition}`));
  assert.deepEqual(
    lag.map((l) => [l.groupId, l.topic, l.partition, l.committedOffset, l.highWatermark, l.lag]).sort(),
    [
      ['g', 't', 0, 10n, 25n, 15n],
      ['g', 't', 1, 50n, 40n, 0n],
      ['other', 't', 0, 3n, 25n, 22n],
    ].sort(),
  );
});

test('DescribeGroups: unknown = Dead with error 0; Stable shows protocol, metadata and assignments; others hide them', async () => {
  const h = await makeCoordinator(DELAY);
  const [unknown] = h.coordinator.describeGroups(['nobody']);
  assert.deepEqual(unknown, { errorCode: E.NONE, groupId: 'nobody', groupState: 'Dead', protocolType: '', protocolData: '', members: [] });
  const { joins } = await formGroup(h, 2, (i) => ({ clientHost: `/10.0.0.${i}`, groupInstanceId: i === 0 ? 'i0' : null }));
  const [stable] = h.coordinator.describeGroups(['g']);
  assert.equal(stable!.groupState, 'Stable');
  assert.equal(stable!.protocolType, 'consumer');
  assert.equal(stable!.protocolData, 'range');
  assert.deepEqual(stable!.members.map((m) => [m.memberId, m.groupInstanceId, m.clientId, m.clientHost, m.memberMetadata.toString(), m.memberAssignment.toString()]), [
    [joins[0]!.memberId, 'i0', 'c0', '/10.0.0.0', 'sub', `g1:${joins[0]!.memberId}`],
    [joins[1]!.memberId, null, 'c1', '/10.0.0.1', 'sub', `g1:${joins[1]!.memberId}`],
  ]);
  await startJoin(h, { clientId: 'n' });
  const [preparing] = h.coordinator.describeGroups(['g']);
  assert.equal(preparing!.groupState, 'PreparingRebalance');
  assert.equal(preparing!.protocolData, '');
  assert.ok(preparing!.members.every((m) => m.memberMetadata.length === 0 && m.memberAssignment.length === 0));
});

test('ListGroups: every group with its state; states filter case-insensitive; types filter "classic"', async () => {
  const h = await makeCoordinator(DELAY);
  await formGroup(h, 1);
  await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n } }, { groupId: 'simple' }));
  const all = h.coordinator.listGroups({ statesFilter: [], typesFilter: [] });
  assert.equal(all.errorCode, E.NONE);
  assert.deepEqual(all.groups.map((g) => [g.groupId, g.protocolType, g.groupState, g.groupType]).sort(), [
    ['g', 'consumer', 'Stable', 'classic'],
    ['simple', '', 'Empty', 'classic'],
  ]);
  assert.deepEqual(h.coordinator.listGroups({ statesFilter: ['STABLE'], typesFilter: [] }).groups.map((g) => g.groupId), ['g']);
  assert.deepEqual(h.coordinator.listGroups({ statesFilter: ['empty', 'Dead'], typesFilter: [] }).groups.map((g) => g.groupId), ['simple']);
  assert.equal(h.coordinator.listGroups({ statesFilter: [], typesFilter: ['Classic'] }).groups.length, 2);
  assert.equal(h.coordinator.listGroups({ statesFilter: [], typesFilter: ['consumer'] }).groups.length, 0);
});

test('DeleteGroups: empty groups go with their offsets (tombstones); 68 for non-empty, 69 for unknown', async () => {
  const h = await makeCoordinator(DELAY);
  await formGroup(h, 1);
  await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n, 1: 2n } }, { groupId: 'simple' }));
  const before = h.log.records.length;
  const r = await h.coordinator.deleteGroups(['simple', 'g', 'nobody', 'simple']);
  assert.deepEqual(r, [
    { groupId: 'simple', errorCode: E.NONE },
    { groupId: 'g', errorCode: E.NON_EMPTY_GROUP },
    { groupId: 'nobody', errorCode: E.GROUP_ID_NOT_FOUND },
  ]);
  assert.equal(h.coordinator.inspectGroup('simple'), undefined);
  const tombstones = h.log.records.slice(before);
  assert.ok(tombstones.every((t) => t.value === null));
  assert.deepEqual(tombstones.map((t) => decodeKey(t.key)), [
    { kind: 'offset', version: 1, group: 'simple', topic: 't', partition: 0 },
    { kind: 'offset', version: 1, group: 'simple', topic: 't', partition: 1 },
    { kind: 'group', version: 2, group: 'simple' },
  ]);
  assert.deepEqual((await h.coordinator.deleteGroups(['simple']))[0], { groupId: 'simple', errorCode: E.GROUP_ID_NOT_FOUND });
  assert.equal(h.coordinator.offsetFetch({ groupId: 'simple', topics: [{ name: 't', partitionIndexes: [0] }], requireStable: false }).topics[0]!.partitions[0]!.committedOffset, -1n);
});

test('a commit in flight when its group is deleted does not bring the offset back', async () => {
  const h = await makeCoordinator();
  await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n } }));
  h.log.hold();
  const c = h.coordinator.offsetCommit(commitRequest({ t: { 0: 2n } }));
  const d = h.coordinator.deleteGroups(['g']);
  h.log.release();
  assert.deepEqual(codes(await c), [E.NONE]);
  assert.deepEqual(await d, [{ groupId: 'g', errorCode: E.NONE }]);
  assert.equal(h.coordinator.inspectGroup('g'), undefined);
  assert.equal(h.coordinator.offsetFetch({ groupId: 'g', topics: null, requireStable: false }).topics.length, 0);
});

test('removeTopicOffsets: offsets of deleted topics go from every group, with tombstones', async () => {
  const h = await makeCoordinator();
  await h.coordinator.offsetCommit(commitRequest({ gone: { 0: 1n, 1: 2n }, kept: { 0: 3n } }));
  await h.coordinator.offsetCommit(commitRequest({ gone: { 0: 4n } }, { groupId: 'other' }));
  const before = h.log.records.length;
  assert.equal(await h.coordinator.removeTopicOffsets(['gone', 'never-committed']), 3);
  const all = h.coordinator.offsetFetch({ groupId: 'g', topics: null, requireStable: false });
  assert.deepEqual(all.topics.map((t) => t.name), ['kept']);
  assert.equal(h.coordinator.offsetFetch({ groupId: 'other', topics: null, requireStable: false }).topics.length, 0);
  const tombstones = h.log.records.slice(before);
  assert.equal(tombstones.length, 3);
  assert.ok(tombstones.every((r) => r.value === null && decodeKey(r.key).kind === 'offset'));
  assert.equal(await h.coordinator.removeTopicOffsets(['gone']), 0);
  assert.equal(h.log.records.length, before + 3);
});

test('OffsetDelete: an Empty group loses the offsets asked for, then itself when none are left', async () => {
  const h = await makeCoordinator();
  await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n, 1: 2n }, u: { 0: 3n } }));
  const before = h.log.records.length;
  // A partition without an offset is answered NONE too, as Kafka does; one asked twice counts once.
  const r = await h.coordinator.deleteOffsets('g', [{ topic: 't', partition: 0 }, { topic: 't', partition: 5 }, { topic: 't', partition: 0 }]);
  assert.deepEqual(r, { errorCode: E.NONE, partitionErrors: [E.NONE, E.NONE, E.NONE] });
  assert.deepEqual(h.log.records.slice(before).map((t) => [decodeKey(t.key), t.value]), [[{ kind: 'offset', version: 1, group: 'g', topic: 't', partition: 0 }, null]]);
  const left = h.coordinator.offsetFetch({ groupId: 'g', topics: null, requireStable: false });
  assert.deepEqual(left.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]), [['t', [1]], ['u', [0]]]);
  await h.coordinator.deleteOffsets('g', [{ topic: 't', partition: 1 }, { topic: 'u', partition: 0 }]);
  assert.equal(h.coordinator.inspectGroup('g'), undefined, 'an Empty group with no offsets left is deleted');
  assert.deepEqual(decodeKey(h.log.records.at(-1)!.key), { kind: 'group', version: 2, group: 'g' });
  assert.deepEqual(await h.coordinator.deleteOffsets('g', [{ topic: 't', partition: 1 }]), { errorCode: E.GROUP_ID_NOT_FOUND, partitionErrors: [] });
  assert.deepEqual(await h.coordinator.deleteOffsets('', [{ topic: 't', partition: 1 }]), { errorCode: E.INVALID_GROUP_ID, partitionErrors: [] });
});

test('OffsetDelete: a consumer group with members keeps the offsets of topics it subscribes to (86); other protocols are NON_EMPTY_GROUP', async () => {
  const h = await makeCoordinator(DELAY);
  const subscription = encodeSubscription(['orders']);
  const { joins } = await formGroup(h, 2, () => ({ protocolType: 'consumer', protocols: [{ name: 'range', metadata: subscription }] }));
  const member = { generationId: joins[0]!.generationId, memberId: joins[0]!.memberId };
  assert.deepEqual(codes(await h.coordinator.offsetCommit(commitRequest({ orders: { 0: 1n }, old: { 0: 2n } }, member))), [E.NONE, E.NONE]);
  const r = await h.coordinator.deleteOffsets('g', [{ topic: 'orders', partition: 0 }, { topic: 'old', partition: 0 }]);
  assert.deepEqual(r, { errorCode: E.NONE, partitionErrors: [E.GROUP_SUBSCRIBED_TO_TOPIC, E.NONE] });
  const left = h.coordinator.offsetFetch({ groupId: 'g', topics: null, requireStable: false });
  assert.deepEqual(left.topics.map((t) => t.name), ['orders']);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'Stable', 'the group stays');

  await formGroup(h, 1, () => ({ groupId: 'connect', protocolType: 'connect' }));
  assert.deepEqual(await h.coordinator.deleteOffsets('connect', [{ topic: 'x', partition: 0 }]), { errorCode: E.NON_EMPTY_GROUP, partitionErrors: [] });
  // A subscription that does not decode counts as subscribed to everything.
  const opaque = await formGroup(h, 1, () => ({ groupId: 'opaque', protocols: [{ name: 'range', metadata: Buffer.from('sub') }] }));
  const opaqueMember = { groupId: 'opaque', generationId: opaque.joins[0]!.generationId, memberId: opaque.joins[0]!.memberId };
  assert.deepEqual(codes(await h.coordinator.offsetCommit(commitRequest({ any: { 0: 1n } }, opaqueMember))), [E.NONE]);
  assert.deepEqual(await h.coordinator.deleteOffsets('opaque', [{ topic: 'any', partition: 0 }]), { errorCode: E.NONE, partitionErrors: [E.GROUP_SUBSCRIBED_TO_TOPIC] });
});
