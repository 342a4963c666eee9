/**
 * DescribeConfigs (32), versions 0-4 (DescribeConfigsRequest.json). Topic resources (type 2) list
 * every Kafka 3.9 topic config (topic-config-entries.ts). Broker resources (type 4) named after this
 * broker list its Kafka-visible settings (broker-configs.ts), all read-only; the cluster-wide default
 * resource (empty name) lists only dynamic defaults, as Kafka does, and StreamBus has none. Broker loggers (type 8) list the broker's one logger, "root",
 * with its level. Other resource types get INVALID_REQUEST. is_default exists only in v0; v1+ say the
 * same with config_source and synonyms, sent only when include_synonyms asks (KIP-226); config_type
 * is v3+ (KIP-569), and the encoder drops it for older versions. With authorization a topic needs
 * DESCRIBE_CONFIGS (TOPIC_AUTHORIZATION_FAILED), broker and logger resources DESCRIBE_CONFIGS on the
 * cluster (CLUSTER_AUTHORIZATION_FAILED).
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { brokerConfigEntries, ConfigSource } from '../broker-configs.ts';
import type { Handler } from '../handler.ts';
import { allowed, clusterAllowed, Op, Resource } from '../access.ts';
import { CONFIG_TYPE_ID, topicConfigEntries, type ConfigEntry } from '../topic-config-entries.ts';

const TOPIC = 2;
const BROKER = 4;
const BROKER_LOGGER = 8;

export const describeConfigs: Handler<32> = (ctx, request, info) => ({
  throttleTimeMs: 0,
  results: request.resources.map((r) => {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    const failed = (errorCode: number, errorMessage: string) => ({ ...base, errorCode, errorMessage, configs: [] });
    const wanted = (e: ConfigEntry) => r.configurationKeys === null || r.configurationKeys.includes(e.name);
    const answer = (entries: readonly ConfigEntry[], readOnly: boolean) => ({
      ...base,
      errorCode: 0,
      errorMessage: null,
      configs: entries.filter(wanted).map((e) => ({
        name: e.name,
        value: e.value,
        readOnly,
        isDefault: info.apiVersion === 0 && e.source === ConfigSource.Default,
        configSource: e.source,
        isSensitive: false,
        synonyms: request.includeSynonyms ? e.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source })) : [],
        configType: CONFIG_TYPE_ID[e.type],
        documentation: null,
      })),
    });
    if (r.resourceType === TOPIC && !allowed(ctx, info, Op.DESCRIBE_CONFIGS, Resource.TOPIC, r.resourceName)) {
      return failed(KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED, `DESCRIBE_CONFIGS on topic '${r.resourceName}' is needed.`);
    }
    if ((r.resourceType === BROKER || r.resourceType === BROKER_LOGGER) && !clusterAllowed(ctx, info, Op.DESCRIBE_CONFIGS)) {
      return failed(KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'DESCRIBE_CONFIGS on the cluster is needed.');
    }
    if (r.resourceType === TOPIC) {
      const topic = ctx.metadata.state.topic(r.resourceName);
      if (!topic) return failed(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${r.resourceName}' does not exist.`);
      return answer(topicConfigEntries(ctx, topic.configs, topic), false);
    }
    if (r.resourceType === BROKER && r.resourceName === '') return answer([], true);
    if (r.resourceType === BROKER || r.resourceType === BROKER_LOGGER) {
      if (r.resourceName !== String(ctx.nodeId)) {
        return failed(KafkaErrorCode.INVALID_REQUEST, `Broker '${r.resourceName}' is not this broker (${ctx.nodeId}); ask it directly.`);
      }
      if (r.resourceType === BROKER) return answer(brokerConfigEntries(ctx.config), true);
      const level = ctx.config.logging.level === 'silent' ? 'OFF' : ctx.config.logging.level.toUpperCase();
      return answer([{ name: 'root', value: level, type: 'string', source: ConfigSource.DynamicBrokerLogger, synonyms: [] }], true);
    }
    return failed(KafkaErrorCode.INVALID_REQUEST, `Resource type ${r.resourceType} is not supported.`);
  }),
});
