// Goal: static membership (KIP-345, group.instance.id) works as in Kafka: static members join without
// MEMBER_ID_REQUIRED; a restarted instance replaces its old member id without a rebalance while the
// group is Stable and its protocols keep the selected one; the old id is fenced (82) everywhere; a
// replaced leader is not told to reassign (KIP-814 at v9); static members that miss a rebalance stay
// until their session expires; a replacement that cannot be stored is undone.
// Method: fake time and an in-memory log; join, sync, heartbeat and commit driven by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaErrorCode as E } from '../../src/groups/error-codes.ts';
import { decodeGroupMetadataValue, decodeKey } from '../../src/groups/offsets-records.ts';
import { advanceUntil, commitRequest, flush, formGroup, heartbeatRequest, joinRequest, makeCoordinator, syncRequest, track } from './harness.ts';

const DELAY = { groupInitialRebalanceDelayMs: 3_000 };
const staticOver = (i: number) => ({ groupInstanceId: `inst-${i}` });

test('static members join without MEMBER_ID_REQUIRED; their id starts with the instance id', async () => {
  const h = await makeCoordinator();
  const r = await h.coordinator.joinGroup(joinRequest({ apiVersion: 5, groupInstanceId: 'inst-0' }));
  assert.equal(r.errorCode, E.NONE);
  assert.equal(r.memberId, 'inst-0-uuid1');
  assert.equal(h.coordinator.inspectGroup('g')!.members[0]!.groupInstanceId, 'inst-0');
});

test('a restarted static follower replaces its old id without a rebalance and gets its old assignment', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 3, staticOver);
  const old = joins[1]!;
  const appendsBefore = h.log.appendCalls;
  const r = await h.coordinator.joinGroup(joinRequest({ groupInstanceId: 'inst-1', clientId: 'c1-restarted' }));
  assert.equal(r.errorCode, E.NONE);
  assert.notEqual(r.memberId, old.memberId);
  assert.equal(r.generationId, 1);
  assert.equal(r.leader, joins[0]!.memberId);
  assert.deepEqual(r.members, []);
  const g = h.coordinator.inspectGroup('g')!;
  assert.equal(g.state, 'Stable');
  assert.equal(g.generationId, 1);
  assert.deepEqual(g.members.map((m) => m.memberId), [joins[0]!.memberId, r.memberId, joins[2]!.memberId]);
  // The new id is stored, so a restart of the broker knows it.
  assert.equal(h.log.appendCalls, appendsBefore + 1);
  const stored = decodeGroupMetadataValue(h.log.records[h.log.records.length - 1]!.value!);
  assert.deepEqual(stored.members.map((m) => m.memberId), g.members.map((m) => m.memberId));
  // SyncGroup in Stable hands back the assignment the old id had.
  const s = await h.coordinator.syncGroup(syncRequest({ memberId: r.memberId, groupInstanceId: 'inst-1' }));
  assert.equal(s.assignment.toString(), `g1:${old.memberId}`);
  assert.equal(h.coordinator.heartbeat(heartbeatRequest({ memberId: r.memberId, groupInstanceId: 'inst-1' })).errorCode, E.NONE);
});

test('the old id of a replaced static member is fenced: join, sync, heartbeat, commit and leave get 82', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 2, staticOver);
  const oldId = joins[1]!.memberId;
  await h.coordinator.joinGroup(joinRequest({ groupInstanceId: 'inst-1' }));
  const fenced = { memberId: oldId, groupInstanceId: 'inst-1' };
  assert.equal((await h.coordinator.joinGroup(joinRequest(fenced))).errorCode, E.FENCED_INSTANCE_ID);
  assert.equal((await h.coordinator.syncGroup(syncRequest(fenced))).errorCode, E.FENCED_INSTANCE_ID);
  assert.equal(h.coordinator.heartbeat(heartbeatRequest(fenced)).errorCode, E.FENCED_INSTANCE_ID);
  const c = await h.coordinator.offsetCommit(commitRequest({ t: { 0: 5n } }, { generationId: 1, ...fenced }));
  assert.equal(c.topics[0]!.partitions[0]!.errorCode, E.FENCED_INSTANCE_ID);
  const l = h.coordinator.leaveGroup({ groupId: 'g', members: [fenced] });
  assert.equal(l.members[0]!.errorCode, E.FENCED_INSTANCE_ID);
  assert.equal(h.coordinator.inspectGroup('g')!.members.length, 2);
});

