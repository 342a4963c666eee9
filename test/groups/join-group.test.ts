// Goal: JoinGroup follows Kafka's classic rules: MEMBER_ID_REQUIRED (v4+), parking joins until every
// known member rejoined or the rebalance timeout passed, the initial rebalance delay, generations,
// protocol selection by votes, leader/follower answers, and the validation errors (23, 24, 25, 26, 81).
// Method: a coordinator on fake time and an in-memory log; requests are driven by hand and time is
// advanced explicitly, so every wait is exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaErrorCode as E } from '../../src/groups/error-codes.ts';
import { advanceUntil, completeSync, flush, formGroup, joinRequest, makeCoordinator, startJoin, track } from './harness.ts';

test('v4+: an empty member id gets MEMBER_ID_REQUIRED with clientId-uuid, and the rejoin with it joins', async () => {
  const h = await makeCoordinator();
  const first = await h.coordinator.joinGroup(joinRequest({ clientId: 'app' }));
  assert.equal(first.errorCode, E.MEMBER_ID_REQUIRED);
  assert.equal(first.memberId, 'app-uuid1');
  assert.equal(first.generationId, -1);
  assert.deepEqual(h.coordinator.inspectGroup('g')!.pendingMemberIds, ['app-uuid1']);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'Empty');

  const joined = await h.coordinator.joinGroup(joinRequest({ clientId: 'app', memberId: first.memberId }));
  assert.equal(joined.errorCode, E.NONE);
  assert.equal(joined.memberId, 'app-uuid1');
  assert.equal(joined.generationId, 1);
  assert.equal(joined.leader, 'app-uuid1');
  assert.equal(joined.protocolName, 'range');
  assert.equal(joined.protocolType, 'consumer');
  assert.deepEqual(joined.members.map((m) => [m.memberId, m.metadata.toString()]), [['app-uuid1', 'sub']]);
  const g = h.coordinator.inspectGroup('g')!;
  assert.equal(g.state, 'CompletingRebalance');
  assert.deepEqual(g.pendingMemberIds, []);
});

test('v0-3: an empty member id joins at once, without MEMBER_ID_REQUIRED', async () => {
  const h = await makeCoordinator();
  const joined = await h.coordinator.joinGroup(joinRequest({ apiVersion: 3, clientId: 'old' }));
  assert.equal(joined.errorCode, E.NONE);
  assert.equal(joined.memberId, 'old-uuid1');
  assert.equal(joined.generationId, 1);
});

test('an id handed out with MEMBER_ID_REQUIRED expires after the session timeout', async () => {
  const h = await makeCoordinator();
  const first = await h.coordinator.joinGroup(joinRequest({ sessionTimeoutMs: 10_000 }));
  h.time.advance(9_999);
  assert.deepEqual(h.coordinator.inspectGroup('g')!.pendingMemberIds, [first.memberId]);
  h.time.advance(1);
  assert.deepEqual(h.coordinator.inspectGroup('g')!.pendingMemberIds, []);
  const late = await h.coordinator.joinGroup(joinRequest({ memberId: first.memberId }));
  assert.equal(late.errorCode, E.UNKNOWN_MEMBER_ID);
});

test('a rebalance waits for a pending member id to be used (or to expire)', async () => {
  const h = await makeCoordinator();
  const a = await startJoin(h, { clientId: 'a' });
  const aJoin = await a.pending;
  await completeSync(h, [aJoin]);
  // b got an id but has not joined yet; a rejoins: the rebalance waits for b.
  const bFirst = await h.coordinator.joinGroup(joinRequest({ clientId: 'b' }));
  const aAgain = track(h.coordinator.joinGroup(joinRequest({ clientId: 'a', memberId: a.memberId })));
  await flush();
  assert.equal(aAgain.settled(), false);
  const bJoin = await h.coordinator.joinGroup(joinRequest({ clientId: 'b', memberId: bFirst.memberId }));
  assert.equal(bJoin.errorCode, E.NONE);
  assert.equal(bJoin.generationId, 2);
  assert.equal((await aAgain.promise).generationId, 2);
});

