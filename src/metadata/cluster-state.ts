/**
 * The controller's state machine: topics, their partitions and configs, and the producer-id allocator.
 * Pure: commands in, results out, no I/O. The same code applies commands on a single broker (persisted
 * as a snapshot file) and, with replication, as the applied state machine of Raft group 0.
 * Ids and timestamps are inside the commands, so applying a command is deterministic.
 */
import { assert } from '../util/assert.ts';
import { checkTopicConfigs } from './topic-configs.ts';
import { isInternalTopic, topicNameProblem } from './topic-name.ts';

export interface TopicRecord {
  readonly name: string;
  /** Topic id (KIP-516): a random UUID in its usual dashed form, never the zero UUID. */
  readonly topicId: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly configs: Readonly<Record<string, string>>;
  readonly createdAtMs: number;
}

export type MetadataCommand =
  | { type: 'create-topic'; name: string; topicId: string; partitions: number; replicationFactor: number; configs: Record<string, string>; timestampMs: number }
  | { type: 'delete-topic'; name: string }
  | { type: 'create-partitions'; name: string; totalCount: number }
  | { type: 'alter-configs'; name: string; set: Record<string, string>; remove: string[] }
  | { type: 'allocate-producer-ids'; count: number };

/** Kafka error names the broker maps to codes; null means success. */
export type MetadataError =
  | 'TOPIC_ALREADY_EXISTS'
  | 'UNKNOWN_TOPIC_OR_PARTITION'
  | 'INVALID_TOPIC_EXCEPTION'
  | 'INVALID_PARTITIONS'
  | 'INVALID_REPLICATION_FACTOR'
  | 'INVALID_CONFIG'
  | 'TOPIC_AUTHORIZATION_FAILED';

export interface MetadataResult {
  error: MetadataError | null;
  message?: string;
  /** allocate-producer-ids: the first id of the allocated block. */
  firstProducerId?: bigint;
}

export const MAX_PARTITIONS_PER_TOPIC = 10_000;

export interface ClusterSnapshot {
  version: 1;
  clusterId: string;
  topics: TopicRecord[];
  nextProducerId: string;
}

export class ClusterState {
  private readonly topicsByName = new Map<string, TopicRecord>();
  private nextProducerId = 0n;

  constructor(readonly clusterId: string, private readonly replicaCount = 1) {
    assert(clusterId.length > 0, 'cluster id is empty');
  }

  topic(name: string): TopicRecord | undefined {
    return this.topicsByName.get(name);
  }

  topics(): TopicRecord[] {
    return [...this.topicsByName.values()];
  }

  topicById(topicId: string): TopicRecord | undefined {
    for (const t of this.topicsByName.values()) if (t.topicId === topicId) return t;
    return undefined;
  }

  /** Checks a command without applying it (so handlers can answer validate_only requests). */
  validate(cmd: MetadataCommand): MetadataResult {
    switch (cmd.type) {
      case 'create-topic': {
        const problem = topicNameProblem(cmd.name);
        if (problem) return { error: 'INVALID_TOPIC_EXCEPTION', message: problem };
        if (this.topicsByName.has(cmd.name)) return { error: 'TOPIC_ALREADY_EXISTS', message: `Topic '${cmd.name}' already exists.` };
        if (!Number.isInteger(cmd.partitions) || cmd.partitions < 1 || cmd.partitions > MAX_PARTITIONS_PER_TOPIC) {
          return { error: 'INVALID_PARTITIONS', message: `Number of partitions must be between 1 and ${MAX_PARTITIONS_PER_TOPIC}.` };
        }
        if (cmd.replicationFactor < 1 || cmd.replicationFactor > this.replicaCount) {
          return {
            error: 'INVALID_REPLICATION_FACTOR',
            message: `Replication factor: ${cmd.replicationFactor} larger than available brokers: ${this.replicaCount}.`,
          };
        }
        const configProblem = checkTopicConfigs(cmd.configs);
        if (configProblem) return { error: 'INVALID_CONFIG', message: configProblem };
        return { error: null };
      }
      case 'delete-topic':
        if (!this.topicsByName.has(cmd.name)) return { error: 'UNKNOWN_TOPIC_OR_PARTITION', message: `Topic '${cmd.name}' does not exist.` };
        if (isInternalTopic(cmd.name)) return { error: 'TOPIC_AUTHORIZATION_FAILED', message: `Internal topic '${cmd.name}' cannot be deleted.` };
        return { error: null };
      case 'create-partitions': {
        const t = this.topicsByName.get(cmd.name);
        if (!t) return { error: 'UNKNOWN_TOPIC_OR_PARTITION', message: `Topic '${cmd.name}' does not exist.` };
        if (cmd.totalCount <= t.partitions) {
          return { error: 'INVALID_PARTITIONS', message: `Topic currently has ${t.partitions} partitions, which is higher than the requested ${cmd.totalCount}.` };
        }
        if (cmd.totalCount > MAX_PARTITIONS_PER_TOPIC) return { error: 'INVALID_PARTITIONS', message: `At most ${MAX_PARTITIONS_PER_TOPIC} partitions.` };
        return { error: null };
      }
      case 'alter-configs': {
        if (!this.topicsByName.has(cmd.name)) return { error: 'UNKNOWN_TOPIC_OR_PARTITION', message: `Topic '${cmd.name}' does not exist.` };
        const configProblem = checkTopicConfigs(cmd.set);
        if (configProblem) return { error: 'INVALID_CONFIG', message: configProblem };
        return { error: null };
      }
      case 'allocate-producer-ids':
        assert(cmd.count > 0, 'producer id block must be positive');
        return { error: null };
    }
  }

  apply(cmd: MetadataCommand): MetadataResult {
    const verdict = this.validate(cmd);
    if (verdict.error) return verdict;
    switch (cmd.type) {
      case 'create-topic':
        this.topicsByName.set(cmd.name, {
          name: cmd.name,
          topicId: cmd.topicId,
          partitions: cmd.partitions,
          replicationFactor: cmd.replicationFactor,
          configs: { ...cmd.configs },
          createdAtMs: cmd.timestampMs,
        });
        return { error: null };
      case 'delete-topic':
        this.topicsByName.delete(cmd.name);
        return { error: null };
      case 'create-partitions': {
        const t = this.topicsByName.get(cmd.name)!;
        this.topicsByName.set(cmd.name, { ...t, partitions: cmd.totalCount });
        return { error: null };
      }
      case 'alter-configs': {
        const t = this.topicsByName.get(cmd.name)!;
        const configs = { ...t.configs, ...cmd.set };
        for (const key of cmd.remove) delete configs[key];
        this.topicsByName.set(cmd.name, { ...t, configs });
        return { error: null };
      }
      case 'allocate-producer-ids': {
        const first = this.nextProducerId;
        this.nextProducerId += BigInt(cmd.count);
        return { error: null, firstProducerId: first };
      }
    }
  }

  snapshot(): ClusterSnapshot {
    return { version: 1, clusterId: this.clusterId, topics: this.topics(), nextProducerId: this.nextProducerId.toString() };
  }

  static restore(snapshot: ClusterSnapshot, replicaCount = 1): ClusterState {
    assert(snapshot.version === 1, `unknown metadata snapshot version ${snapshot.version}`);
    const state = new ClusterState(snapshot.clusterId, replicaCount);
    for (const t of snapshot.topics) state.topicsByName.set(t.name, t);
    state.nextProducerId = BigInt(snapshot.nextProducerId);
    return state;
  }
}
