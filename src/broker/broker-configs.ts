/**
 * The broker-level configs Kafka clients see (DescribeConfigs resource type BROKER), each mapped onto
 * the StreamBus key it comes from (broker.yaml, environment or command line). Their source is
 * STATIC_BROKER_CONFIG when that key was set and DEFAULT_CONFIG otherwise, as Kafka reports a
 * server.properties value and a built-in default. The topic defaults Kafka keeps at broker level
 * (log.cleanup.policy, ...) that StreamBus has no key for are listed with Kafka's default.
 *
 * All of them are read-only: they change by editing broker.yaml and restarting, so an alteration is
 * answered as Kafka answers one of its static configs (INVALID_REQUEST, "Cannot update these configs
 * dynamically"). StreamBus has no dynamic broker configs.
 */
import { configOrigin, KEY_INFO, type BrokerConfig, type KeyPath } from '../config/index.ts';
import { TOPIC_CONFIGS, type TopicConfigType } from '../metadata/topic-configs.ts';

/** Kafka's ConfigSource ids (DescribeConfigsResponse.json). */
export const ConfigSource = { DynamicTopic: 1, DynamicBroker: 2, DynamicDefaultBroker: 3, StaticBroker: 4, Default: 5, DynamicBrokerLogger: 6 } as const;

export interface ConfigSynonym {
  readonly name: string;
  readonly value: string | null;
  readonly source: number;
}

export interface BrokerConfigEntry {
  readonly name: string;
  readonly value: string;
  readonly type: TopicConfigType;
  readonly source: number;
  /** Highest precedence first, as Kafka lists them. */
  readonly synonyms: readonly ConfigSynonym[];
}

interface Mapping {
  readonly name: string;
  readonly key: KeyPath;
  readonly type: TopicConfigType;
  readonly value: (config: BrokerConfig) => string;
  /** The same conversion applied to the key's built-in default. */
  readonly fromValue: (raw: unknown) => string;
}

const DAY_MS = 24 * 3600 * 1000;

/** storage.retentionDays in milliseconds: -1 (keep forever) stays -1. */
export function retentionMsOf(days: number): number {
  return days < 0 ? -1 : Math.round(days * DAY_MS);
}

function mapping(name: string, key: KeyPath, type: TopicConfigType, convert: (raw: unknown) => string = String): Mapping {
  const [section, leaf] = key.split('.') as [keyof BrokerConfig, string];
  return { name, key, type, fromValue: convert, value: (config) => convert((config[section] as unknown as Record<string, unknown>)[leaf]) };
}

const MAPPINGS: readonly Mapping[] = [
  mapping('broker.id', 'server.brokerId', 'int'),
  mapping('node.id', 'server.brokerId', 'int'),
  mapping('broker.rack', 'server.rack', 'string'),
  mapping('max.connections', 'server.maxConnections', 'int'),
  mapping('log.dirs', 'storage.dataDir', 'string'),
  mapping('log.retention.ms', 'storage.retentionDays', 'long', (days) => String(retentionMsOf(Number(days)))),
  mapping('log.retention.bytes', 'storage.retentionBytes', 'long'),
  mapping('log.segment.bytes', 'storage.segmentBytes', 'int'),
  mapping('log.roll.ms', 'storage.segmentMs', 'long'),
  mapping('log.index.interval.bytes', 'storage.indexIntervalBytes', 'int'),
  mapping('log.flush.interval.ms', 'storage.syncInterval', 'long'),
  mapping('auto.create.topics.enable', 'kafka.autoCreateTopics', 'boolean'),
  mapping('num.partitions', 'kafka.defaultPartitions', 'int'),
  mapping('default.replication.factor', 'kafka.defaultReplicationFactor', 'int'),
  mapping('message.max.bytes', 'kafka.messageMaxBytes', 'int'),
  mapping('socket.request.max.bytes', 'kafka.maxFrameBytes', 'int'),
  mapping('group.initial.rebalance.delay.ms', 'kafka.groupInitialRebalanceDelayMs', 'int'),
  mapping('offsets.retention.minutes', 'kafka.offsetsRetentionMinutes', 'int'),
];

const MAPPED = new Set(MAPPINGS.map((m) => m.name));

/** Whether the StreamBus key was set (file, environment, flag) rather than left at its default. */
function isSet(config: BrokerConfig, key: KeyPath): boolean {
  try {
    return configOrigin(config, key).kind !== 'default';
  } catch {
    // A configuration built in code (not by loadConfig) has no origins: every value counts as set.
    return true;
  }
}

function mappedEntry(config: BrokerConfig, m: Mapping): BrokerConfigEntry {
  const value = m.value(config);
  const builtIn = KEY_INFO.get(m.key)?.spec.default;
  // A default derived from another key (Derived) has no fixed value to report.
  const defaultValue = typeof builtIn === 'object' && builtIn !== null ? null : m.fromValue(builtIn);
  if (!isSet(config, m.key)) return { name: m.name, value, type: m.type, source: ConfigSource.Default, synonyms: [{ name: m.name, value, source: ConfigSource.Default }] };
  const synonyms: ConfigSynonym[] = [{ name: m.name, value, source: ConfigSource.StaticBroker }];
  if (defaultValue !== null) synonyms.push({ name: m.name, value: defaultValue, source: ConfigSource.Default });
  return { name: m.name, value, type: m.type, source: ConfigSource.StaticBroker, synonyms };
}

/** Every broker config this broker reports, in name order. */
export function brokerConfigEntries(config: BrokerConfig): BrokerConfigEntry[] {
  const entries = MAPPINGS.map((m) => mappedEntry(config, m));
  for (const spec of TOPIC_CONFIGS) {
    const name = spec.brokerKey;
    if (name === null || MAPPED.has(name)) continue;
    entries.push({ name, value: spec.defaultValue, type: spec.type, source: ConfigSource.Default, synonyms: [{ name, value: spec.defaultValue, source: ConfigSource.Default }] });
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Kafka's broker-level default behind a topic config, as a synonym of that topic config (null when there is none). */
export function brokerSynonymsOf(config: BrokerConfig, topicConfig: string): readonly ConfigSynonym[] {
  const spec = TOPIC_CONFIGS.find((c) => c.name === topicConfig);
  if (spec === undefined || spec.brokerKey === null) return [];
  const m = MAPPINGS.find((x) => x.name === spec.brokerKey);
  if (m === undefined) return [{ name: spec.brokerKey, value: spec.defaultValue, source: ConfigSource.Default }];
  return mappedEntry(config, m).synonyms;
}

/** The answer to an alteration of broker configs: none can change while the broker runs. */
export function brokerAlterationProblem(names: readonly string[]): string | null {
  if (names.length === 0) return null;
  return `Cannot update these configs dynamically: Set(${names.join(', ')}). StreamBus broker settings come from broker.yaml and take effect on restart.`;
}
