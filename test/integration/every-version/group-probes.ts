/**
 * Probes of the every-version test for consumer groups: OffsetCommit, OffsetFetch, OffsetDelete, FindCoordinator,
 * JoinGroup, Heartbeat, LeaveGroup, SyncGroup, DescribeGroups, ListGroups, DeleteGroups and
 * TxnOffsetCommit. Every
 * version works on groups of its own (named after API and version), so no probe sees another's state.
 */
import assert from 'node:assert/strict';
import { encodeSubscription } from '../../../src/protocol/kafka/consumer-protocol.ts';
import { API_KEYS } from '../../../src/protocol/kafka/generated/index.ts';
import { commitOffsets, fetchOffsets, offsetsPartitionOf } from '../../helpers/raw-kafka.ts';
import { SESSION_TIMEOUT_MS, type ProbeContext } from './probe-context.ts';

const group = (api: string, version: number): string => `every-version-${api}-v${version}`;

export async function offsetCommit(ctx: ProbeContext, version: number): Promise<void> {
  const groupId = group('offset-commit', version);
  const res = await ctx.exchange(API_KEYS.OffsetCommit, version, {
    groupId,
    // A commit outside any generation (as admin tools make): no member, generation -1.
    ...(version >= 1 ? { generationIdOrMemberEpoch: -1, memberId: '' } : {}),
    ...(version >= 7 ? { groupInstanceId: null } : {}),
    topics: [{ name: ctx.seeded.name, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: `v${version}` }] }],
  }, 'commit');
  assert.deepEqual(res.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]), [[ctx.seeded.name, [0]]]);
}

/**
 * Offsets committed in the transaction of a producer (an id from InitProducerId) stay pending until
 * the producer's commit marker is written on the group's `__consumer_offsets` partition.
 */
export async function txnOffsetCommit(ctx: ProbeContext, version: number): Promise<void> {
  const groupId = group('txn-offset-commit', version);
  const init = await ctx.conn.request(API_KEYS.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  const producer = { producerId: init.producerId, producerEpoch: init.producerEpoch };
  const res = await ctx.exchange(API_KEYS.TxnOffsetCommit, version, {
    transactionalId: groupId,
    groupId,
    ...producer,
    // v3 names the consumer's generation and member (KIP-447); none here, as a producer outside a group.
    ...(version >= 3 ? { generationId: -1, memberId: '', groupInstanceId: null } : {}),
    topics: [{ name: ctx.seeded.name, partitions: [{ partitionIndex: 0, committedOffset: 3n, ...(version >= 2 ? { committedLeaderEpoch: -1 } : {}), committedMetadata: `v${version}` }] }],
  }, 'commit');
  assert.deepEqual(res.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]), [[ctx.seeded.name, [0]]]);
  assert.deepEqual(await fetchOffsets(ctx.conn, groupId, ctx.seeded.name, [0]), new Map([[0, -1n]]), 'pending until the marker');
  const marker = await ctx.conn.request(API_KEYS.WriteTxnMarkers, 1, {
    markers: [{ ...producer, transactionResult: true, coordinatorEpoch: 0, topics: [{ name: '__consumer_offsets', partitionIndexes: [await offsetsPartitionOf(ctx.conn, groupId)] }] }],
  });
  assert.equal(marker.markers[0]!.topics[0]!.partitions[0]!.errorCode, 0, 'commit marker');
  assert.deepEqual(await fetchOffsets(ctx.conn, groupId, ctx.seeded.name, [0]), new Map([[0, 3n]]));
}

export async function offsetFetch(ctx: ProbeContext, version: number): Promise<void> {
  const groupId = group('offset-fetch', version);
  assert.deepEqual(await commitOffsets(ctx.conn, groupId, ctx.seeded.name, new Map([[0, 2n]])), new Map([[0, 0]]), 'setup commit');
  const topics = [{ name: ctx.seeded.name, partitionIndexes: [0] }];
  // Version 8 batches groups (KIP-709); before it one group is named at the top level.
  const res = await ctx.exchange(API_KEYS.OffsetFetch, version, version >= 8 ? { groups: [{ groupId, topics }], requireStable: false } : { groupId, topics, ...(version >= 7 ? { requireStable: false } : {}) }, 'fetch committed');
  const partitions = version >= 8 ? res.groups[0]!.topics[0]!.partitions : res.topics[0]!.partitions;
  assert.deepEqual(partitions.map((p) => [p.partitionIndex, p.committedOffset]), [[0, 2n]]);
}

export async function findCoordinator(ctx: ProbeContext, version: number): Promise<void> {
  const key = group('find-coordinator', version);
  // Version 4 batches keys (KIP-699); version 0 has no key type (always a group).
  const res = await ctx.exchange(API_KEYS.FindCoordinator, version, version >= 4 ? { keyType: 0, coordinatorKeys: [key] } : { key, ...(version >= 1 ? { keyType: 0 } : {}) }, 'group coordinator');
  const answer = version >= 4 ? res.coordinators[0]! : res;
  assert.deepEqual([answer.host, answer.port], ['127.0.0.1', ctx.kafkaPort]);
}