test('three members: the leader gets every member with its metadata, followers get none', async () => {
  const h = await makeCoordinator({ groupInitialRebalanceDelayMs: 3_000 });
  const { joins, syncs } = await formGroup(h, 3, (i) => ({ protocols: [{ name: 'range', metadata: Buffer.from(`m${i}`) }] }));
  const leaderId = joins[0]!.leader;
  assert.equal(leaderId, 'c0-uuid1');
  for (const j of joins) {
    assert.equal(j.generationId, 1);
    assert.equal(j.leader, leaderId);
    if (j.memberId === leaderId) {
      assert.deepEqual(j.members.map((m) => [m.memberId, m.metadata.toString()]), [
        ['c0-uuid1', 'm0'],
        ['c1-uuid2', 'm1'],
        ['c2-uuid3', 'm2'],
      ]);
    } else assert.deepEqual(j.members, []);
  }
  assert.deepEqual(syncs.map((s) => s.assignment.toString()), ['g1:c0-uuid1', 'g1:c1-uuid2', 'g1:c2-uuid3']);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'Stable');
});

test('a new member triggers a rebalance; joins are held until every known member rejoined', async () => {
  const h = await makeCoordinator({ groupInitialRebalanceDelayMs: 3_000 });
  const { joins } = await formGroup(h, 2);
  const d = await startJoin(h, { clientId: 'd' });
  const dJoin = track(d.pending);
  await flush();
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'PreparingRebalance');
  // Members learn of the rebalance through their heartbeat.
  assert.equal(h.coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: joins[0]!.memberId, groupInstanceId: null }).errorCode, E.REBALANCE_IN_PROGRESS);
  const r0 = track(h.coordinator.joinGroup(joinRequest({ clientId: 'c0', memberId: joins[0]!.memberId })));
  await flush();
  assert.equal(dJoin.settled(), false);
  assert.equal(r0.settled(), false);
  const r1 = track(h.coordinator.joinGroup(joinRequest({ clientId: 'c1', memberId: joins[1]!.memberId })));
  await flush();
  for (const r of [dJoin, r0, r1]) {
    assert.equal(r.value().errorCode, E.NONE);
    assert.equal(r.value().generationId, 2);
  }
  assert.equal(r0.value().members.length, 3);
});

test('a member that does not rejoin within the rebalance timeout is removed; the rest move on', async () => {
  const h = await makeCoordinator({ groupInitialRebalanceDelayMs: 3_000 });
  const { joins } = await formGroup(h, 3, () => ({ rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 60_000 }));
  // c0 and c1 rejoin (c1 changed its metadata, which starts the rebalance); c2 never does.
  const r1 = track(h.coordinator.joinGroup(joinRequest({ clientId: 'c1', memberId: joins[1]!.memberId, rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 60_000, protocols: [{ name: 'range', metadata: Buffer.from('new') }] })));
  const r0 = track(h.coordinator.joinGroup(joinRequest({ clientId: 'c0', memberId: joins[0]!.memberId, rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 60_000 })));
  h.time.advance(19_999);
  await flush();
  assert.equal(r0.settled() || r1.settled(), false);
  h.time.advance(1);
  await flush();
  assert.equal(r0.value().generationId, 2);
  assert.equal(r0.value().members.length, 2);
  const g = h.coordinator.inspectGroup('g')!;
  assert.deepEqual(g.members.map((m) => m.memberId).sort(), [joins[0]!.memberId, joins[1]!.memberId].sort());
  assert.equal(h.coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: joins[2]!.memberId, groupInstanceId: null }).errorCode, E.UNKNOWN_MEMBER_ID);
});

test('the leader that does not rejoin loses leadership to a member that did', async () => {
  const h = await makeCoordinator({ groupInitialRebalanceDelayMs: 3_000 });
  const { joins } = await formGroup(h, 2, () => ({ rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 60_000 }));
  assert.equal(joins[0]!.leader, joins[0]!.memberId);
  const r1 = track(h.coordinator.joinGroup(joinRequest({ clientId: 'c1', memberId: joins[1]!.memberId, protocols: [{ name: 'range', metadata: Buffer.from('x') }] })));
  await advanceUntil(h, [r1]);
  assert.equal(r1.value().leader, joins[1]!.memberId);
  assert.equal(r1.value().members.length, 1);
});

