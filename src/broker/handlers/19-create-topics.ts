/**
 * CreateTopics (19), versions 0-7 (CreateTopicsRequest.json). num_partitions / replication_factor of -1
 * mean the broker defaults, in every version (kafkajs sends -1 even at v3). Manual replica assignments
 * are refused (INVALID_REQUEST): placement is the broker's. validate_only checks without creating.
 * The topic is usable the moment this answers (its logs exist), so clients need not poll.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { effectiveTopicConfigs } from '../../metadata/topic-configs.ts';
import type { Handler } from '../handler.ts';
import { metadataErrorCode } from '../kafka-errors.ts';

export const createTopics: Handler<19> = async (ctx, request) => {
  const seen = new Set<string>();
  const topics = [];
  for (const t of request.topics) {
    if (seen.has(t.name)) {
      topics.push({ name: t.name, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic name in the request.' });
      continue;
    }
    seen.add(t.name);
    if (t.assignments.length > 0) {
      topics.push({ name: t.name, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: 'Manual replica assignment is not supported.' });
      continue;
    }
    const configs: Record<string, string> = {};
    for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
    const result = await ctx.topics.create(t.name, t.numPartitions, t.replicationFactor, configs, request.validateOnly);
    if (result.error) {
      topics.push({ name: t.name, errorCode: metadataErrorCode(result.error), errorMessage: result.message ?? null });
      continue;
    }
    const created = ctx.metadata.state.topic(t.name);
    const partitions = created?.partitions ?? (t.numPartitions === -1 ? ctx.config.kafka.defaultPartitions : t.numPartitions);
    const replicationFactor = created?.replicationFactor ?? (t.replicationFactor === -1 ? ctx.config.kafka.defaultReplicationFactor : t.replicationFactor);
    const effective = effectiveTopicConfigs(configs, ctx.topics.brokerTopicDefaults());
    topics.push({
      name: t.name,
      topicId: created?.topicId,
      errorCode: 0,
      errorMessage: null,
      numPartitions: partitions,
      replicationFactor,
      configs: Object.entries(effective).map(([name, value]) => ({
        name,
        value,
        readOnly: false,
        configSource: name in configs ? 1 : 5,
        isSensitive: false,
      })),
    });
  }
  return { throttleTimeMs: 0, topics };
};
