// Goal: offsets and group metadata survive a restart (a new coordinator loading the same log, also
// after compaction); a restored group carries on with its members if they heartbeat and falls back to
// Empty if they do not; deletions stay deleted; offset retention deletes offsets of groups that have
// been empty for offsets.retention (default 7 days) with tombstones, and never those of live groups;
// a corrupt log fails the load loudly.
// Method: two coordinators on one in-memory log, each with its own fake time; retention driven by the
// coordinator's own periodic timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaErrorCode as E } from '../../src/groups/error-codes.ts';
import { GroupCoordinator } from '../../src/groups/group-coordinator.ts';
import { encodeGroupMetadataKey, encodeGroupMetadataValue } from '../../src/groups/offsets-records.ts';
import { isStreamBusError } from '../../src/util/errors.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { MemoryOffsetsLog } from './memory-offsets-log.ts';
import { commitRequest, flush, formGroup, heartbeatRequest, joinRequest, makeCoordinator, syncRequest, track, type Harness } from './harness.ts';

const DELAY = { groupInitialRebalanceDelayMs: 3_000 };
const DAY_MS = 24 * 60 * 60 * 1000;

async function restart(h: Harness, config: Parameters<typeof makeCoordinator>[0] = DELAY): Promise<Harness> {
  h.coordinator.close();
  return makeCoordinator(config, { log: h.log, time: new ManualClock(h.time.now() + 5_000) });
}

function fetchOne(h: Harness, groupId: string, topic: string, partition: number) {
  return h.coordinator.offsetFetch({ groupId, topics: [{ name: topic, partitionIndexes: [partition] }], requireStable: false }).topics[0]!.partitions[0]!;
}

test('offsets, generation, protocol, leader and members survive a restart; members carry on by heartbeating', async () => {
  const h1 = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h1, 2, () => ({ sessionTimeoutMs: 30_000 }));
  const m0 = joins[0]!.memberId;
  const m1 = joins[1]!.memberId;
  const req = commitRequest({ orders: { 0: 41n, 1: 7n } }, { generationId: 1, memberId: m1 });
  await h1.coordinator.offsetCommit({ ...req, topics: [{ name: 'orders', partitions: [{ ...req.topics[0]!.partitions[0]!, committedLeaderEpoch: 3, committedMetadata: 'x' }, req.topics[0]!.partitions[1]!] }] });
  await h1.coordinator.offsetCommit(commitRequest({ audit: { 0: 5n } }, { groupId: 'simple' }));

  const h2 = await restart(h1);
  const g = h2.coordinator.inspectGroup('g')!;
  assert.equal(g.state, 'Stable');
  assert.equal(g.generationId, 1);
  assert.equal(g.protocolType, 'consumer');
  assert.equal(g.protocolName, 'range');
  assert.equal(g.leaderId, m0);
  assert.deepEqual(g.members.map((m) => [m.memberId, m.assignment.toString(), m.sessionTimeoutMs]), [
    [m0, `g1:${m0}`, 30_000],
    [m1, `g1:${m1}`, 30_000],
  ]);
  assert.deepEqual(fetchOne(h2, 'g', 'orders', 0), { partitionIndex: 0, committedOffset: 41n, committedLeaderEpoch: 3, metadata: 'x', errorCode: E.NONE });
  assert.equal(fetchOne(h2, 'g', 'orders', 1).committedOffset, 7n);
  assert.equal(fetchOne(h2, 'simple', 'audit', 0).committedOffset, 5n);
  assert.equal(h2.coordinator.inspectGroup('simple')!.state, 'Empty');

  // The members never noticed the restart: heartbeats, syncs and commits of generation 1 go on.
  for (let i = 0; i < 10; i++) {
    h2.time.advance(10_000);
    assert.equal(h2.coordinator.heartbeat(heartbeatRequest({ memberId: m0 })).errorCode, E.NONE);
    assert.equal(h2.coordinator.heartbeat(heartbeatRequest({ memberId: m1 })).errorCode, E.NONE);
  }
  assert.equal((await h2.coordinator.syncGroup(syncRequest({ memberId: m1 }))).assignment.toString(), `g1:${m1}`);
  const c = await h2.coordinator.offsetCommit(commitRequest({ orders: { 0: 42n } }, { generationId: 1, memberId: m0 }));
  assert.equal(c.topics[0]!.partitions[0]!.errorCode, E.NONE);
});

