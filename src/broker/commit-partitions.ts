/**
 * The per-partition checks OffsetCommit and TxnOffsetCommit make before the group coordinator sees
 * the request, as Kafka does: READ on each topic (else TOPIC_AUTHORIZATION_FAILED), then the
 * partition must exist (else UNKNOWN_TOPIC_OR_PARTITION). The refused partitions are answered here
 * and merged back into the coordinator's answer. OffsetDelete and DescribeProducers use the same checks (partitionRefusal).
 */
import { KafkaErrorCode } from '../protocol/kafka/error-codes.ts';
import type { OffsetCommitRequestTopic, OffsetCommitResponseTopic } from '../groups/group-api.ts';
import type { BrokerContext } from './context.ts';
import type { RequestInfo } from './handler.ts';
import { allowed, Op, Resource } from './access.ts';

interface RequestedPartition {
  readonly partitionIndex: number;
  readonly committedOffset: bigint;
  readonly committedLeaderEpoch: number;
  readonly committedMetadata: string | null;
}

export interface RefusedPartition {
  readonly name: string;
  readonly partitionIndex: number;
  readonly errorCode: number;
}

/**
 * Why a partition of `topics` must not reach the coordinator, or 0: TOPIC_AUTHORIZATION_FAILED
 * without READ on its topic, UNKNOWN_TOPIC_OR_PARTITION when it does not exist. READ is checked once
 * per topic. OffsetDelete and DescribeProducers make the same checks.
 */
export function partitionRefusal(ctx: BrokerContext, info: RequestInfo, topics: readonly string[]): (topic: string, partition: number) => number {
  const readable = new Map(topics.map((name) => [name, allowed(ctx, info, Op.READ, Resource.TOPIC, name)]));
  return (topic, partition) => {
    if (readable.get(topic) !== true) return KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED;
    const t = ctx.metadata.state.topic(topic);
    return t !== undefined && partition >= 0 && partition < t.partitions ? 0 : KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  };
}

/**
 * Splits the request's partitions into those the coordinator may commit (in the coordinator's
 * form; `withLeaderEpoch` false drops the epoch of versions that do not carry it) and those refused.
 */
export function checkCommitPartitions(
  ctx: BrokerContext,
  info: RequestInfo,
  requested: readonly { readonly name: string; readonly partitions: readonly RequestedPartition[] }[],
  withLeaderEpoch: boolean,
): { topics: OffsetCommitRequestTopic[]; refused: RefusedPartition[] } {
  const refusal = partitionRefusal(ctx, info, requested.map((t) => t.name));
  const refused: RefusedPartition[] = [];
  const topics = requested
    .map((t) => ({
      name: t.name,
      partitions: t.partitions
        .filter((p) => {
          const errorCode = refusal(t.name, p.partitionIndex);
          if (errorCode !== 0) refused.push({ name: t.name, partitionIndex: p.partitionIndex, errorCode });
          return errorCode === 0;
        })
        .map((p) => ({
          partitionIndex: p.partitionIndex,
          committedOffset: p.committedOffset,
          committedLeaderEpoch: withLeaderEpoch ? p.committedLeaderEpoch : -1,
          commitTimestampMs: -1,
          committedMetadata: p.committedMetadata,
        })),
    }))
    .filter((t) => t.partitions.length > 0);
  return { topics, refused };
}

/** The coordinator's answer with the refused partitions added (to their topic, or a topic of their own). */
export function withRefused(answered: readonly OffsetCommitResponseTopic[], refused: readonly RefusedPartition[]): { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] {
  const out = answered.map((t) => ({ name: t.name, partitions: [...t.partitions] }));
  for (const u of refused) {
    let topic = out.find((t) => t.name === u.name);
    if (!topic) out.push((topic = { name: u.name, partitions: [] }));
    topic.partitions.push({ partitionIndex: u.partitionIndex, errorCode: u.errorCode });
  }
  return out;
}