test('a replaced static leader before v9 is given the old leader id, so it runs no assignment', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 2, staticOver);
  const r = await h.coordinator.joinGroup(joinRequest({ apiVersion: 8, groupInstanceId: 'inst-0' }));
  assert.equal(r.errorCode, E.NONE);
  assert.equal(r.leader, joins[0]!.memberId);
  assert.notEqual(r.leader, r.memberId);
  assert.equal(r.skipAssignment, false);
  assert.deepEqual(r.members, []);
  // Internally it does lead now.
  assert.equal(h.coordinator.inspectGroup('g')!.leaderId, r.memberId);
});

test('KIP-814: a replaced static leader at v9 learns it leads, gets the members, and skips the assignment', async () => {
  const h = await makeCoordinator(DELAY);
  await formGroup(h, 2, staticOver);
  const r = await h.coordinator.joinGroup(joinRequest({ apiVersion: 9, groupInstanceId: 'inst-0' }));
  assert.equal(r.leader, r.memberId);
  assert.equal(r.skipAssignment, true);
  assert.equal(r.members.length, 2);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'Stable');
});

test('a static member restarting with protocols that change the selected one triggers a rebalance', async () => {
  const h = await makeCoordinator(DELAY);
  const p = (...names: string[]) => names.map((name) => ({ name, metadata: Buffer.from(name) }));
  const { joins } = await formGroup(h, 2, (i) => ({ groupInstanceId: `inst-${i}`, protocols: p('range', 'roundrobin') }));
  assert.equal(joins[0]!.protocolName, 'range');
  // Unchanged protocols: no rebalance.
  const same = await h.coordinator.joinGroup(joinRequest({ groupInstanceId: 'inst-1', protocols: p('range', 'roundrobin') }));
  assert.equal(same.generationId, 1);
  // Now inst-1 prefers roundrobin; with inst-0 the vote is 1:1 and the tie goes to the leader's
  // order (range): still no change. inst-0 switching too changes the outcome.
  const tie = await h.coordinator.joinGroup(joinRequest({ groupInstanceId: 'inst-1', protocols: p('roundrobin', 'range') }));
  assert.equal(tie.generationId, 1);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'Stable');
  const change = track(h.coordinator.joinGroup(joinRequest({ groupInstanceId: 'inst-0', protocols: p('roundrobin') })));
  await flush();
  assert.equal(change.settled(), false);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'PreparingRebalance');
  const other = h.coordinator.inspectGroup('g')!.members.find((m) => m.groupInstanceId === 'inst-1')!;
  const r1 = track(h.coordinator.joinGroup(joinRequest({ groupInstanceId: 'inst-1', memberId: other.memberId, protocols: p('roundrobin', 'range') })));
  await flush();
  assert.equal(change.value().generationId, 2);
  assert.equal(change.value().protocolName, 'roundrobin');
  assert.equal(r1.value().generationId, 2);
});

test('a static member replaced during CompletingRebalance: the old id\'s parked sync is fenced, and the group rebalances', async () => {
  const h = await makeCoordinator(DELAY);
  const pending = [];
  for (let i = 0; i < 2; i++) pending.push(track(h.coordinator.joinGroup(joinRequest({ clientId: `c${i}`, groupInstanceId: `inst-${i}` }))));
  await advanceUntil(h, pending);
  const joins = pending.map((p) => p.value());
  const s1 = track(h.coordinator.syncGroup(syncRequest({ memberId: joins[1]!.memberId, groupInstanceId: 'inst-1' })));
  await flush();
  const replaced = track(h.coordinator.joinGroup(joinRequest({ groupInstanceId: 'inst-1' })));
  await flush();
  assert.equal(s1.value().errorCode, E.FENCED_INSTANCE_ID);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'PreparingRebalance');
  const r0 = track(h.coordinator.joinGroup(joinRequest({ memberId: joins[0]!.memberId, groupInstanceId: 'inst-0' })));
  await flush();
  assert.equal(replaced.value().generationId, 2);
  assert.equal(r0.value().generationId, 2);
  assert.deepEqual(r0.value().members.map((m) => m.groupInstanceId), ['inst-0', 'inst-1']);
});