test('restored members that do not come back expire; the group ends Empty and keeps its offsets', async () => {
  const h1 = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h1, 2, () => ({ sessionTimeoutMs: 30_000 }));
  await h1.coordinator.offsetCommit(commitRequest({ t: { 0: 9n } }, { generationId: 1, memberId: joins[0]!.memberId }));
  const h2 = await restart(h1);
  h2.time.advance(29_999);
  assert.equal(h2.coordinator.inspectGroup('g')!.state, 'Stable');
  h2.time.advance(1);
  await flush();
  const g = h2.coordinator.inspectGroup('g')!;
  assert.equal(g.state, 'Empty');
  assert.equal(g.generationId, 2);
  assert.equal(fetchOne(h2, 'g', 't', 0).committedOffset, 9n);
  // A fresh consumer joins the empty group and starts generation 3.
  const j = track(h2.coordinator.joinGroup(joinRequest({ apiVersion: 3 })));
  h2.time.advance(3_000);
  await flush();
  assert.equal(j.value().generationId, 3);
});

test('the state after compaction is the same as before it; deleted groups stay deleted', async () => {
  const h1 = await makeCoordinator(DELAY);
  for (let i = 0; i < 5; i++) await h1.coordinator.offsetCommit(commitRequest({ t: { 0: BigInt(i), 1: BigInt(10 + i) } }));
  await h1.coordinator.offsetCommit(commitRequest({ t: { 0: 1n } }, { groupId: 'doomed' }));
  assert.deepEqual(await h1.coordinator.deleteGroups(['doomed']), [{ groupId: 'doomed', errorCode: E.NONE }]);
  const { joins } = await formGroup(h1, 1, () => ({ groupId: 'live' }));
  assert.equal(joins[0]!.generationId, 1);
  const recordsBefore = h1.log.records.length;
  h1.log.compact();
  assert.ok(h1.log.records.length < recordsBefore);
  const h2 = await restart(h1);
  assert.equal(fetchOne(h2, 'g', 't', 0).committedOffset, 4n);
  assert.equal(fetchOne(h2, 'g', 't', 1).committedOffset, 14n);
  assert.equal(h2.coordinator.inspectGroup('doomed'), undefined);
  assert.equal(fetchOne(h2, 'doomed', 't', 0).committedOffset, -1n);
  assert.equal(h2.coordinator.inspectGroup('live')!.generationId, 1);
});

test('load() reports what it restored and skips record kinds it does not use', async () => {
  const log = new MemoryOffsetsLog();
  const h1 = await makeCoordinator(DELAY, { log });
  await h1.coordinator.offsetCommit(commitRequest({ t: { 0: 1n, 1: 2n } }));
  // A key version this coordinator does not use (a newer Kafka record type).
  log.inject({ key: Buffer.from([0, 7, 0, 1, 0x67]), value: Buffer.from([0, 0]) });
  h1.coordinator.close();
  const time = new ManualClock();
  const c = new GroupCoordinator({ log, clock: time, newId: () => 'x' });
  assert.deepEqual(await c.load(), { records: 3, groups: 0, offsets: 2, skipped: 1 });
});

test('a corrupt record fails load() with SB_ERR_CORRUPT; the coordinator then answers COORDINATOR_NOT_AVAILABLE', async () => {
  const log = new MemoryOffsetsLog();
  log.inject({ key: encodeGroupMetadataKey('g'), value: Buffer.from([0, 3, 0]) });
  const time = new ManualClock();
  const c = new GroupCoordinator({ log, clock: time, newId: () => 'x' });
  await assert.rejects(c.load(), (e: unknown) => isStreamBusError(e, 'SB_ERR_CORRUPT'));
  assert.equal((await c.joinGroup(joinRequest())).errorCode, E.COORDINATOR_NOT_AVAILABLE);
  assert.equal(time.pendingTimers(), 0);
  // Members without a selected protocol cannot be restored either.
  const log2 = new MemoryOffsetsLog();
  const member = { memberId: 'm', groupInstanceId: null, clientId: 'c', clientHost: 'h', rebalanceTimeoutMs: 1, sessionTimeoutMs: 1, subscription: Buffer.alloc(0), assignment: Buffer.alloc(0) };
  log2.inject({ key: encodeGroupMetadataKey('g'), value: encodeGroupMetadataValue({ protocolType: 'consumer', generation: 1, protocol: null, leader: 'm', currentStateTimestampMs: 0, members: [member] }) });
  const c2 = new GroupCoordinator({ log: log2, clock: time, newId: () => 'x' });
  await assert.rejects(c2.load(), (e: unknown) => isStreamBusError(e, 'SB_ERR_CORRUPT'));
});