test('initial rebalance delay: 3 s by default, extended by each new member up to the rebalance timeout', async () => {
  const h = await makeCoordinator({ groupInitialRebalanceDelayMs: 3_000 });
  const t0 = h.time.now();
  const a = track((await startJoin(h, { clientId: 'a', rebalanceTimeoutMs: 10_000 })).pending);
  h.time.advance(2_000);
  const b = track((await startJoin(h, { clientId: 'b', rebalanceTimeoutMs: 10_000 })).pending);
  // First delay ends at 3 s; b joined during it, so another 3 s follow.
  h.time.advance(3_999);
  await flush();
  assert.equal(a.settled() || b.settled(), false);
  h.time.advance(1);
  await flush();
  assert.equal(h.time.now() - t0, 6_000);
  assert.equal(a.value().generationId, 1);
  assert.equal(b.value().generationId, 1);
  assert.equal(a.value().members.length, 2);
});

test('initial rebalance delay: extensions stop once the rebalance timeout is used up', async () => {
  const h = await makeCoordinator({ groupInitialRebalanceDelayMs: 3_000 });
  const t0 = h.time.now();
  const joins = [track((await startJoin(h, { clientId: 'm0', rebalanceTimeoutMs: 8_000 })).pending)];
  // A new member every second keeps asking for extensions; 8 s of rebalance timeout cap them.
  for (let i = 1; i < 20 && !joins[0]!.settled(); i++) {
    h.time.advance(1_000);
    await flush();
    if (!joins[0]!.settled()) joins.push(track((await startJoin(h, { clientId: `m${i}`, rebalanceTimeoutMs: 8_000 })).pending));
  }
  await advanceUntil(h, joins, 100);
  // Delays: 3 s, then min(3, 5) = 3 s, then min(3, 2) = 2 s: done at 8 s.
  assert.equal(h.time.now() - t0 <= 8_100, true, `took ${h.time.now() - t0} ms`);
  assert.equal(joins[0]!.value().generationId, 1);
});

test('a group that becomes empty and is joined again also waits the initial delay', async () => {
  const h = await makeCoordinator({ groupInitialRebalanceDelayMs: 3_000 });
  const { joins } = await formGroup(h, 1);
  h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: joins[0]!.memberId, groupInstanceId: null }] });
  await flush();
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'Empty');
  assert.equal(h.coordinator.inspectGroup('g')!.generationId, 2);
  const again = track((await startJoin(h, { clientId: 'x' })).pending);
  h.time.advance(2_999);
  await flush();
  assert.equal(again.settled(), false);
  h.time.advance(1);
  await flush();
  assert.equal(again.value().generationId, 3);
});

test('protocol selection: among protocols all members support, the most voted-for wins', async () => {
  const h = await makeCoordinator({ groupInitialRebalanceDelayMs: 3_000 });
  const p = (...names: string[]) => names.map((name) => ({ name, metadata: Buffer.from(name) }));
  const prefs = [p('roundrobin', 'range'), p('roundrobin', 'range', 'sticky'), p('range', 'roundrobin')];
  const { joins } = await formGroup(h, 3, (i) => ({ protocols: prefs[i]! }));
  assert.equal(joins[0]!.protocolName, 'roundrobin');
  // The leader receives each member's metadata for the selected protocol.
  assert.deepEqual(joins[0]!.members.map((m) => m.metadata.toString()), ['roundrobin', 'roundrobin', 'roundrobin']);

  const h2 = await makeCoordinator({ groupInitialRebalanceDelayMs: 3_000 });
  const prefs2 = [p('roundrobin', 'range'), p('roundrobin', 'range'), p('range')];
  const { joins: joins2 } = await formGroup(h2, 3, (i) => ({ protocols: prefs2[i]! }));
  assert.equal(joins2[0]!.protocolName, 'range');
});

