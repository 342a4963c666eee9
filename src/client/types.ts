/**
 * Public shapes the client returns. Offsets are bigint (Kafka's int64); counts and partition indexes are
 * numbers. Per-item results carry `error: KafkaResponseError | null` instead of throwing, so one bad topic
 * in a batch does not hide the others.
 */
import type { KafkaResponseError } from './kafka-error.ts';

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionInfo {
  partition: number;
  /** -1 when the partition has no leader right now. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  error: KafkaResponseError | null;
}

export interface TopicInfo {
  name: string;
  /** null when the broker's Metadata version carries no topic id (before v10). */
  topicId: string | null;
  isInternal: boolean;
  /** Sorted by partition index. */
  partitions: PartitionInfo[];
  error: KafkaResponseError | null;
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
  topics: TopicInfo[];
}

export interface RecordHeaderInput {
  key: string;
  value: Uint8Array | string | null;
}

export interface ProduceRecord {
  key?: Uint8Array | string | null;
  value: Uint8Array | string | null;
  headers?: readonly RecordHeaderInput[];
  /** Milliseconds since the epoch; defaults to now. */
  timestamp?: number;
}

/** A record read back: keys, values and header values are views into the response (copy to keep). */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  /** Milliseconds since the epoch (LogAppendTime when the topic uses it). */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

export interface ItemResult {
  name: string;
  error: KafkaResponseError | null;
}

export type { TopicPartitions } from '../protocol/kafka/consumer-protocol.ts';

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: bigint;
}
