/**
 * Committed offsets of a group: OffsetFetch and OffsetCommit, sent to the group's coordinator.
 *
 * OffsetCommit here serves two callers: a group member (with its generation and member id) and tools
 * that reset offsets of an inactive group ("simple" commits: generation -1, empty member id, which the
 * coordinator accepts only while the group has no members).
 */
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import { StreamBusError } from '../util/errors.ts';
import type { ClientCore } from './client-core.ts';
import { errorFor, type KafkaResponseError } from './kafka-error.ts';
import type { TopicPartitionOffset, TopicPartitions } from './types.ts';

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** -1 when the group has no commit for this partition. */
  offset: bigint;
  metadata: string | null;
  error: KafkaResponseError | null;
}

export interface CommitOptions {
  generationId?: number;
  memberId?: string;
  groupInstanceId?: string | null;
}

/** Committed offsets of `groupId` for `topics`, or for every partition it committed when null. */
export async function offsetFetch(core: ClientCore, groupId: string, topics: readonly TopicPartitions[] | null): Promise<CommittedOffset[]> {
  const requested = topics === null ? null : topics.map((t) => ({ name: t.topic, partitionIndexes: [...t.partitions] }));
  return core.retry(async () => {
    const { version, body } = await core.request({ coordinator: groupId }, API_KEYS.OffsetFetch, (v) => {
      if (v < 2 && requested === null) throw new StreamBusError('SB_ERR_UNSUPPORTED_VERSION', 'OffsetFetch v1 cannot list every partition of a group');
      // v8 batches groups: the same fields move into a `groups` array.
      return v >= 8 ? { groups: [{ groupId, topics: requested }], requireStable: false } : { groupId, topics: requested, requireStable: false };
    });
    let errorCode: number;
    let partitions: { topic: string; p: { partitionIndex: number; committedOffset: bigint; metadata: string | null; errorCode: number } }[];
    if (version >= 8) {
      const g = body.groups.find((x) => x.groupId === groupId);
      if (!g) throw new StreamBusError('SB_ERR_PROTOCOL', `OffsetFetch answer lacks group ${groupId}`);
      errorCode = g.errorCode;
      partitions = g.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, p })));
    } else {
      errorCode = version >= 2 ? body.errorCode : 0;
      partitions = body.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, p })));
    }
    const failure = errorFor(errorCode, `fetch offsets of group ${groupId}`);
    if (failure) {
      core.invalidate(failure);
      throw failure;
    }
    return partitions
      .map(({ topic, p }) => ({ topic, partition: p.partitionIndex, offset: p.committedOffset, metadata: p.metadata, error: errorFor(p.errorCode, `offset of ${groupId} on ${topic}-${p.partitionIndex}`) }))
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  });
}

/** Commits `offsets` (the next offset to read, per partition); throws the first partition error. */
export async function offsetCommit(core: ClientCore, groupId: string, offsets: readonly TopicPartitionOffset[], opts: CommitOptions = {}): Promise<void> {
  const byTopic = new Map<string, TopicPartitionOffset[]>();
  for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o]);
  await core.retry(async () => {
    const { body } = await core.request({ coordinator: groupId }, API_KEYS.OffsetCommit, () => ({
      groupId,
      generationIdOrMemberEpoch: opts.generationId ?? -1,
      memberId: opts.memberId ?? '',
      groupInstanceId: opts.groupInstanceId ?? null,
      retentionTimeMs: -1n,
      topics: [...byTopic].map(([name, list]) => ({
        name,
        partitions: list.map((o) => ({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' })),
      })),
    }));
    for (const t of body.topics) {
      for (const p of t.partitions) {
        const err = errorFor(p.errorCode, `commit offset of group ${groupId} on ${t.name}-${p.partitionIndex}`);
        if (err) {
          core.invalidate(err);
          throw err;
        }
      }
    }
  });
}
