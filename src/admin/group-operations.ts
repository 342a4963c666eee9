/**
 * Consumer group administration, the one implementation behind `streambus group ...` and the admin
 * API's /api/v1/groups routes (see topic-operations.ts for the error contract).
 *
 * Resetting offsets works like Kafka's tool: a dry run unless `execute`, which commits the new offsets
 * only while the group has no active members (the coordinator refuses commits from outside a live
 * generation); an offset outside a partition's log moves to its nearest end.
 */
import type { CommittedOffset, GroupDescription, KafkaClient, ListedGroup, TopicPartitions } from '../client/index.ts';
import { AdminError } from './admin-error.ts';
import { existingTopic } from './existing-topic.ts';

export interface GroupOffsetRow {
  topic: string;
  partition: number;
  committedOffset: bigint | null;
  logEndOffset: bigint;
  /** Log end minus committed offset (never below 0); null without a committed offset. */
  lag: bigint | null;
  memberId: string | null;
  host: string | null;
  clientId: string | null;
}

export interface GroupMemberStatus {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  host: string;
  assignment: TopicPartitions[] | null;
}

export interface GroupStatus {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: GroupMemberStatus[];
  offsets: GroupOffsetRow[];
}

export type ResetTarget = { to: 'earliest' } | { to: 'latest' } | { to: 'offset'; offset: bigint };

export interface ResetRequest {
  groupId: string;
  topic: string;
  /** Only these partitions; all of the topic's when absent. */
  partitions?: readonly number[];
  target: ResetTarget;
  /** Commit the new offsets; otherwise only compute them (a dry run). */
  execute: boolean;
}

export interface ResetPlan {
  groupId: string;
  executed: boolean;
  offsets: { topic: string; partition: number; currentOffset: bigint | null; newOffset: bigint }[];
}

const groupNotFound = (groupId: string) => new AdminError('SB_ERR_NOT_FOUND', 'GROUP_ID_NOT_FOUND', `group ${groupId} does not exist`);

export function listGroups(client: KafkaClient): Promise<ListedGroup[]> {
  return client.listGroups();
}

/** Members, assignments, committed offsets and lag of one group. */
export async function describeGroup(client: KafkaClient, groupId: string): Promise<GroupStatus> {
  const [group] = await client.describeGroups([groupId]);
  if (group!.error) throw group!.error;
  const committed = await client.offsetFetch(groupId, null);
  if (group!.state === 'Dead' && committed.length === 0) throw groupNotFound(groupId);
  return {
    groupId,
    state: group!.state,
    protocolType: group!.protocolType,
    protocol: group!.protocol,
    members: group!.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, host: m.clientHost, assignment: m.assignment })),
    offsets: await offsetRows(client, group!, committed),
  };
}

/** One row per partition that is committed or assigned, with the log end offset and the lag. */
async function offsetRows(client: KafkaClient, group: GroupDescription, committed: CommittedOffset[]): Promise<GroupOffsetRow[]> {
  const owners = new Map<string, { memberId: string; host: string; clientId: string }>();
  for (const m of group.members) for (const a of m.assignment ?? []) for (const p of a.partitions) owners.set(`${a.topic}:${p}`, { memberId: m.memberId, host: m.clientHost, clientId: m.clientId });
  const keys = new Map<string, { topic: string; partition: number }>();
  for (const c of committed) keys.set(`${c.topic}:${c.partition}`, { topic: c.topic, partition: c.partition });
  for (const m of group.members) for (const a of m.assignment ?? []) for (const p of a.partitions) keys.set(`${a.topic}:${p}`, { topic: a.topic, partition: p });
  const byTopic = new Map<string, number[]>();
  for (const k of keys.values()) byTopic.set(k.topic, [...(byTopic.get(k.topic) ?? []), k.partition]);
  const ends = new Map<string, bigint>();
  for (const [topic, partitions] of byTopic) {
    for (const o of await client.listOffsets(topic, partitions, 'latest')) ends.set(`${topic}:${o.partition}`, o.offset);
  }
  return [...keys]
    .map(([key, k]) => {
      const c = committed.find((x) => x.topic === k.topic && x.partition === k.partition);
      const offset = c && c.offset >= 0n ? c.offset : null;
      const end = ends.get(key) ?? -1n;
      const owner = owners.get(key);
      return { ...k, committedOffset: offset, logEndOffset: end, lag: offset === null ? null : end - offset > 0n ? end - offset : 0n, memberId: owner?.memberId ?? null, host: owner?.host ?? null, clientId: owner?.clientId ?? null };
    })
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** The offsets a reset would commit, committed when `execute` (see the file comment). */
export async function resetGroupOffsets(client: KafkaClient, o: ResetRequest): Promise<ResetPlan> {
  const topic = await existingTopic(client, o.topic);
  const all = topic.partitions.map((p) => p.partition);
  const partitions = o.partitions ?? all;
  const unknown = partitions.find((p) => !all.includes(p));
  if (unknown !== undefined) throw new AdminError('SB_ERR_NOT_FOUND', 'UNKNOWN_TOPIC_OR_PARTITION', `topic ${o.topic} has no partition ${unknown}`);
  const [group] = await client.describeGroups([o.groupId]);
  if (group!.error) throw group!.error;
  if (o.execute && group!.state !== 'Empty' && group!.state !== 'Dead') {
    throw new AdminError('SB_ERR_CONFLICT', 'GROUP_NOT_EMPTY', `group ${o.groupId} is ${group!.state} with ${group!.members.length} member(s); offsets can be reset only while it is inactive`);
  }
  const [earliest, latest, committed] = await Promise.all([
    client.listOffsets(o.topic, partitions, 'earliest'),
    client.listOffsets(o.topic, partitions, 'latest'),
    client.offsetFetch(o.groupId, [{ topic: o.topic, partitions: [...partitions] }]),
  ]);
  const offsets = partitions.map((partition, i) => {
    const low = earliest[i]!.offset;
    const high = latest[i]!.offset;
    let next = o.target.to === 'earliest' ? low : o.target.to === 'latest' ? high : o.target.offset;
    if (next < low) next = low;
    if (next > high) next = high;
    const current = committed.find((c) => c.partition === partition);
    return { topic: o.topic, partition, currentOffset: current && current.offset >= 0n ? current.offset : null, newOffset: next };
  });
  if (o.execute) await client.offsetCommit(o.groupId, offsets.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.newOffset })));
  return { groupId: o.groupId, executed: o.execute, offsets };
}

/** Deletes an inactive group and its committed offsets. */
export async function deleteGroup(client: KafkaClient, groupId: string): Promise<{ groupId: string; deleted: true }> {
  const [result] = await client.deleteGroups([groupId]);
  const error = result!.error;
  if (error?.kafkaName === 'GROUP_ID_NOT_FOUND') throw groupNotFound(groupId);
  if (error?.kafkaName === 'NON_EMPTY_GROUP') throw new AdminError('SB_ERR_CONFLICT', 'NON_EMPTY_GROUP', `group ${groupId} has active members; stop them before deleting it`);
  if (error) throw error;
  return { groupId, deleted: true };
}
