/**
 * DescribeTopicPartitions (75), version 0 (KIP-966): topics and their partitions as Metadata gives
 * them, paged. Java admin clients from Kafka 3.7 describe topics through it when a broker offers it.
 * - No topics named: every topic the client may DESCRIBE (others left out silently); topics named:
 *   those, answered TOPIC_AUTHORIZATION_FAILED (zero id) without that right, UNKNOWN_TOPIC_OR_PARTITION
 *   (INVALID_TOPIC_EXCEPTION for an illegal name) when missing. Answered in name order, refusals last.
 * - At most min(ResponsePartitionLimit, 2000) partitions, at least one; where that cuts, NextCursor
 *   names the topic and partition to ask from next. A cursor starts at its topic (and, if that topic
 *   may be described, its partition); a cursor naming a topic outside the list asked for, or a negative
 *   partition, is INVALID_REQUEST on every topic named, as Kafka answers it.
 * - A partition without a leader now has leader -1 and no error (Kafka sets no partition errors here);
 *   eligible leader replicas (KIP-966's ELR) are not kept: empty lists, as Kafka sends with ELR off.
 */
import { ZERO_UUID } from '../../protocol/kafka/codec-support.ts';
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { DescribeTopicPartitionsResponse } from '../../protocol/kafka/generated/index.ts';
import { isInternalTopic, topicNameProblem } from '../../metadata/topic-name.ts';
import type { BrokerContext } from '../context.ts';
import type { Handler } from '../handler.ts';
import { replicaFields } from '../partition-fields.ts';
import { allowed, authorizedOperations, OPERATIONS_NOT_ASKED, Op, Resource, visible } from '../access.ts';

type TopicOut = DescribeTopicPartitionsResponse['topics'][number];
type Cursor = NonNullable<DescribeTopicPartitionsResponse['nextCursor']>;

/** Kafka's max.request.partition.size.limit default: the most partitions one answer carries. */
export const DESCRIBE_PARTITIONS_MAX = 2000;

export const describeTopicPartitions: Handler<75> = (ctx, request, info) => {
  const cursor = request.cursor;
  const cursorTopic = cursor?.topicName ?? '';
  const named = request.topics.length > 0;
  // Kafka refuses the whole request (every topic named, INVALID_REQUEST) for a cursor outside the
  // topics named or before a topic's first partition.
  if (cursor !== null && (cursor.partitionIndex < 0 || (named && !request.topics.some((t) => t.name === cursor.topicName)))) {
    return { throttleTimeMs: 0, topics: request.topics.map((t) => refused(t.name, KafkaErrorCode.INVALID_REQUEST)), nextCursor: null };
  }
  const names = new Set<string>();
  if (named) {
    for (const t of request.topics) if (t.name >= cursorTopic) names.add(t.name);
  } else {
    for (const t of ctx.metadata.state.topics()) if (t.name >= cursorTopic && !ctx.topics.isBeingCreated(t.name)) names.add(t.name);
  }
  const describable: string[] = [];
  const unauthorized: TopicOut[] = [];
  for (const name of names) {
    if (named ? allowed(ctx, info, Op.DESCRIBE, Resource.TOPIC, name) : visible(ctx, info, Op.DESCRIBE, Resource.TOPIC, name)) describable.push(name);
    else if (named) unauthorized.push(refused(name, KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED));
  }
  describable.sort(byName);
  const firstIndex = cursor !== null && describable.includes(cursorTopic) ? cursor.partitionIndex : 0;
  // At least one partition per answer, as Kafka: a limit of 0 would hand back the same cursor forever.
  const limit = Math.max(1, Math.min(request.responsePartitionLimit, DESCRIBE_PARTITIONS_MAX));
  const { topics, nextCursor } = page(ctx, describable, cursorTopic, firstIndex, limit);
  for (const t of topics) if (t.errorCode === 0) t.topicAuthorizedOperations = authorizedOperations(ctx, info, true, Resource.TOPIC, t.name!);
  return { throttleTimeMs: 0, topics: [...topics, ...unauthorized], nextCursor };
};

/** The topics' partitions from `firstIndex` of `cursorTopic` on, at most `limit` of them. */
function page(ctx: BrokerContext, names: readonly string[], cursorTopic: string, firstIndex: number, limit: number): { topics: TopicOut[]; nextCursor: Cursor | null } {
  const topics: TopicOut[] = [];
  let remaining = limit;
  for (const name of names) {
    if (remaining === 0) return { topics, nextCursor: { topicName: name, partitionIndex: 0 } };
    const topic = ctx.metadata.state.topic(name);
    if (topic === undefined) {
      topics.push({ ...refused(name, topicNameProblem(name) === null ? KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION : KafkaErrorCode.INVALID_TOPIC_EXCEPTION), isInternal: isInternalTopic(name) });
      continue;
    }
    const from = name === cursorTopic ? firstIndex : 0;
    const to = Math.min(topic.partitions, from + remaining);
    const partitions: TopicOut['partitions'] = [];
    for (let index = from; index < to; index++) {
      // Kafka sends empty ELR lists while ELR is off, not nulls.
      partitions.push({ errorCode: 0, partitionIndex: index, ...replicaFields(ctx.cluster.partition(topic, index)), eligibleLeaderReplicas: [], lastKnownElr: [] });
    }
    topics.push({ errorCode: 0, name, topicId: topic.topicId, isInternal: isInternalTopic(name), partitions, topicAuthorizedOperations: 0 });
    if (to < topic.partitions) return { topics, nextCursor: { topicName: name, partitionIndex: to } };
    remaining -= Math.max(0, to - from);
  }
  return { topics, nextCursor: null };
}

function refused(name: string, errorCode: number): TopicOut {
  // Kafka leaves the operations at their default on topics it refuses.
  return { errorCode, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: OPERATIONS_NOT_ASKED };
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