export async function joinGroup(ctx: ProbeContext, version: number): Promise<void> {
  const groupId = group('join-group', version);
  const join = {
    groupId,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    ...(version >= 1 ? { rebalanceTimeoutMs: SESSION_TIMEOUT_MS } : {}),
    ...(version >= 5 ? { groupInstanceId: null } : {}),
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: encodeSubscription([ctx.seeded.name]) }],
  };
  let res = await ctx.exchange(API_KEYS.JoinGroup, version, { ...join, memberId: '' }, 'join');
  assert.notEqual(res.memberId, '', 'the member is given an id');
  // From v4 that first answer only hands out the id (KIP-394); the member joins with it.
  if (version >= 4) res = await ctx.exchange(API_KEYS.JoinGroup, version, { ...join, memberId: res.memberId }, 'rejoin');
  assert.equal(res.generationId, 1);
  assert.equal(res.leader, res.memberId);
  assert.equal(res.protocolName, 'range');
  assert.deepEqual(res.members.map((m) => m.memberId), [res.memberId]);
}

export async function syncGroup(ctx: ProbeContext, version: number): Promise<void> {
  const member = await ctx.joinedMember(group('sync-group', version), false);
  const res = await ctx.exchange(API_KEYS.SyncGroup, version, {
    ...member,
    ...(version >= 3 ? { groupInstanceId: null } : {}),
    ...(version >= 5 ? { protocolType: 'consumer', protocolName: 'range' } : {}),
    assignments: [{ memberId: member.memberId, assignment: ctx.assignment() }],
  }, 'sync');
  assert.deepEqual(res.assignment, ctx.assignment(), 'the leader gets the assignment it sent');
}

export async function heartbeat(ctx: ProbeContext, version: number): Promise<void> {
  const member = await ctx.joinedMember(group('heartbeat', version), true);
  await ctx.exchange(API_KEYS.Heartbeat, version, { ...member, ...(version >= 3 ? { groupInstanceId: null } : {}) }, 'heartbeat');
}

export async function leaveGroup(ctx: ProbeContext, version: number): Promise<void> {
  const member = await ctx.joinedMember(group('leave-group', version), true);
  // Version 3 names a list of members (KIP-345), each answered on its own.
  const res = await ctx.exchange(API_KEYS.LeaveGroup, version, version >= 3 ? { groupId: member.groupId, members: [{ memberId: member.memberId, groupInstanceId: null }] } : { groupId: member.groupId, memberId: member.memberId }, 'leave');
  if (version >= 3) assert.deepEqual(res.members.map((m) => m.memberId), [member.memberId]);
}

export async function describeGroups(ctx: ProbeContext, version: number): Promise<void> {
  const member = await ctx.joinedMember(group('describe-groups', version), true);
  const res = await ctx.exchange(API_KEYS.DescribeGroups, version, { groups: [member.groupId], ...(version >= 3 ? { includeAuthorizedOperations: false } : {}) }, 'describe');
  assert.equal(res.groups.length, 1);
  const described = res.groups[0]!;
  assert.deepEqual([described.groupId, described.groupState, described.protocolType, described.protocolData], [member.groupId, 'Stable', 'consumer', 'range']);
  assert.deepEqual(described.members.map((m) => m.memberId), [member.memberId]);
}

export async function listGroups(ctx: ProbeContext, version: number): Promise<void> {
  const member = await ctx.joinedMember(group('list-groups', version), true);
  const res = await ctx.exchange(API_KEYS.ListGroups, version, { ...(version >= 4 ? { statesFilter: [] } : {}), ...(version >= 5 ? { typesFilter: [] } : {}) }, 'list');
  assert.ok(res.groups.some((g) => g.groupId === member.groupId && g.protocolType === 'consumer'), `${member.groupId} is listed`);
}

export async function deleteGroups(ctx: ProbeContext, version: number): Promise<void> {
  // A throwaway group that exists only through a committed offset, so it is empty and deletable.
  const groupId = group('delete-groups', version);
  assert.deepEqual(await commitOffsets(ctx.conn, groupId, ctx.seeded.name, new Map([[0, 1n]])), new Map([[0, 0]]), 'setup commit');
  const res = await ctx.exchange(API_KEYS.DeleteGroups, version, { groupsNames: [groupId] }, 'delete');
  assert.deepEqual(res.results.map((r) => r.groupId), [groupId]);
}

export async function offsetDelete(ctx: ProbeContext, version: number): Promise<void> {
  // A throwaway empty group with offsets on both seeded partitions: one goes, the other stays.
  const groupId = group('offset-delete', version);
  assert.deepEqual(await commitOffsets(ctx.conn, groupId, ctx.seeded.name, new Map([[0, 1n], [1, 1n]])), new Map([[0, 0], [1, 0]]), 'setup commit');
  const res = await ctx.exchange(API_KEYS.OffsetDelete, version, { groupId, topics: [{ name: ctx.seeded.name, partitions: [{ partitionIndex: 0 }] }] }, 'delete');
  assert.equal(res.errorCode, 0);
  assert.deepEqual(res.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]), [[ctx.seeded.name, [[0, 0]]]]);
  const fetched = await ctx.conn.request(API_KEYS.OffsetFetch, 5, { groupId, topics: [{ name: ctx.seeded.name, partitionIndexes: [0, 1] }], requireStable: false });
  assert.deepEqual(fetched.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset]), [[0, -1n], [1, 1n]]);
}
