/**
 * Who leads what, as this broker knows it: the brokers clients may reach, the controller, each
 * partition's leader, replicas and in-sync replicas, and whether this broker may serve a partition.
 * Kafka handlers answer leaders, replicas and coordinators from here and never from this broker's own
 * id, so the same handlers serve a single broker (solo-cluster-view.ts) and a cluster.
 */
import type { TopicRecord } from '../metadata/cluster-state.ts';
import type { Partition } from './partition.ts';

/** A broker as clients reach it (Metadata, DescribeCluster, FindCoordinator). */
export interface BrokerEndpoint {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

/**
 * Whether this broker serves a partition's produce and fetch requests:
 * - `leader`: it leads the partition, whose log is `partition`;
 * - `elsewhere`: another broker (`leader`) leads it: NOT_LEADER_OR_FOLLOWER, clients refresh metadata;
 * - `unavailable`: no broker leads it right now (being created, electing, its leader down):
 *   LEADER_NOT_AVAILABLE or NOT_LEADER_OR_FOLLOWER, both retriable;
 * - `offline`: its log here cannot be read or written (a failed disk, corruption): KAFKA_STORAGE_ERROR.
 */
export type PartitionRoute =
  | { readonly kind: 'leader'; readonly partition: Partition }
  | { readonly kind: 'elsewhere'; readonly leader: number }
  | { readonly kind: 'unavailable'; readonly reason: string }
  | { readonly kind: 'offline'; readonly reason: string };

/** A partition as Metadata describes it. */
export interface PartitionView {
  /** -1 when no broker leads it. */
  readonly leader: number;
  readonly leaderEpoch: number;
  /** Assigned replicas, the preferred leader first. */
  readonly replicas: readonly number[];
  /** Replicas caught up with the leader (the leader included). */
  readonly isr: readonly number[];
  /** Replicas whose log is offline. */
  readonly offline: readonly number[];
  /** Why there is no leader, when there is none; `offline` when the leader's log is offline. */
  readonly status: 'online' | 'unavailable' | 'offline';
}

export interface ClusterView {
  /** This broker's id (for answers about this broker itself, such as its own configs). */
  readonly brokerId: number;
  /** The brokers clients may connect to, in id order. */
  brokers(): BrokerEndpoint[];
  /** The broker leading the controller, or -1 when none is known. */
  controllerId(): number;
  partition(topic: TopicRecord, index: number): PartitionView;
  route(topic: TopicRecord, index: number): PartitionRoute;
  /**
   * The broker coordinating `key` (a consumer group on `__consumer_offsets`, a transactional id on
   * `__transaction_state`): the leader of the key's partition of that topic, or null when none can now.
   */
  coordinator(topic: string, key: string): BrokerEndpoint | null;
}