test('a static member replaced while parked in a rebalance: the old join is fenced, the new one waits', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 2, staticOver);
  const old1 = track(h.coordinator.joinGroup(joinRequest({ memberId: joins[1]!.memberId, groupInstanceId: 'inst-1', protocols: [{ name: 'range', metadata: Buffer.from('v2') }] })));
  await flush();
  const new1 = track(h.coordinator.joinGroup(joinRequest({ groupInstanceId: 'inst-1', protocols: [{ name: 'range', metadata: Buffer.from('v2') }] })));
  await flush();
  assert.equal(old1.value().errorCode, E.FENCED_INSTANCE_ID);
  assert.equal(new1.settled(), false);
  const r0 = track(h.coordinator.joinGroup(joinRequest({ memberId: joins[0]!.memberId, groupInstanceId: 'inst-0' })));
  await flush();
  assert.equal(new1.value().generationId, 2);
  assert.equal(r0.value().generationId, 2);
});

test('a static member that misses a rebalance stays a member and takes its assignment without another rebalance', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 2, (i) => ({ groupInstanceId: `inst-${i}`, sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 10_000 }));
  // inst-0 rejoins with new metadata; inst-1 is down (restarting) and misses the rebalance.
  const r0 = track(h.coordinator.joinGroup(joinRequest({ memberId: joins[0]!.memberId, groupInstanceId: 'inst-0', sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 10_000, protocols: [{ name: 'range', metadata: Buffer.from('v2') }] })));
  h.time.advance(10_000);
  await flush();
  assert.equal(r0.value().generationId, 2);
  assert.deepEqual(r0.value().members.map((m) => m.groupInstanceId), ['inst-0', 'inst-1']);
  assert.equal(h.coordinator.inspectGroup('g')!.members.length, 2);
  // The leader assigns both; inst-1 comes back in time and takes over without a rebalance.
  await h.coordinator.syncGroup(syncRequest({ generationId: 2, memberId: joins[0]!.memberId, groupInstanceId: 'inst-0', assignments: [{ memberId: joins[1]!.memberId, assignment: Buffer.from('p1') }] }));
  const back = await h.coordinator.joinGroup(joinRequest({ groupInstanceId: 'inst-1', sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 10_000 }));
  assert.equal(back.generationId, 2);
  const s = await h.coordinator.syncGroup(syncRequest({ generationId: 2, memberId: back.memberId, groupInstanceId: 'inst-1' }));
  assert.equal(s.assignment.toString(), 'p1');
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'Stable');
});

test('a static member that stays away is removed by its session timeout', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 2, (i) => ({ groupInstanceId: `inst-${i}`, sessionTimeoutMs: 20_000 }));
  for (let t = 0; t < 20_000; t += 5_000) {
    h.time.advance(5_000);
    h.coordinator.heartbeat(heartbeatRequest({ memberId: joins[0]!.memberId, groupInstanceId: 'inst-0' }));
  }
  assert.deepEqual(h.coordinator.inspectGroup('g')!.members.map((m) => m.groupInstanceId), ['inst-0']);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'PreparingRebalance');
});

test('a static replacement that cannot be stored answers COORDINATOR_NOT_AVAILABLE and keeps the old id', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 2, staticOver);
  h.log.failNext = 1;
  const r = await h.coordinator.joinGroup(joinRequest({ groupInstanceId: 'inst-1' }));
  assert.equal(r.errorCode, E.COORDINATOR_NOT_AVAILABLE);
  const g = h.coordinator.inspectGroup('g')!;
  assert.deepEqual(g.members.map((m) => m.memberId), [joins[0]!.memberId, joins[1]!.memberId]);
  assert.equal(h.coordinator.heartbeat(heartbeatRequest({ memberId: joins[1]!.memberId, groupInstanceId: 'inst-1' })).errorCode, E.NONE);
  assert.equal(h.backgroundErrors.length, 1);
  assert.equal(decodeKey(h.log.records[h.log.records.length - 1]!.key).kind, 'group');
});