test('INCONSISTENT_GROUP_PROTOCOL: other protocol type, no common protocol, empty type or protocol list', async () => {
  const h = await makeCoordinator();
  const a = await startJoin(h, { clientId: 'a' });
  await a.pending;
  const otherType = await h.coordinator.joinGroup(joinRequest({ protocolType: 'connect' }));
  assert.equal(otherType.errorCode, E.INCONSISTENT_GROUP_PROTOCOL);
  const noCommon = await h.coordinator.joinGroup(joinRequest({ protocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.alloc(0) }] }));
  assert.equal(noCommon.errorCode, E.INCONSISTENT_GROUP_PROTOCOL);
  // A known member too must stay compatible.
  const knownChanged = await h.coordinator.joinGroup(joinRequest({ memberId: a.memberId, protocolType: 'connect' }));
  assert.equal(knownChanged.errorCode, E.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal((await h.coordinator.joinGroup(joinRequest({ groupId: 'new', protocolType: '' }))).errorCode, E.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal((await h.coordinator.joinGroup(joinRequest({ groupId: 'new2', protocols: [] }))).errorCode, E.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(h.coordinator.inspectGroup('new'), undefined);
});

test('INVALID_SESSION_TIMEOUT outside [6000, 1800000], and the bounds are configurable', async () => {
  const h = await makeCoordinator();
  for (const [ms, code] of [
    [5_999, E.INVALID_SESSION_TIMEOUT],
    [6_000, E.MEMBER_ID_REQUIRED],
    [1_800_000, E.MEMBER_ID_REQUIRED],
    [1_800_001, E.INVALID_SESSION_TIMEOUT],
  ] as const) {
    assert.equal((await h.coordinator.joinGroup(joinRequest({ sessionTimeoutMs: ms }))).errorCode, code, `session ${ms}`);
  }
  const h2 = await makeCoordinator({ groupMinSessionTimeoutMs: 1_000, groupMaxSessionTimeoutMs: 2_000 });
  assert.equal((await h2.coordinator.joinGroup(joinRequest({ sessionTimeoutMs: 1_000 }))).errorCode, E.MEMBER_ID_REQUIRED);
  assert.equal((await h2.coordinator.joinGroup(joinRequest({ sessionTimeoutMs: 2_001 }))).errorCode, E.INVALID_SESSION_TIMEOUT);
});

test('UNKNOWN_MEMBER_ID for an unknown member id, in a known or an unknown group; INVALID_GROUP_ID for ""', async () => {
  const h = await makeCoordinator();
  assert.equal((await h.coordinator.joinGroup(joinRequest({ memberId: 'nobody' }))).errorCode, E.UNKNOWN_MEMBER_ID);
  await (await startJoin(h)).pending;
  const r = await h.coordinator.joinGroup(joinRequest({ memberId: 'nobody' }));
  assert.equal(r.errorCode, E.UNKNOWN_MEMBER_ID);
  assert.equal(r.memberId, 'nobody');
  assert.equal((await h.coordinator.joinGroup(joinRequest({ groupId: '' }))).errorCode, E.INVALID_GROUP_ID);
});

test('JoinGroup v0 has no rebalance timeout: the session timeout is used, never -1', async () => {
  const h = await makeCoordinator();
  const a = await h.coordinator.joinGroup(joinRequest({ apiVersion: 0, rebalanceTimeoutMs: -1, sessionTimeoutMs: 10_000, clientId: 'a' }));
  assert.equal(a.errorCode, E.NONE);
  await completeSync(h, [a]);
  assert.equal(h.coordinator.inspectGroup('g')!.members[0]!.rebalanceTimeoutMs, 10_000);
  // b joins; a (silent) is waited for up to the 10 s defaulted rebalance timeout, not 0.
  h.time.advance(5_000);
  assert.equal(h.coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: a.memberId, groupInstanceId: null }).errorCode, E.NONE);
  const b = track(h.coordinator.joinGroup(joinRequest({ apiVersion: 0, rebalanceTimeoutMs: -1, sessionTimeoutMs: 10_000, clientId: 'b' })));
  await flush();
  h.time.advance(9_999);
  await flush();
  assert.equal(b.settled(), false);
  h.time.advance(1);
  await flush();
  assert.equal(b.value().generationId, 2);
  assert.equal(b.value().leader, b.value().memberId);
});

test('Stable: a follower rejoining unchanged gets the current generation; the leader or a change rebalances', async () => {
  const h = await makeCoordinator({ groupInitialRebalanceDelayMs: 3_000 });
  const { joins } = await formGroup(h, 2);
  const [leader, follower] = joins as [typeof joins[0], typeof joins[0]];
  const same = await h.coordinator.joinGroup(joinRequest({ clientId: 'c1', memberId: follower.memberId }));
  assert.equal(same.errorCode, E.NONE);
  assert.equal(same.generationId, 1);
  assert.equal(same.leader, leader.memberId);
  assert.deepEqual(same.members, []);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'Stable');

  const leaderAgain = track(h.coordinator.joinGroup(joinRequest({ clientId: 'c0', memberId: leader.memberId })));
  await flush();
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'PreparingRebalance');
  const f = track(h.coordinator.joinGroup(joinRequest({ clientId: 'c1', memberId: follower.memberId })));
  await flush();
  assert.equal(leaderAgain.value().generationId, 2);
  assert.equal(f.value().generationId, 2);
});

