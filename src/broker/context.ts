/**
 * What every Kafka API handler may use. Built once per broker by the composition root (src/app).
 * Handlers reach storage only through the replication layer's partition API.
 */
import type { BrokerConfig } from '../config/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { MetadataStore } from '../replication/metadata-store.ts';
import type { PartitionManager } from '../replication/partition-manager.ts';
import type { GroupCoordinator } from '../groups/group-coordinator.ts';
import type { KafkaMetrics } from '../observability/kafka-metrics.ts';
import type { TopicService } from './topic-service.ts';

export interface BrokerContext {
  readonly nodeId: number;
  /** The host and port clients reach this broker at (Metadata, FindCoordinator). */
  readonly advertisedHost: string;
  readonly advertisedPort: number;
  readonly config: BrokerConfig;
  readonly metadata: MetadataStore;
  readonly partitions: PartitionManager;
  readonly topics: TopicService;
  readonly groups: GroupCoordinator;
  readonly metrics: KafkaMetrics;
  readonly log: Logger;
  /** Milliseconds since the epoch (injected, so tests can move time). */
  now(): number;
}
