/**
 * Topic lifecycle on this broker: metadata first (the source of truth, persisted before anything is
 * acknowledged), then the partition logs. Used by CreateTopics, DeleteTopics, CreatePartitions,
 * IncrementalAlterConfigs, Metadata auto-creation and Produce auto-creation.
 */
import { randomUUID } from 'node:crypto';
import type { BrokerConfig } from '../config/index.ts';
import type { MetadataService } from '../replication/metadata-service.ts';
import type { LogSettings, PartitionManager } from '../replication/partition-manager.ts';

/**
 * What topic changes do to this broker's partition logs. A lone broker opens and removes them here
 * (PartitionManager); a broker in a cluster hands them to its partition hosting, which opens only the
 * partitions this broker hosts.
 */
export type TopicPartitions = Pick<PartitionManager, 'open' | 'removeTopic' | 'reconfigure'>;
import { MAX_PARTITIONS_PER_TOPIC, type MetadataError, type TopicRecord } from '../metadata/cluster-state.ts';
import { effectiveTopicConfigs } from '../metadata/topic-configs.ts';
import { retentionMsOf } from './broker-configs.ts';
import { topicNameProblem } from '../metadata/topic-name.ts';
import type { Logger } from '../observability/logger.ts';

export interface TopicResult {
  error: MetadataError | null;
  message?: string;
  topic?: TopicRecord;
}

export class TopicService {
  private readonly creating = new Map<string, Promise<TopicResult>>();
  /** Effective configs per topic record; records are replaced (never changed) when configs change. */
  private readonly configsCache = new WeakMap<TopicRecord, Readonly<Record<string, string>>>();

  constructor(
    private readonly config: BrokerConfig,
    private readonly metadata: MetadataService,
    private readonly partitions: TopicPartitions,
    private readonly log: Logger,
    private readonly now: () => number,
    /** Brokers new replicas may go to (reachable ones); all registered brokers when absent. */
    private readonly usable: (brokerId: number) => boolean = () => true,
  ) {}

  /** Broker-wide defaults that topic configs fall back to (from broker.yaml). */
  brokerTopicDefaults(): Record<string, string> {
    const s = this.config.storage;
    return {
      'retention.ms': String(retentionMsOf(s.retentionDays)),
      'retention.bytes': String(s.retentionBytes),
      'segment.bytes': String(s.segmentBytes),
      'segment.ms': String(s.segmentMs),
      'max.message.bytes': String(this.config.kafka.messageMaxBytes),
      // Broker-wide only (a topic's own value is stored, not acted on), reported as what applies.
      'index.interval.bytes': String(s.indexIntervalBytes),
      'flush.ms': String(s.syncInterval),
    };
  }

  /** The topic's configs with broker and built-in defaults filled in (cached: produce reads them per request). */
  effectiveConfigs(topic: TopicRecord): Readonly<Record<string, string>> {
    let configs = this.configsCache.get(topic);
    if (!configs) {
      configs = Object.freeze(effectiveTopicConfigs(topic.configs, this.brokerTopicDefaults()));
      this.configsCache.set(topic, configs);
    }
    return configs;
  }

  logSettings(topic: TopicRecord): LogSettings {
    const c = this.effectiveConfigs(topic);
    return {
      segmentBytes: Number(c['segment.bytes']),
      segmentMs: Number(c['segment.ms']),
      retentionMs: Number(c['retention.ms']),
      retentionBytes: Number(c['retention.bytes']),
      compact: c['cleanup.policy']!.split(',').includes('compact'),
      deleteRetentionMs: Number(c['delete.retention.ms']),
      maxMessageBytes: Number(c['max.message.bytes']),
    };
  }

  /** Opens the partitions of every known topic (start-up). Returns how many partitions are offline. */
  async openAll(): Promise<number> {
    let offline = 0;
    for (const topic of this.metadata.state.topics()) {
      const failures = await this.partitions.open(topic.name, topic.partitions, this.logSettings(topic), false);
      for (const f of failures) this.log.error({ topic: topic.name, partition: f.index, err: f.error }, 'partition offline');
      offline += failures.length;
    }
    return offline;
  }