test('CompletingRebalance: a member that lost its join answer and rejoins unchanged gets it again', async () => {
  const h = await makeCoordinator({ groupInitialRebalanceDelayMs: 3_000 });
  const pending = [track((await startJoin(h, { clientId: 'c0' })).pending), track((await startJoin(h, { clientId: 'c1' })).pending)];
  await advanceUntil(h, pending);
  const [l, f] = pending.map((p) => p.value());
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'CompletingRebalance');
  const lAgain = await h.coordinator.joinGroup(joinRequest({ clientId: 'c0', memberId: l!.memberId }));
  assert.equal(lAgain.generationId, 1);
  assert.equal(lAgain.members.length, 2);
  const fAgain = await h.coordinator.joinGroup(joinRequest({ clientId: 'c1', memberId: f!.memberId }));
  assert.equal(fAgain.generationId, 1);
  assert.deepEqual(fAgain.members, []);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'CompletingRebalance');
});

test('a second JoinGroup from a parked member supersedes the first, which is answered REBALANCE_IN_PROGRESS', async () => {
  const h = await makeCoordinator({ groupInitialRebalanceDelayMs: 3_000 });
  const a = await startJoin(h, { clientId: 'a' });
  const first = track(a.pending);
  const second = track(h.coordinator.joinGroup(joinRequest({ clientId: 'a', memberId: a.memberId })));
  await flush();
  assert.equal(first.value().errorCode, E.REBALANCE_IN_PROGRESS);
  await advanceUntil(h, [second]);
  assert.equal(second.value().errorCode, E.NONE);
});

test('GROUP_MAX_SIZE_REACHED for members beyond group.max.size', async () => {
  const h = await makeCoordinator({ groupMaxSize: 2, groupInitialRebalanceDelayMs: 3_000 });
  // x gets an id while there is room, but uses it only once the group is full.
  const x = await h.coordinator.joinGroup(joinRequest({ clientId: 'x' }));
  assert.equal(x.errorCode, E.MEMBER_ID_REQUIRED);
  await startJoin(h, { clientId: 'a' });
  await startJoin(h, { clientId: 'b' });
  assert.equal((await h.coordinator.joinGroup(joinRequest({ clientId: 'c' }))).errorCode, E.GROUP_MAX_SIZE_REACHED);
  assert.equal((await h.coordinator.joinGroup(joinRequest({ clientId: 'x', memberId: x.memberId }))).errorCode, E.GROUP_MAX_SIZE_REACHED);
  assert.equal((await h.coordinator.joinGroup(joinRequest({ apiVersion: 3 }))).errorCode, E.GROUP_MAX_SIZE_REACHED);
  assert.equal(h.coordinator.inspectGroup('g')!.members.length, 2);
});

test('strings too long for the record format (possible with compact strings) are refused, not crashed on', async () => {
  const h = await makeCoordinator();
  const long = 'x'.repeat(40_000);
  assert.equal((await h.coordinator.joinGroup(joinRequest({ groupId: long }))).errorCode, E.INVALID_GROUP_ID);
  assert.equal((await h.coordinator.joinGroup(joinRequest({ groupInstanceId: long }))).errorCode, E.INVALID_REQUEST);
  assert.equal((await h.coordinator.joinGroup(joinRequest({ protocolType: long }))).errorCode, E.INVALID_REQUEST);
  assert.equal((await h.coordinator.joinGroup(joinRequest({ protocols: [{ name: long, metadata: Buffer.alloc(0) }] }))).errorCode, E.INVALID_REQUEST);
  assert.equal(h.coordinator.heartbeat({ groupId: long, generationId: 1, memberId: 'm', groupInstanceId: null }).errorCode, E.INVALID_GROUP_ID);
  // Just under the limit works, multi-byte characters counted as bytes.
  const r = await h.coordinator.joinGroup(joinRequest({ apiVersion: 3, groupId: 'é'.repeat(16_000) }));
  assert.equal(r.errorCode, E.NONE);
  assert.equal((await h.coordinator.joinGroup(joinRequest({ groupId: 'é'.repeat(17_000) }))).errorCode, E.INVALID_GROUP_ID);
});
