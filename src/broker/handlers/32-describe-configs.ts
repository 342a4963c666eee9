/**
 * DescribeConfigs (32), versions 0-4 (DescribeConfigsRequest.json). Topic resources (type 2) list every
 * topic config StreamBus stores, with its source: 1 topic override, 5 broker default (from broker.yaml),
 * 5 static default otherwise. Broker resources (type 4) list the broker's own Kafka-visible settings,
 * read-only. Other resource types get INVALID_REQUEST. is_default exists only in v0; v1+ say the same
 * with config_source (KIP-226), and the encoder refuses a set is_default there.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { TOPIC_CONFIGS } from '../../metadata/topic-configs.ts';
import type { Handler } from '../handler.ts';
import type { BrokerContext } from '../context.ts';

const TOPIC = 2;
const BROKER = 4;
const SOURCE_TOPIC = 1;
const SOURCE_STATIC_BROKER = 4;
const SOURCE_DEFAULT = 5;

export const describeConfigs: Handler<32> = (ctx, request, info) => ({
  throttleTimeMs: 0,
  results: request.resources.map((r) => {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    const wanted = (name: string) => r.configurationKeys === null || r.configurationKeys.includes(name);
    if (r.resourceType === TOPIC) {
      const topic = ctx.metadata.state.topic(r.resourceName);
      if (!topic) return { ...base, errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic '${r.resourceName}' does not exist.`, configs: [] };
      const brokerDefaults = ctx.topics.brokerTopicDefaults();
      const effective = ctx.topics.effectiveConfigs(topic);
      return {
        ...base,
        errorCode: 0,
        errorMessage: null,
        configs: TOPIC_CONFIGS.filter((c) => wanted(c.name)).map((c) => {
          const source = c.name in topic.configs ? SOURCE_TOPIC : c.name in brokerDefaults ? SOURCE_STATIC_BROKER : SOURCE_DEFAULT;
          return { name: c.name, value: effective[c.name]!, readOnly: false, isDefault: info.apiVersion === 0 && source !== SOURCE_TOPIC, configSource: source, isSensitive: false, synonyms: [] };
        }),
      };
    }
    if (r.resourceType === BROKER) {
      if (r.resourceName !== '' && r.resourceName !== String(ctx.nodeId)) {
        return { ...base, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: `Unknown broker ${r.resourceName}.`, configs: [] };
      }
      return {
        ...base,
        errorCode: 0,
        errorMessage: null,
        configs: Object.entries(brokerConfigs(ctx))
          .filter(([name]) => wanted(name))
          .map(([name, value]) => ({ name, value, readOnly: true, isDefault: false, configSource: SOURCE_STATIC_BROKER, isSensitive: false, synonyms: [] })),
      };
    }
    return { ...base, errorCode: KafkaErrorCode.INVALID_REQUEST, errorMessage: `Resource type ${r.resourceType} is not supported.`, configs: [] };
  }),
});

function brokerConfigs(ctx: BrokerContext): Record<string, string> {
  const c = ctx.config;
  return {
    'broker.id': String(ctx.nodeId),
    'auto.create.topics.enable': String(c.kafka.autoCreateTopics),
    'num.partitions': String(c.kafka.defaultPartitions),
    'default.replication.factor': String(c.kafka.defaultReplicationFactor),
    'message.max.bytes': String(c.kafka.messageMaxBytes),
    'log.retention.ms': String(c.storage.retentionDays * 24 * 3600 * 1000),
    'log.retention.bytes': String(c.storage.retentionBytes),
    'log.segment.bytes': String(c.storage.segmentBytes),
    'log.flush.interval.ms': String(c.storage.syncInterval),
    'group.initial.rebalance.delay.ms': String(c.kafka.groupInitialRebalanceDelayMs),
    'offsets.retention.minutes': String(c.kafka.offsetsRetentionMinutes),
  };
}
