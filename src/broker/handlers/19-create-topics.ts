/**
 * CreateTopics (19), versions 0-7 (CreateTopicsRequest.json). num_partitions / replication_factor of -1
 * mean the broker defaults, in every version (kafkajs sends -1 even at v3). Manual replica assignments
 * replace both (which must then be -1, as Kafka requires), name partitions 0..n-1, and are checked like
 * computed ones (INVALID_REPLICA_ASSIGNMENT). validate_only checks without creating.
 * On a lone broker the topic is usable the moment this answers (its logs exist). In a cluster it is
 * decided by the controller within the request's timeout_ms (else REQUEST_TIMED_OUT) and its
 * partitions open on their brokers right after, as in Kafka (LEADER_NOT_AVAILABLE meanwhile).
 * With authorization, creating needs CREATE on the cluster or the topic; the configs are answered
 * only with DESCRIBE_CONFIGS on the topic (else topic_config_error_code says why). With multi-tenancy a
 * tenant creates only `<tenant>.` names, and none past its maxTopics (POLICY_VIOLATION, with the reason).
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { topicConfigEntries } from '../topic-config-entries.ts';
import type { Handler } from '../handler.ts';
import { mayCreateTopic, Op, Resource, visible } from '../access.ts';
import { metadataErrorCode } from '../kafka-errors.ts';
import { topicQuotaProblem } from '../tenant-access.ts';

export const createTopics: Handler<19> = async (ctx, request, info) => {
  const seen = new Set<string>();
  const topics = [];
  for (const t of request.topics) {
    if (seen.has(t.name)) {
      topics.push({ name: t.name, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name in the request.' });
      continue;
    }
    seen.add(t.name);
    if (!mayCreateTopic(ctx, info, t.name)) {
      topics.push({ name: t.name, errorCode: KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'CREATE on the cluster or on the topic is needed.' });
      continue;
    }
    // Multi-tenancy: a tenant at its maxTopics creates no more (counted again for each topic of the request).
    const overQuota = ctx.metadata.state.topic(t.name) !== undefined ? null : topicQuotaProblem(ctx, info.connection, t.name);
    if (overQuota !== null) {
      topics.push({ name: t.name, errorCode: KafkaErrorCode.POLICY_VIOLATION, errorMessage: overQuota });
      continue;
    }
    const manual = manualAssignments(t);
    if ('errorCode' in manual) {
      topics.push({ name: t.name, ...manual });
      continue;
    }
    const configs: Record<string, string> = {};
    for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
    const result = await ctx.topics.create(t.name, t.numPartitions, t.replicationFactor, configs, request.validateOnly, manual.assignments, request.timeoutMs);
    if (result.error) {
      topics.push({ name: t.name, errorCode: metadataErrorCode(result.error), errorMessage: result.message ?? null });
      continue;
    }
    const created = ctx.metadata.state.topic(t.name);
    const partitions = created?.partitions ?? (t.numPartitions === -1 ? ctx.config.kafka.defaultPartitions : t.numPartitions);
    const replicationFactor = created?.replicationFactor ?? (t.replicationFactor === -1 ? ctx.config.kafka.defaultReplicationFactor : t.replicationFactor);
    const configsVisible = visible(ctx, info, Op.DESCRIBE_CONFIGS, Resource.TOPIC, t.name);
    topics.push({
      name: t.name,
      topicId: created?.topicId,
      errorCode: 0,
      errorMessage: null,
      numPartitions: partitions,
      replicationFactor,
      topicConfigErrorCode: configsVisible ? 0 : KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED,
      configs: !configsVisible ? [] : topicConfigEntries(ctx, configs, created).map((e) => ({ name: e.name, value: e.value, readOnly: false, configSource: e.source, isSensitive: false })),
    });
  }
  return { throttleTimeMs: 0, topics };
};

type CreatableTopic = { numPartitions: number; replicationFactor: number; assignments: readonly { partitionIndex: number; brokerIds: readonly number[] }[] };

/** The request's replica lists in partition order (null when it has none), or the error to answer. */
function manualAssignments(t: CreatableTopic): { assignments: number[][] | null } | { errorCode: number; errorMessage: string } {
  if (t.assignments.length === 0) return { assignments: null };
  if (t.numPartitions !== -1 || t.replicationFactor !== -1) {
    return { errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.' };
  }
  const sorted = [...t.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
  if (sorted.some((a, i) => a.partitionIndex !== i)) {
    return { errorCode: KafkaErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: 'Partitions should be a consecutive 0-based integer sequence.' };
  }
  return { assignments: sorted.map((a) => [...a.brokerIds]) };
}
