/**
 * A topic's configs as DescribeConfigs and CreateTopics answer them: every Kafka 3.9 topic config
 * with its effective value, its source (DYNAMIC_TOPIC_CONFIG for the topic's own override, else the
 * source of the broker-level default behind it) and, on request, its synonyms (the override, then
 * the broker-level default: broker.yaml's value and the built-in one).
 */
import type { TopicRecord } from '../metadata/cluster-state.ts';
import { TOPIC_CONFIGS, type TopicConfigType } from '../metadata/topic-configs.ts';
import { brokerSynonymsOf, ConfigSource, type ConfigSynonym } from './broker-configs.ts';
import type { BrokerContext } from './context.ts';

export interface ConfigEntry {
  readonly name: string;
  readonly value: string;
  readonly type: TopicConfigType;
  readonly source: number;
  readonly synonyms: readonly ConfigSynonym[];
}

/** Kafka's ConfigType ids (DescribeConfigsResponse.json, v3+). */
export const CONFIG_TYPE_ID: Readonly<Record<TopicConfigType, number>> = { boolean: 1, string: 2, int: 3, long: 5, double: 6, list: 7 };

/** `overrides` are the topic's own configs; `topic` gives the effective values (absent: a topic not created yet). */
export function topicConfigEntries(ctx: BrokerContext, overrides: Readonly<Record<string, string>>, topic?: TopicRecord): ConfigEntry[] {
  const effective = topic === undefined ? null : ctx.topics.effectiveConfigs(topic);
  return TOPIC_CONFIGS.map((spec) => {
    const brokerSynonyms = brokerSynonymsOf(ctx.config, spec.name);
    const own = overrides[spec.name];
    const synonyms = own === undefined ? brokerSynonyms : [{ name: spec.name, value: own, source: ConfigSource.DynamicTopic }, ...brokerSynonyms];
    const source = synonyms[0]?.source ?? ConfigSource.Default;
    const value = effective?.[spec.name] ?? own ?? ctx.topics.brokerTopicDefaults()[spec.name] ?? spec.defaultValue;
    return { name: spec.name, value, type: spec.type, source, synonyms };
  });
}