test('retention (default 7 days): offsets of a group expire 7 days after it became Empty, not after the commit', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 1, () => ({ sessionTimeoutMs: 30_000 }));
  await h.coordinator.offsetCommit(commitRequest({ t: { 0: 3n } }, { generationId: 1, memberId: joins[0]!.memberId }));
  // The consumer stays for 2 days, heartbeating.
  for (let t = 0; t < 2 * DAY_MS; t += 20_000) {
    h.time.advance(20_000);
    assert.equal(h.coordinator.heartbeat(heartbeatRequest({ memberId: joins[0]!.memberId })).errorCode, E.NONE);
  }
  assert.equal(fetchOne(h, 'g', 't', 0).committedOffset, 3n, 'a live group keeps its offsets past any commit age');
  h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: joins[0]!.memberId, groupInstanceId: null }] });
  const emptyAt = h.time.now();
  h.time.advance(7 * DAY_MS - 600_000);
  await flush();
  assert.equal(fetchOne(h, 'g', 't', 0).committedOffset, 3n);
  // The periodic check (every 10 minutes) finds it within one interval after the deadline.
  h.time.advance(600_000 + 600_000);
  await flush();
  assert.ok(h.time.now() - emptyAt >= 7 * DAY_MS);
  assert.equal(fetchOne(h, 'g', 't', 0).committedOffset, -1n);
  // No offsets and no members left: the group itself is gone, in memory and in the log.
  assert.equal(h.coordinator.inspectGroup('g'), undefined);
  const tail = h.log.records.slice(-2);
  assert.ok(tail.every((r) => r.value === null));
  const h2 = await restart(h);
  assert.equal(h2.coordinator.inspectGroup('g'), undefined);
});

test('retention for simple (offsets-only) groups counts from each commit; live groups keep theirs', async () => {
  const h = await makeCoordinator({ ...DELAY, offsetsRetentionMs: 100_000, offsetsRetentionCheckIntervalMs: 10_000 });
  await h.coordinator.offsetCommit(commitRequest({ t: { 0: 1n } }, { groupId: 'simple' }));
  h.time.advance(50_000);
  await h.coordinator.offsetCommit(commitRequest({ t: { 1: 2n } }, { groupId: 'simple' }));
  const { joins } = await formGroup(h, 1, () => ({ groupId: 'live', sessionTimeoutMs: 30_000 }));
  await h.coordinator.offsetCommit(commitRequest({ t: { 0: 5n } }, { groupId: 'live', generationId: 1, memberId: joins[0]!.memberId }));
  for (let i = 0; i < 8; i++) {
    h.time.advance(10_000);
    await flush();
    h.coordinator.heartbeat(heartbeatRequest({ groupId: 'live', memberId: joins[0]!.memberId }));
  }
  // 130 s after the first commit, 80 s after the second.
  assert.equal(fetchOne(h, 'simple', 't', 0).committedOffset, -1n);
  assert.equal(fetchOne(h, 'simple', 't', 1).committedOffset, 2n);
  assert.equal(fetchOne(h, 'live', 't', 0).committedOffset, 5n);
  for (let i = 0; i < 3; i++) {
    h.time.advance(10_000);
    await flush();
    h.coordinator.heartbeat(heartbeatRequest({ groupId: 'live', memberId: joins[0]!.memberId }));
  }
  assert.equal(fetchOne(h, 'simple', 't', 1).committedOffset, -1n);
  assert.equal(h.coordinator.inspectGroup('simple'), undefined);
  assert.equal(fetchOne(h, 'live', 't', 0).committedOffset, 5n);
  const r = await h.coordinator.expireOffsets();
  assert.deepEqual(r, { offsetsRemoved: 0, groupsRemoved: 0 });
});
