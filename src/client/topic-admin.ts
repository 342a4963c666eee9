/**
 * Topic administration: CreateTopics, DeleteTopics and CreatePartitions, sent to the controller as
 * Kafka requires (any other broker answers NOT_CONTROLLER, which is retried after a metadata refresh).
 * Results are per topic; a topic missing from the broker's answer gets UNKNOWN_SERVER_ERROR.
 */
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import type { ClientCore } from './client-core.ts';
import { errorFor, KafkaResponseError } from './kafka-error.ts';
import { retryItems } from './item-retry.ts';
import type { ItemResult } from './types.ts';

export interface NewTopic {
  name: string;
  /** -1 or absent: the broker's default. */
  partitions?: number;
  /** -1 or absent: the broker's default. */
  replicationFactor?: number;
  configs?: Readonly<Record<string, string>>;
}

export interface CreatedTopic extends ItemResult {
  /** The topic id (CreateTopics v7+), else null. */
  topicId: string | null;
  /** As created (v5+), else as requested (-1 = broker default). */
  partitions: number;
  replicationFactor: number;
}

export interface AdminOptions {
  /** How long the controller may take (the request's timeout_ms). */
  timeoutMs?: number;
  validateOnly?: boolean;
}

/** UNKNOWN_TOPIC_OR_PARTITION is retriable for reads racing a creation, but final for delete and alter. */
const unlessUnknownTopic = (err: KafkaResponseError) => err.retriable && err.kafkaName !== 'UNKNOWN_TOPIC_OR_PARTITION';

function missing<T extends ItemResult>(names: readonly string[], found: Map<string, T>, make: (name: string, error: KafkaResponseError) => T): T[] {
  return names.map((n) => found.get(n) ?? make(n, new KafkaResponseError(-1, `${n}: the broker's answer did not mention it`)));
}

export async function createTopics(core: ClientCore, topics: readonly NewTopic[], opts: AdminOptions = {}): Promise<CreatedTopic[]> {
  const spec = new Map(topics.map((t) => [t.name, t]));
  const found = await retryItems(core, [...spec.keys()], async (pending) => {
    const { version, body } = await core.request('controller', API_KEYS.CreateTopics, () => ({
      topics: pending.map((name) => {
        const t = spec.get(name)!;
        return {
          name,
          numPartitions: t.partitions ?? -1,
          replicationFactor: t.replicationFactor ?? -1,
          assignments: [],
          configs: Object.entries(t.configs ?? {}).map(([k, value]) => ({ name: k, value })),
        };
      }),
      timeoutMs: opts.timeoutMs ?? 30_000,
      validateOnly: opts.validateOnly ?? false,
    }));
    return new Map(
      body.topics.map((r) => {
        const requested = spec.get(r.name);
        return [
          r.name,
          {
            name: r.name,
            error: errorFor(r.errorCode, `create topic ${r.name}`, r.errorMessage),
            topicId: version >= 7 ? r.topicId : null,
            partitions: version >= 5 ? r.numPartitions : (requested?.partitions ?? -1),
            replicationFactor: version >= 5 ? r.replicationFactor : (requested?.replicationFactor ?? -1),
          },
        ];
      }),
    );
  });
  return missing(topics.map((t) => t.name), found, (name, error) => ({ name, error, topicId: null, partitions: -1, replicationFactor: -1 }));
}

export async function deleteTopics(core: ClientCore, names: readonly string[], opts: AdminOptions = {}): Promise<ItemResult[]> {
  const found = await retryItems(core, names, async (pending) => {
    const { body } = await core.request('controller', API_KEYS.DeleteTopics, (v) =>
      // v6 names topics in `topics` (by name or id); earlier versions in `topic_names`.
      v >= 6 ? { topics: pending.map((name) => ({ name })), timeoutMs: opts.timeoutMs ?? 30_000 } : { topicNames: pending, timeoutMs: opts.timeoutMs ?? 30_000 },
    );
    return new Map(body.responses.map((r) => [r.name ?? '', { name: r.name ?? '', error: errorFor(r.errorCode, `delete topic ${r.name}`, r.errorMessage) }]));
  }, unlessUnknownTopic);
  return missing(names, found, (name, error) => ({ name, error }));
}

/** Raises each topic's partition count to `count` (never lowers it: Kafka refuses with INVALID_PARTITIONS). */
export async function createPartitions(core: ClientCore, topics: readonly { topic: string; count: number }[], opts: AdminOptions = {}): Promise<ItemResult[]> {
  const counts = new Map(topics.map((t) => [t.topic, t.count]));
  const found = await retryItems(core, [...counts.keys()], async (pending) => {
    const { body } = await core.request('controller', API_KEYS.CreatePartitions, () => ({
      topics: pending.map((name) => ({ name, count: counts.get(name)!, assignments: null })),
      timeoutMs: opts.timeoutMs ?? 30_000,
      validateOnly: opts.validateOnly ?? false,
    }));
    return new Map(body.results.map((r) => [r.name, { name: r.name, error: errorFor(r.errorCode, `create partitions of ${r.name}`, r.errorMessage) }]));
  }, unlessUnknownTopic);
  return missing([...counts.keys()], found, (name, error) => ({ name, error }));
}
