/**
 * Topic administration, the one implementation behind `streambus topic ...` and the admin API's
 * /api/v1/topics routes: each operation takes a KafkaClient (the CLI's, or the broker's loopback client
 * acting with the HTTP caller's credentials) and returns the JSON shape both print.
 *
 * Errors: AdminError for what the operation itself finds (the topic does not exist);
 * the broker's other refusals stay KafkaResponseError (INVALID_CONFIG, TOPIC_AUTHORIZATION_FAILED, ...).
 */
import type { ConfigEntry, ConfigOperation, KafkaClient } from '../client/index.ts';
import { AdminError } from './admin-error.ts';
import { existingTopic } from './existing-topic.ts';

export interface ListedTopic {
  name: string;
  topicId: string | null;
  partitions: number;
  internal: boolean;
}

export interface TopicPartitionStatus {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  logStartOffset: bigint;
  highWatermark: bigint;
}

export interface TopicDescription {
  name: string;
  topicId: string | null;
  internal: boolean;
  partitions: TopicPartitionStatus[];
  configs: ConfigEntry[];
}

export interface NewTopicSpec {
  name: string;
  /** -1: the broker's default. */
  partitions: number;
  /** -1: the broker's default. */
  replicationFactor: number;
  configs: Record<string, string>;
  /** Succeed (created: false) when the topic exists already. */
  ifNotExists: boolean;
}

export type TopicCreation = { name: string; created: true; topicId: string | null; partitions: number; replicationFactor: number } | { name: string; created: false };

const notFound = (name: string) => new AdminError('SB_ERR_NOT_FOUND', 'UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);

/** Topics sorted by name; internal ones (__consumer_offsets) only when asked for. */
export async function listTopics(client: KafkaClient, includeInternal: boolean): Promise<ListedTopic[]> {
  const md = await client.metadata(null);
  return md.topics
    .filter((t) => includeInternal || !t.isInternal)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitions.length, internal: t.isInternal }));
}

/** Partitions (leader, replicas, log start and end offsets) and configs of one topic. */
export async function describeTopic(client: KafkaClient, name: string): Promise<TopicDescription> {
  const topic = await existingTopic(client, name);
  const indexes = topic.partitions.map((p) => p.partition);
  const [earliest, latest, configs] = await Promise.all([client.listOffsets(name, indexes, 'earliest', 0), client.listOffsets(name, indexes, 'latest', 0), topicConfigs(client, name)]);
  const partitions = topic.partitions.map((p, i) => ({
    partition: p.partition,
    leader: p.leader,
    leaderEpoch: p.leaderEpoch,
    replicas: p.replicas,
    isr: p.isr,
    offlineReplicas: p.offlineReplicas,
    logStartOffset: earliest[i]!.offset,
    highWatermark: latest[i]!.offset,
  }));
  return { name, topicId: topic.topicId, internal: topic.isInternal, partitions, configs };
}

/** Every config of a topic with its value and source (a sensitive value is null). */
export async function topicConfigs(client: KafkaClient, name: string): Promise<ConfigEntry[]> {
  const [described] = await client.describeConfigs([{ type: 'topic', name }]);
  if (described!.error?.kafkaName === 'UNKNOWN_TOPIC_OR_PARTITION') throw notFound(name);
  if (described!.error) throw described!.error;
  return described!.entries;
}

export async function createTopic(client: KafkaClient, spec: NewTopicSpec): Promise<TopicCreation> {
  const [result] = await client.createTopics([{ name: spec.name, partitions: spec.partitions, replicationFactor: spec.replicationFactor, configs: spec.configs }]);
  const error = result!.error;
  if (error?.kafkaName === 'TOPIC_ALREADY_EXISTS' && spec.ifNotExists) return { name: spec.name, created: false };
  if (error) throw error;
  return { name: result!.name, created: true, topicId: result!.topicId, partitions: result!.partitions, replicationFactor: result!.replicationFactor };
}

/** Deletes a topic and its data; `deleted: false` when it did not exist and `ifExists` allows that. */
export async function deleteTopic(client: KafkaClient, name: string, ifExists: boolean): Promise<{ name: string; deleted: boolean }> {
  const [result] = await client.deleteTopics([name]);
  if (result!.error) {
    if (result!.error.kafkaName !== 'UNKNOWN_TOPIC_OR_PARTITION') throw result!.error;
    if (!ifExists) throw notFound(name);
    return { name, deleted: false };
  }
  return { name, deleted: true };
}

/** Sets and deletes (back to the default) topic configs; other keys stay as they are. */
export async function alterTopicConfigs(client: KafkaClient, name: string, ops: readonly ConfigOperation[]): Promise<{ name: string; altered: ConfigOperation[] }> {
  if (ops.length === 0) throw new AdminError('SB_ERR_INVALID_REQUEST', 'NO_CHANGES', 'name at least one config to set or delete');
  const error = await client.alterConfigs('topic', name, ops);
  if (error?.kafkaName === 'UNKNOWN_TOPIC_OR_PARTITION') throw notFound(name);
  if (error) throw error;
  return { name, altered: [...ops] };
}

/** Raises the partition count of a topic to `count`. */
export async function addPartitions(client: KafkaClient, name: string, count: number): Promise<{ name: string; partitions: number }> {
  const [result] = await client.createPartitions([{ topic: name, count }]);
  if (result!.error?.kafkaName === 'UNKNOWN_TOPIC_OR_PARTITION') throw notFound(name);
  if (result!.error) throw result!.error;
  return { name, partitions: count };
}
