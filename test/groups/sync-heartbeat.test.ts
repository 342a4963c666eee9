// Goal: SyncGroup and Heartbeat follow Kafka's classic rules: followers wait for the leader's
// assignment, the assignment is answered only once durable, generation/member/protocol checks give
// 22/25/23/27, a leader that never syncs is removed after the rebalance timeout, and heartbeats answer
// per state as Kafka 3.9 does (PreparingRebalance 27, CompletingRebalance and Stable 0).
// Method: fake time, an in-memory log that can hold or fail appends; responses awaited or tracked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaErrorCode as E } from '../../src/groups/error-codes.ts';
import { GroupCoordinator } from '../../src/groups/group-coordinator.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { MemoryOffsetsLog } from './memory-offsets-log.ts';
import {
  advanceUntil,
  assignmentFor,
  flush,
  formGroup,
  heartbeatRequest,
  joinRequest,
  makeCoordinator,
  startJoin,
  syncRequest,
  track,
  type Harness,
} from './harness.ts';
import type { JoinGroupResponse } from '../../src/groups/group-api.ts';

/** Two members joined generation 1; nobody synced yet (state CompletingRebalance). */
async function joinedPair(h: Harness): Promise<[JoinGroupResponse, JoinGroupResponse]> {
  const p = [track((await startJoin(h, { clientId: 'c0' })).pending), track((await startJoin(h, { clientId: 'c1' })).pending)];
  await advanceUntil(h, p);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'CompletingRebalance');
  return [p[0]!.value(), p[1]!.value()];
}

const DELAY = { groupInitialRebalanceDelayMs: 3_000 };

test('followers wait for the leader; everyone then gets their own assignment and the group is Stable', async () => {
  const h = await makeCoordinator(DELAY);
  const [l, f] = await joinedPair(h);
  assert.equal(l.leader, l.memberId);
  const fSync = track(h.coordinator.syncGroup(syncRequest({ memberId: f.memberId })));
  await flush();
  assert.equal(fSync.settled(), false);
  const lSync = await h.coordinator.syncGroup(
    syncRequest({ memberId: l.memberId, assignments: [l, f].map((j) => ({ memberId: j.memberId, assignment: assignmentFor(1, j.memberId) })) }),
  );
  await flush();
  assert.equal(lSync.errorCode, E.NONE);
  assert.equal(lSync.assignment.toString(), `g1:${l.memberId}`);
  assert.equal(fSync.value().errorCode, E.NONE);
  assert.equal(fSync.value().assignment.toString(), `g1:${f.memberId}`);
  assert.equal(fSync.value().protocolType, 'consumer');
  assert.equal(fSync.value().protocolName, 'range');
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'Stable');
  // A late follower sync in Stable is answered at once, and again on a retry.
  const again = await h.coordinator.syncGroup(syncRequest({ memberId: f.memberId }));
  assert.equal(again.assignment.toString(), `g1:${f.memberId}`);
});

test('a member the leader left out gets an empty assignment', async () => {
  const h = await makeCoordinator(DELAY);
  const [l, f] = await joinedPair(h);
  const fSync = h.coordinator.syncGroup(syncRequest({ memberId: f.memberId }));
  await h.coordinator.syncGroup(syncRequest({ memberId: l.memberId, assignments: [{ memberId: l.memberId, assignment: Buffer.from('all') }] }));
  assert.equal((await fSync).errorCode, E.NONE);
  assert.equal((await fSync).assignment.length, 0);
});

test('the assignment is answered only after the group metadata is durable in the log', async () => {
  const h = await makeCoordinator(DELAY);
  const [l] = await joinedPair(h);
  h.log.hold();
  const lSync = track(h.coordinator.syncGroup(syncRequest({ memberId: l.memberId, assignments: [{ memberId: l.memberId, assignment: Buffer.from('a') }] })));
  await flush();
  assert.equal(lSync.settled(), false);
  assert.equal(h.log.heldCount(), 1);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'CompletingRebalance');
  h.log.release();
  await flush();
  assert.equal(lSync.value().errorCode, E.NONE);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'Stable');
});

test('if the assignment cannot be stored, parked syncs get COORDINATOR_NOT_AVAILABLE and the group rebalances', async () => {
  const h = await makeCoordinator(DELAY);
  const [l, f] = await joinedPair(h);
  const fSync = h.coordinator.syncGroup(syncRequest({ memberId: f.memberId }));
  h.log.failNext = 1;
  const lSync = h.coordinator.syncGroup(syncRequest({ memberId: l.memberId, assignments: [] }));
  assert.equal((await lSync).errorCode, E.COORDINATOR_NOT_AVAILABLE);
  assert.equal((await fSync).errorCode, E.COORDINATOR_NOT_AVAILABLE);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'PreparingRebalance');
  assert.equal(h.backgroundErrors.length, 1);
});

