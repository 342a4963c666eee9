// Goal: members leave a group through LeaveGroup (v0-2 single member, v3+ member list with per-member
// errors) or by missing their session timeout, and each departure moves the group on as Kafka does:
// a rebalance from Stable/CompletingRebalance, an earlier end of a rebalance under way, Empty when the
// last one goes. Parked members are kept alive; a new member parked too long is dropped.
// Method: fake time and an in-memory log; time advanced in exact steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaErrorCode as E } from '../../src/groups/error-codes.ts';
import { leaveGroupV0ErrorCode } from '../../src/groups/group-api.ts';
import { decodeGroupMetadataValue, decodeKey } from '../../src/groups/offsets-records.ts';
import { advanceUntil, flush, formGroup, heartbeatRequest, joinRequest, makeCoordinator, startJoin, syncRequest, track } from './harness.ts';

const DELAY = { groupInitialRebalanceDelayMs: 3_000 };

test('LeaveGroup v0-2 (one member): the group rebalances and the others rejoin into a new generation', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 3);
  const res = h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: joins[1]!.memberId, groupInstanceId: null }] });
  assert.equal(leaveGroupV0ErrorCode(res), E.NONE);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'PreparingRebalance');
  const r = [0, 2].map((i) => track(h.coordinator.joinGroup(joinRequest({ clientId: `c${i}`, memberId: joins[i]!.memberId }))));
  await flush();
  assert.deepEqual(r.map((x) => x.value().generationId), [2, 2]);
  assert.equal(r[0]!.value().members.length, 2);
  // Leaving twice: the member is unknown now.
  const again = h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: joins[1]!.memberId, groupInstanceId: null }] });
  assert.equal(leaveGroupV0ErrorCode(again), E.UNKNOWN_MEMBER_ID);
});

test('LeaveGroup v3+: per-member results for known, unknown, pending and instance-named members', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 2, (i) => (i === 1 ? { groupInstanceId: 'inst-1' } : {}));
  const pending = await h.coordinator.joinGroup(joinRequest({ clientId: 'p' }));
  assert.equal(pending.errorCode, E.MEMBER_ID_REQUIRED);
  const res = h.coordinator.leaveGroup({
    groupId: 'g',
    members: [
      { memberId: joins[0]!.memberId, groupInstanceId: null },
      { memberId: 'ghost', groupInstanceId: null },
      { memberId: pending.memberId, groupInstanceId: null },
      { memberId: 'wrong-id', groupInstanceId: 'inst-1' },
      { memberId: '', groupInstanceId: 'no-such-instance' },
    ],
  });
  assert.equal(res.errorCode, E.NONE);
  assert.deepEqual(
    res.members.map((m) => [m.memberId, m.groupInstanceId, m.errorCode]),
    [
      [joins[0]!.memberId, null, E.NONE],
      ['ghost', null, E.UNKNOWN_MEMBER_ID],
      [pending.memberId, null, E.NONE],
      ['wrong-id', 'inst-1', E.FENCED_INSTANCE_ID],
      ['', 'no-such-instance', E.UNKNOWN_MEMBER_ID],
    ],
  );
  // Admin removal of a static member by instance id alone.
  const byInstance = h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: '', groupInstanceId: 'inst-1' }] });
  assert.equal(byInstance.members[0]!.errorCode, E.NONE);
  assert.equal(h.coordinator.inspectGroup('g')!.members.length, 0);
});

test('LeaveGroup for an unknown group answers each member UNKNOWN_MEMBER_ID; "" is INVALID_GROUP_ID', async () => {
  const h = await makeCoordinator();
  const res = h.coordinator.leaveGroup({ groupId: 'none', members: [{ memberId: 'a', groupInstanceId: null }] });
  assert.equal(res.errorCode, E.NONE);
  assert.equal(res.members[0]!.errorCode, E.UNKNOWN_MEMBER_ID);
  assert.equal(leaveGroupV0ErrorCode(res), E.UNKNOWN_MEMBER_ID);
  assert.equal(h.coordinator.leaveGroup({ groupId: '', members: [] }).errorCode, E.INVALID_GROUP_ID);
});

test('the last member leaving makes the group Empty with a new generation, stored in the log', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 1);
  h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: joins[0]!.memberId, groupInstanceId: null }] });
  await flush();
  const g = h.coordinator.inspectGroup('g')!;
  assert.equal(g.state, 'Empty');
  assert.equal(g.generationId, 2);
  assert.equal(g.leaderId, null);
  const last = h.log.records[h.log.records.length - 1]!;
  assert.deepEqual(decodeKey(last.key), { kind: 'group', version: 2, group: 'g' });
  const v = decodeGroupMetadataValue(last.value!);
  assert.equal(v.generation, 2);
  assert.equal(v.protocol, null);
  assert.equal(v.leader, null);
  assert.deepEqual(v.members, []);
  assert.equal(v.currentStateTimestampMs, h.time.now());
});

test('leaving ends a rebalance early when every remaining member has rejoined', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 2);
  const r0 = track(h.coordinator.joinGroup(joinRequest({ clientId: 'c0', memberId: joins[0]!.memberId })));
  await flush();
  assert.equal(r0.settled(), false);
  h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: joins[1]!.memberId, groupInstanceId: null }] });
  await flush();
  assert.equal(r0.value().generationId, 2);
  assert.equal(r0.value().members.length, 1);
});

