/**
 * Consumer group administration: ListGroups (asked of every broker, merged, as each broker lists only
 * the groups it coordinates), DescribeGroups and DeleteGroups (each group asked of its coordinator).
 * Member assignments of "consumer" groups are decoded into topic partitions.
 */
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import type { ClientCore } from './client-core.ts';
import { decodeAssignment, decodeSubscription } from '../protocol/kafka/consumer-protocol.ts';
import { errorFor, KafkaResponseError, throwIfError } from './kafka-error.ts';
import { retryItems } from './item-retry.ts';
import type { ItemResult, TopicPartitions } from './types.ts';

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  /** Empty, Stable, PreparingRebalance, CompletingRebalance, Dead; null before ListGroups v4. */
  state: string | null;
}

export interface GroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Decoded for "consumer" groups (null otherwise, or when the bytes do not decode). */
  assignment: TopicPartitions[] | null;
  subscribedTopics: string[] | null;
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  /** The chosen assignor (for consumer groups). */
  protocol: string;
  members: GroupMember[];
  error: KafkaResponseError | null;
}

export async function listGroups(core: ClientCore): Promise<ListedGroup[]> {
  const md = await core.metadata([]);
  const lists = await Promise.all(
    md.brokers.map((b) =>
      core.retry(async () => {
        const { version, body } = await core.request({ node: b.nodeId }, API_KEYS.ListGroups, () => ({ statesFilter: [], typesFilter: [] }));
        throwIfError(body.errorCode, `list groups on broker ${b.nodeId}`);
        return body.groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, state: version >= 4 ? g.groupState : null }));
      }),
    ),
  );
  const seen = new Map<string, ListedGroup>();
  for (const g of lists.flat()) seen.set(g.groupId, g);
  return [...seen.values()].sort((a, b) => a.groupId.localeCompare(b.groupId));
}

function decodeOrNull<T>(decode: () => T): T | null {
  try {
    return decode();
  } catch {
    return null;
  }
}

export async function describeGroups(core: ClientCore, groupIds: readonly string[]): Promise<GroupDescription[]> {
  const found = await retryItems(core, groupIds, async (pending) => {
    const answers = await Promise.all(
      pending.map(async (groupId) => {
        const { body } = await core.request({ coordinator: groupId }, API_KEYS.DescribeGroups, () => ({ groups: [groupId], includeAuthorizedOperations: false }));
        const g = body.groups.find((x) => x.groupId === groupId);
        const error = g ? errorFor(g.errorCode, `describe group ${groupId}`) : new KafkaResponseError(-1, `describe group ${groupId}: not in the answer`);
        if (error?.retriable) core.invalidate(error);
        const consumer = g?.protocolType === 'consumer';
        return {
          groupId,
          state: g?.groupState ?? 'Unknown',
          protocolType: g?.protocolType ?? '',
          protocol: g?.protocolData ?? '',
          error,
          members: (g?.members ?? []).map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            assignment: consumer ? decodeOrNull(() => decodeAssignment(m.memberAssignment)) : null,
            subscribedTopics: consumer ? decodeOrNull(() => decodeSubscription(m.memberMetadata).topics) : null,
          })),
        } satisfies GroupDescription;
      }),
    );
    return new Map(answers.map((a) => [a.groupId, a]));
  });
  return groupIds.map((id) => found.get(id)!);
}

/** Deletes empty groups and their committed offsets; a group with members gets NON_EMPTY_GROUP. */
export async function deleteGroups(core: ClientCore, groupIds: readonly string[]): Promise<ItemResult[]> {
  const found = await retryItems(core, groupIds, async (pending) => {
    const answers = await Promise.all(
      pending.map(async (groupId) => {
        const { body } = await core.request({ coordinator: groupId }, API_KEYS.DeleteGroups, () => ({ groupsNames: [groupId] }));
        const r = body.results.find((x) => x.groupId === groupId);
        const error = r ? errorFor(r.errorCode, `delete group ${groupId}`) : new KafkaResponseError(-1, `delete group ${groupId}: not in the answer`);
        if (error?.retriable) core.invalidate(error);
        return { name: groupId, error };
      }),
    );
    return new Map(answers.map((a) => [a.name, a]));
  });
  return groupIds.map((id) => found.get(id)!);
}