test('SyncGroup errors: ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, INVALID_GROUP_ID, v5 protocol mismatch (23)', async () => {
  const h = await makeCoordinator(DELAY);
  const [l] = await joinedPair(h);
  const s = (over: Parameters<typeof syncRequest>[0]) => h.coordinator.syncGroup(syncRequest({ memberId: l.memberId, ...over }));
  assert.equal((await s({ generationId: 2 })).errorCode, E.ILLEGAL_GENERATION);
  assert.equal((await s({ generationId: 0 })).errorCode, E.ILLEGAL_GENERATION);
  assert.equal((await s({ memberId: 'stranger' })).errorCode, E.UNKNOWN_MEMBER_ID);
  assert.equal((await s({ groupId: 'nope' })).errorCode, E.UNKNOWN_MEMBER_ID);
  assert.equal((await s({ groupId: '' })).errorCode, E.INVALID_GROUP_ID);
  assert.equal((await s({ protocolType: 'connect' })).errorCode, E.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal((await s({ protocolName: 'roundrobin' })).errorCode, E.INCONSISTENT_GROUP_PROTOCOL);
  const ok = await s({ protocolType: 'consumer', protocolName: 'range', assignments: [] });
  assert.equal(ok.errorCode, E.NONE);
});

test('SyncGroup while the group prepares a rebalance gets REBALANCE_IN_PROGRESS', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 2);
  const newcomer = track((await startJoin(h, { clientId: 'new' })).pending);
  await flush();
  const r = await h.coordinator.syncGroup(syncRequest({ memberId: joins[1]!.memberId }));
  assert.equal(r.errorCode, E.REBALANCE_IN_PROGRESS);
  assert.equal(newcomer.settled(), false);
});

test('a rebalance while followers are parked in SyncGroup answers them REBALANCE_IN_PROGRESS', async () => {
  const h = await makeCoordinator(DELAY);
  const [, f] = await joinedPair(h);
  const fSync = track(h.coordinator.syncGroup(syncRequest({ memberId: f.memberId })));
  await flush();
  await startJoin(h, { clientId: 'late' });
  await flush();
  assert.equal(fSync.value().errorCode, E.REBALANCE_IN_PROGRESS);
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'PreparingRebalance');
});

test('a leader that never sends SyncGroup is removed after the rebalance timeout; the rest rejoin', async () => {
  const h = await makeCoordinator(DELAY);
  const p = [
    track((await startJoin(h, { clientId: 'c0', rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 60_000 })).pending),
    track((await startJoin(h, { clientId: 'c1', rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 60_000 })).pending),
  ];
  await advanceUntil(h, p, 100);
  const [l, f] = p.map((x) => x.value()) as [JoinGroupResponse, JoinGroupResponse];
  const fSync = track(h.coordinator.syncGroup(syncRequest({ memberId: f.memberId })));
  // The follower keeps heartbeating; the leader is silent.
  for (let i = 0; i < 6; i++) {
    h.time.advance(3_000);
    assert.equal(h.coordinator.heartbeat(heartbeatRequest({ memberId: f.memberId })).errorCode, E.NONE);
  }
  h.time.advance(2_000);
  await flush();
  assert.equal(fSync.value().errorCode, E.REBALANCE_IN_PROGRESS);
  const g = h.coordinator.inspectGroup('g')!;
  assert.deepEqual(g.members.map((m) => m.memberId), [f.memberId]);
  assert.equal(h.coordinator.heartbeat(heartbeatRequest({ memberId: l.memberId })).errorCode, E.UNKNOWN_MEMBER_ID);
  const rejoin = await h.coordinator.joinGroup(joinRequest({ clientId: 'c1', memberId: f.memberId }));
  assert.equal(rejoin.generationId, 2);
  assert.equal(rejoin.leader, f.memberId);
});