  /**
   * Creates a topic. numPartitions/replicationFactor of -1 mean the broker defaults (kafkajs sends -1
   * even at CreateTopics v3); `manualAssignments` (replicas per partition, in partition order) replace
   * both. Concurrent creations of one name share one attempt.
   */
  create(
    name: string,
    numPartitions: number,
    replicationFactor: number,
    configs: Record<string, string>,
    validateOnly = false,
    manualAssignments: number[][] | null = null,
    timeoutMs?: number,
  ): Promise<TopicResult> {
    const pending = this.creating.get(name);
    if (pending && !validateOnly) return pending.then((r) => (r.error ? r : { error: 'TOPIC_ALREADY_EXISTS', message: `Topic '${name}' already exists.` }));
    const partitions = manualAssignments?.length ?? (numPartitions === -1 ? this.config.kafka.defaultPartitions : numPartitions);
    const factor = manualAssignments?.[0]?.length ?? (replicationFactor === -1 ? this.config.kafka.defaultReplicationFactor : replicationFactor);
    const cmd = {
      type: 'create-topic' as const,
      name,
      topicId: randomUUID(),
      partitions,
      replicationFactor: factor,
      // Manual assignments go through the same checks as computed ones (unknown brokers, duplicates, sizes).
      assignments: manualAssignments ?? this.metadata.state.proposeAssignments(partitions, factor, this.usable),
      configs,
      timestampMs: this.now(),
    };
    const shortOfBrokers = this.shortOfBrokers(manualAssignments === null ? cmd.assignments : null, partitions, factor);
    if (shortOfBrokers !== null) return Promise.resolve(shortOfBrokers);
    if (validateOnly) return Promise.resolve(this.metadata.state.validate(cmd));
    const run = (async (): Promise<TopicResult> => {
      const result = await this.metadata.submit(cmd, timeoutMs);
      if (result.error) return result;
      const topic = this.metadata.state.topic(name);
      if (topic === undefined) return notVisible(name);
      const failures = await this.partitions.open(name, topic.partitions, this.logSettings(topic), true);
      for (const f of failures) this.log.error({ topic: name, partition: f.index, err: f.error }, 'new partition could not be created');
      this.log.info({ topic: name, partitions: topic.partitions, configs }, 'topic created');
      return { error: null, topic };
    })();
    this.creating.set(name, run);
    return run.finally(() => this.creating.delete(name));
  }

  /**
   * Whether this broker is still creating the topic: committed to the metadata, its partitions not yet
   * open. Listings leave such a topic out (its CreateTopics has not answered yet), so a client listing
   * every topic does not meet partitions without a leader while others create topics.
   */
  isBeingCreated(name: string): boolean {
    return this.creating.has(name);
  }

  /** Creates a topic on first use when auto-creation is on; null when it may not be created. */
  async autoCreate(name: string): Promise<TopicResult | null> {
    if (!this.config.kafka.autoCreateTopics || topicNameProblem(name)) return null;
    const result = await this.create(name, -1, -1, {});
    if (result.error !== 'TOPIC_ALREADY_EXISTS') return result;
    const topic = this.metadata.state.topic(name);
    return topic === undefined ? notVisible(name) : { error: null, topic };
  }

  async delete(name: string): Promise<TopicResult> {
    const topic = this.metadata.state.topic(name);
    const result = await this.metadata.submit({ type: 'delete-topic', name });
    if (result.error) return result;
    await this.partitions.removeTopic(name, topic?.partitions ?? 0);
    this.log.info({ topic: name }, 'topic deleted');
    return { error: null };
  }

  async addPartitions(name: string, totalCount: number, validateOnly: boolean): Promise<TopicResult> {
    const topic = this.metadata.state.topic(name);
    const added = topic ? totalCount - topic.partitions : 0;
    const assignments = topic ? this.metadata.state.proposeAssignments(added, topic.replicationFactor, this.usable) : [];
    const shortOfBrokers = topic ? this.shortOfBrokers(assignments, added, topic.replicationFactor) : null;
    if (shortOfBrokers !== null) return shortOfBrokers;
    const cmd = { type: 'create-partitions' as const, name, totalCount, assignments };
    if (validateOnly) return this.metadata.state.validate(cmd);
    const result = await this.metadata.submit(cmd);
    if (result.error) return result;
    const grown = this.metadata.state.topic(name);
    if (grown === undefined) return notVisible(name);
    await this.partitions.open(name, grown.partitions, this.logSettings(grown), false);
    return { error: null, topic: grown };
  }

  /**
   * A placement that found too few brokers although enough are registered: some are not reachable
   * from here (just started, or down) or are being decommissioned. Said so, rather than as an empty
   * assignment list; null when the placement succeeded or failed for a reason validation reports.
   */
  private shortOfBrokers(assignments: readonly number[][] | null, partitions: number, factor: number): TopicResult | null {
    if (assignments === null || assignments.length > 0 || !Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS_PER_TOPIC) return null;
    const state = this.metadata.state;
    const registered = state.availableBrokers();
    if (!Number.isInteger(factor) || factor < 1 || factor > registered.length) return null;
    const usable = registered.filter((b) => this.usable(b.id) && state.broker(b.id)?.draining !== true).length;
    return {
      error: 'INVALID_REPLICATION_FACTOR',
      message:
        `Replication factor: ${factor} larger than available brokers: ${usable} (${registered.length} registered; ` +
        `${registered.length - usable} not reachable from this broker or being decommissioned). Retry once they are up.`,
    };
  }

  async alterConfigs(name: string, set: Record<string, string>, remove: string[], validateOnly: boolean): Promise<TopicResult> {
    const cmd = { type: 'alter-configs' as const, name, set, remove };
    if (validateOnly) return this.metadata.state.validate(cmd);
    const result = await this.metadata.submit(cmd);
    if (result.error) return result;
    const topic = this.metadata.state.topic(name);
    if (topic === undefined) return notVisible(name);
    this.partitions.reconfigure(name, this.logSettings(topic));
    return result;
  }
}

/**
 * The controller applied a change, but this broker's metadata does not show the topic (it fell behind,
 * or a later command removed it): retriable, as Kafka answers while its metadata propagates.
 */
function notVisible(name: string): TopicResult {
  return { error: 'REQUEST_TIMED_OUT', message: `Topic '${name}' is not visible on this broker yet; retry.` };
}