test('a member leaving while parked in JoinGroup gets it answered UNKNOWN_MEMBER_ID', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 2);
  // c1 rejoins with a new subscription, which starts a rebalance that waits for c0.
  const r1 = track(h.coordinator.joinGroup(joinRequest({ clientId: 'c1', memberId: joins[1]!.memberId, protocols: [{ name: 'range', metadata: Buffer.from('v2') }] })));
  await flush();
  assert.equal(r1.settled(), false);
  h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: joins[1]!.memberId, groupInstanceId: null }] });
  await flush();
  assert.equal(r1.value().errorCode, E.UNKNOWN_MEMBER_ID);
  // The remaining member rejoins into a generation of its own.
  const r0 = await h.coordinator.joinGroup(joinRequest({ clientId: 'c0', memberId: joins[0]!.memberId }));
  assert.equal(r0.generationId, 2);
  assert.deepEqual(r0.members.map((m) => m.memberId), [joins[0]!.memberId]);
});

test('leaving during CompletingRebalance: the leaver\'s parked sync gets 25, the others\' get 27', async () => {
  const h = await makeCoordinator(DELAY);
  const pending = [];
  for (let i = 0; i < 3; i++) pending.push(track((await startJoin(h, { clientId: `c${i}` })).pending));
  await advanceUntil(h, pending);
  const joins = pending.map((x) => x.value());
  // Followers c1 and c2 sync and wait for the leader; c2 then leaves.
  const s1 = track(h.coordinator.syncGroup(syncRequest({ memberId: joins[1]!.memberId })));
  const s2 = track(h.coordinator.syncGroup(syncRequest({ memberId: joins[2]!.memberId })));
  await flush();
  h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: joins[2]!.memberId, groupInstanceId: null }] });
  await flush();
  assert.equal(s2.value().errorCode, E.UNKNOWN_MEMBER_ID);
  assert.equal(s1.value().errorCode, E.REBALANCE_IN_PROGRESS);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'PreparingRebalance');
});

test('session timeout: a silent member is removed and the others rebalance without it', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 3, () => ({ sessionTimeoutMs: 10_000 }));
  const hb = (i: number) => h.coordinator.heartbeat(heartbeatRequest({ memberId: joins[i]!.memberId })).errorCode;
  // c0 and c1 heartbeat every 3 s; c2 went away.
  for (let t = 0; t < 9_000; t += 3_000) {
    h.time.advance(3_000);
    assert.equal(hb(0), E.NONE);
    assert.equal(hb(1), E.NONE);
  }
  assert.equal(h.coordinator.inspectGroup('g')!.members.length, 3);
  h.time.advance(1_000);
  assert.equal(h.coordinator.inspectGroup('g')!.members.length, 2);
  assert.equal(hb(0), E.REBALANCE_IN_PROGRESS);
  assert.equal(hb(2), E.UNKNOWN_MEMBER_ID);
  const r = [0, 1].map((i) => track(h.coordinator.joinGroup(joinRequest({ clientId: `c${i}`, memberId: joins[i]!.memberId, sessionTimeoutMs: 10_000 }))));
  await flush();
  assert.deepEqual(r.map((x) => x.value().generationId), [2, 2]);
});

test('heartbeats keep a member alive across many session timeouts', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 1, () => ({ sessionTimeoutMs: 6_000 }));
  for (let i = 0; i < 100; i++) {
    h.time.advance(5_000);
    assert.equal(h.coordinator.heartbeat(heartbeatRequest({ memberId: joins[0]!.memberId })).errorCode, E.NONE);
  }
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'Stable');
  h.time.advance(6_000);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'Empty');
});

test('a member parked in JoinGroup is not expired by its session timeout while the rebalance waits', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 2, () => ({ sessionTimeoutMs: 6_000, rebalanceTimeoutMs: 60_000 }));
  const r0 = track(h.coordinator.joinGroup(joinRequest({ clientId: 'c0', memberId: joins[0]!.memberId, sessionTimeoutMs: 6_000, rebalanceTimeoutMs: 60_000 })));
  // c1 is busy: it heartbeats (and hears 27) but rejoins only after 30 s.
  for (let i = 0; i < 10; i++) {
    h.time.advance(3_000);
    assert.equal(h.coordinator.heartbeat(heartbeatRequest({ memberId: joins[1]!.memberId })).errorCode, E.REBALANCE_IN_PROGRESS);
  }
  await flush();
  assert.equal(r0.settled(), false);
  const r1 = await h.coordinator.joinGroup(joinRequest({ clientId: 'c1', memberId: joins[1]!.memberId, sessionTimeoutMs: 6_000, rebalanceTimeoutMs: 60_000 }));
  await flush();
  assert.equal(r1.generationId, 2);
  assert.equal(r0.value().generationId, 2);
  assert.equal(r0.value().members.length, 2);
});

test('a new member parked longer than the new-member join timeout (5 min) is dropped with UNKNOWN_MEMBER_ID', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 1, () => ({ sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 600_000 }));
  const n = track((await startJoin(h, { clientId: 'n', sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 600_000 })).pending);
  // The old member heartbeats but does not rejoin for a long time.
  for (let t = 0; t < 300_000; t += 10_000) {
    h.time.advance(10_000);
    h.coordinator.heartbeat(heartbeatRequest({ memberId: joins[0]!.memberId }));
    await flush();
    if (t + 10_000 < 300_000) assert.equal(n.settled(), false, `at ${t + 10_000}`);
  }
  assert.equal(n.value().errorCode, E.UNKNOWN_MEMBER_ID);
  assert.equal(h.coordinator.inspectGroup('g')!.members.length, 1);
});