test('heartbeat answers per state: Preparing 27, Completing 0, Stable 0; wrong generation 22; unknown 25', async () => {
  const h = await makeCoordinator(DELAY);
  assert.equal(h.coordinator.heartbeat(heartbeatRequest({ memberId: 'x' })).errorCode, E.UNKNOWN_MEMBER_ID);
  const [l, f] = await joinedPair(h);
  const hb = (memberId: string, generationId = 1) => h.coordinator.heartbeat(heartbeatRequest({ memberId, generationId })).errorCode;
  assert.equal(hb(l.memberId), E.NONE, 'CompletingRebalance');
  assert.equal(hb(l.memberId, 0), E.ILLEGAL_GENERATION);
  assert.equal(hb('x'), E.UNKNOWN_MEMBER_ID);
  assert.equal(h.coordinator.heartbeat(heartbeatRequest({ groupId: '', memberId: l.memberId })).errorCode, E.INVALID_GROUP_ID);
  const fSync = h.coordinator.syncGroup(syncRequest({ memberId: f.memberId }));
  await h.coordinator.syncGroup(syncRequest({ memberId: l.memberId }));
  await fSync;
  assert.equal(hb(f.memberId), E.NONE, 'Stable');
  // A member that is not yet in the generation heartbeats with -1.
  const n = track((await startJoin(h, { clientId: 'n' })).pending);
  await flush();
  assert.equal(hb(l.memberId), E.REBALANCE_IN_PROGRESS, 'PreparingRebalance');
  assert.equal(hb(f.memberId, 2), E.ILLEGAL_GENERATION);
  assert.equal(n.settled(), false);
});

test('heartbeat to an Empty group (all members left) is UNKNOWN_MEMBER_ID', async () => {
  const h = await makeCoordinator(DELAY);
  const { joins } = await formGroup(h, 1);
  h.coordinator.leaveGroup({ groupId: 'g', members: [{ memberId: joins[0]!.memberId, groupInstanceId: null }] });
  assert.equal(h.coordinator.inspectGroup('g')!.state, 'Empty');
  assert.equal(h.coordinator.heartbeat(heartbeatRequest({ memberId: joins[0]!.memberId, generationId: 2 })).errorCode, E.UNKNOWN_MEMBER_ID);
});

test('before load() completes: heartbeats succeed blindly, other requests get COORDINATOR_LOAD_IN_PROGRESS', async () => {
  const time = new ManualClock();
  const log = new MemoryOffsetsLog();
  const c = new GroupCoordinator({ log, clock: time, newId: () => 'id' });
  assert.equal((await c.joinGroup(joinRequest())).errorCode, E.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal((await c.syncGroup(syncRequest())).errorCode, E.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal(c.offsetFetch({ groupId: 'g', topics: [{ name: 't', partitionIndexes: [0] }], requireStable: false }).topics[0]!.partitions[0]!.errorCode, E.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal(c.listGroups({ statesFilter: [], typesFilter: [] }).errorCode, E.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal(c.findCoordinator(0).errorCode, E.NONE);
  const loading = c.load();
  assert.equal(c.heartbeat(heartbeatRequest({ memberId: 'm' })).errorCode, E.NONE);
  await loading;
  assert.equal(c.heartbeat(heartbeatRequest({ memberId: 'm' })).errorCode, E.UNKNOWN_MEMBER_ID);
  c.close();
  assert.equal((await c.joinGroup(joinRequest())).errorCode, E.COORDINATOR_NOT_AVAILABLE);
  assert.equal(c.findCoordinator(0).errorCode, E.COORDINATOR_NOT_AVAILABLE);
});

test('FindCoordinator: groups are served here, transactions are not, other key types are invalid', async () => {
  const h = await makeCoordinator();
  assert.equal(h.coordinator.findCoordinator(0).errorCode, E.NONE);
  assert.equal(h.coordinator.findCoordinator(1).errorCode, E.COORDINATOR_NOT_AVAILABLE);
  assert.equal(h.coordinator.findCoordinator(7).errorCode, E.INVALID_REQUEST);
});

test('close() answers parked joins and syncs NOT_COORDINATOR and cancels every timer', async () => {
  const h = await makeCoordinator(DELAY);
  const [, f] = await joinedPair(h);
  const fSync = track(h.coordinator.syncGroup(syncRequest({ memberId: f.memberId })));
  const newJoin = track(h.coordinator.joinGroup(joinRequest({ groupId: 'other', apiVersion: 3 })));
  await flush();
  h.coordinator.close();
  await flush();
  assert.equal(fSync.value().errorCode, E.NOT_COORDINATOR);
  assert.equal(newJoin.value().errorCode, E.NOT_COORDINATOR);
  assert.equal(h.time.pendingTimers(), 0);
});
