/**
 * Topic and broker configuration: DescribeConfigs and IncrementalAlterConfigs (set, delete, append,
 * subtract one key at a time, leaving the other keys alone). Topic resources go to any broker; a broker
 * resource goes to that broker (its name is the node id), as Kafka routes them.
 */
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import type { ClientCore, Target } from './client-core.ts';
import { errorFor, KafkaResponseError } from './kafka-error.ts';
import { retryItems } from './item-retry.ts';

export type ResourceType = 'topic' | 'broker';

const RESOURCE_TYPE_CODE: Record<ResourceType, number> = { topic: 2, broker: 4 };

/** DescribeConfigs config_source codes (DescribeConfigsResponse.json). */
const CONFIG_SOURCES = [
  'UNKNOWN',
  'DYNAMIC_TOPIC_CONFIG',
  'DYNAMIC_BROKER_CONFIG',
  'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG',
  'DYNAMIC_BROKER_LOGGER_CONFIG',
  'CLIENT_METRICS_CONFIG',
  'GROUP_CONFIG',
];

export interface ConfigResource {
  type: ResourceType;
  name: string;
  /** Only these keys (null or absent: every key). */
  keys?: readonly string[] | null;
}

export interface ConfigEntry {
  name: string;
  /** null for sensitive values and unset keys. */
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  source: string;
  sensitive: boolean;
}

export interface DescribedConfigs {
  type: ResourceType;
  name: string;
  entries: ConfigEntry[];
  error: KafkaResponseError | null;
}

export type ConfigOperation = { op: 'set'; name: string; value: string } | { op: 'delete'; name: string } | { op: 'append' | 'subtract'; name: string; value: string };

const OPERATION_CODE = { set: 0, delete: 1, append: 2, subtract: 3 } as const;

function targetOf(type: ResourceType, name: string): Target {
  return type === 'broker' ? { node: Number(name) } : 'any';
}

export async function describeConfigs(core: ClientCore, resources: readonly ConfigResource[]): Promise<DescribedConfigs[]> {
  return Promise.all(resources.map((r) => describeOne(core, r)));
}

async function describeOne(core: ClientCore, r: ConfigResource): Promise<DescribedConfigs> {
  const { version, body } = await core.retry(() =>
    core.request(targetOf(r.type, r.name), API_KEYS.DescribeConfigs, () => ({
      resources: [{ resourceType: RESOURCE_TYPE_CODE[r.type], resourceName: r.name, configurationKeys: r.keys ? [...r.keys] : null }],
      includeSynonyms: false,
      includeDocumentation: false,
    })),
  );
  const res = body.results[0];
  if (!res) return { type: r.type, name: r.name, entries: [], error: new KafkaResponseError(-1, `describe configs of ${r.type} ${r.name}: empty answer`) };
  return {
    type: r.type,
    name: r.name,
    error: errorFor(res.errorCode, `describe configs of ${r.type} ${r.name}`, res.errorMessage),
    entries: res.configs
      .map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: c.readOnly,
        // v0 had is_default; v1+ reports where the value comes from instead (5 = DEFAULT_CONFIG).
        isDefault: version === 0 ? c.isDefault : c.configSource === 5,
        source: version === 0 ? (c.isDefault ? 'DEFAULT_CONFIG' : 'UNKNOWN') : (CONFIG_SOURCES[c.configSource] ?? `SOURCE_${c.configSource}`),
        sensitive: c.isSensitive,
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** Applies `operations` to one resource atomically (the broker validates them all before changing any). */
export async function alterConfigs(core: ClientCore, type: ResourceType, name: string, operations: readonly ConfigOperation[], opts: { validateOnly?: boolean } = {}): Promise<KafkaResponseError | null> {
  const key = `${type}:${name}`;
  const found = await retryItems(core, [key], async () => {
    const { body } = await core.request(targetOf(type, name), API_KEYS.IncrementalAlterConfigs, () => ({
      resources: [
        {
          resourceType: RESOURCE_TYPE_CODE[type],
          resourceName: name,
          configs: operations.map((o) => ({ name: o.name, configOperation: OPERATION_CODE[o.op], value: o.op === 'delete' ? null : o.value })),
        },
      ],
      validateOnly: opts.validateOnly ?? false,
    }));
    const r = body.responses[0];
    const error = r ? errorFor(r.errorCode, `alter configs of ${type} ${name}`, r.errorMessage) : new KafkaResponseError(-1, `alter configs of ${type} ${name}: empty answer`);
    return new Map([[key, { error }]]);
  }, (err) => err.retriable && err.kafkaName !== 'UNKNOWN_TOPIC_OR_PARTITION');
  return found.get(key)?.error ?? null;
}
