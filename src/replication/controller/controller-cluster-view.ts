/**
 * The ClusterView of a broker in a cluster, from the controller's metadata: the registered brokers,
 * the controller's leader, and each partition's assignment.
 *
 * Partition leadership in this step: partitions are not replicated yet, so a partition's data lives on
 * its preferred replica (the first of its assignment) alone. That broker leads it while it is
 * reachable; when it is not, the partition has no leader (LEADER_NOT_AVAILABLE), because no other
 * replica holds its data. The in-sync replicas are the leader alone, which is what Metadata shows:
 * every partition with more than one assigned replica is under-replicated, and says so. Per-partition
 * Raft groups replace this rule (docs/replication.md).
 */
import type { TopicRecord } from '../../metadata/cluster-state.ts';
import { offsetsPartitionFor } from '../../metadata/offsets-partition.ts';
import type { BrokerEndpoint, ClusterView, PartitionRoute, PartitionView } from '../cluster-view.ts';
import type { MetadataService } from '../metadata-service.ts';
import type { PartitionManager } from '../partition-manager.ts';

export interface ControllerClusterViewOptions {
  readonly brokerId: number;
  readonly metadata: MetadataService;
  readonly partitions: PartitionManager;
  /** The controller's leader as this broker knows it, or -1. */
  readonly controllerId: () => number;
  /** Whether broker `id` is reachable from here (this broker always is). */
  readonly isAlive: (id: number) => boolean;
  /** The partition coordinating consumer groups (`__consumer_offsets`), when it exists. */
  readonly offsetsTopic: string;
}

export class ControllerClusterView implements ClusterView {
  readonly brokerId: number;

  constructor(private readonly options: ControllerClusterViewOptions) {
    this.brokerId = options.brokerId;
  }

  /**
   * The registered brokers this broker reaches (itself included): as Kafka leaves fenced brokers out
   * of Metadata, clients are not sent to a broker that is down. Replica lists still name it.
   */
  brokers(): BrokerEndpoint[] {
    return this.options.metadata.state
      .brokers()
      .filter((b) => this.alive(b.id))
      .map(({ id, host, port, rack }) => ({ id, host, port, rack }));
  }

  controllerId(): number {
    return this.options.controllerId();
  }

  /** The preferred replica while it is reachable; -1 otherwise. */
  leaderOf(topic: TopicRecord, index: number): number {
    const preferred = topic.assignments[index]?.[0];
    if (preferred === undefined || !this.alive(preferred)) return -1;
    return preferred;
  }

  partition(topic: TopicRecord, index: number): PartitionView {
    const replicas = topic.assignments[index] ?? [];
    const offline = replicas.filter((id) => !this.alive(id));
    const leader = this.leaderOf(topic, index);
    if (leader === -1) return { leader, leaderEpoch: 0, replicas, isr: [], offline, status: 'unavailable' };
    if (leader === this.brokerId) {
      const route = this.route(topic, index);
      if (route.kind === 'offline') return { leader: -1, leaderEpoch: 0, replicas, isr: [], offline: [...offline, leader], status: 'offline' };
      if (route.kind !== 'leader') return { leader: -1, leaderEpoch: 0, replicas, isr: [], offline, status: 'unavailable' };
      return { leader, leaderEpoch: route.partition.leaderEpoch, replicas, isr: [leader], offline, status: 'online' };
    }
    return { leader, leaderEpoch: 0, replicas, isr: [leader], offline, status: 'online' };
  }

  route(topic: TopicRecord, index: number): PartitionRoute {
    const leader = this.leaderOf(topic, index);
    if (leader === -1) return { kind: 'unavailable', reason: `the preferred replica of ${topic.name}-${index} is unreachable` };
    if (leader !== this.brokerId) return { kind: 'elsewhere', leader };
    const partition = this.options.partitions.get(topic.name, index);
    if (partition !== undefined) return { kind: 'leader', partition };
    const reason = this.options.partitions.offlineReason(topic.name, index);
    if (reason !== null) return { kind: 'offline', reason };
    return { kind: 'unavailable', reason: `partition ${topic.name}-${index} is being opened` };
  }

  /** The leader of the group's offsets partition, when it is known and registered. */
  groupCoordinator(groupId: string): BrokerEndpoint | null {
    const topic = this.options.metadata.state.topic(this.options.offsetsTopic);
    if (topic === undefined) return null;
    const leader = this.leaderOf(topic, offsetsPartitionFor(groupId, topic.partitions));
    return this.brokers().find((b) => b.id === leader) ?? null;
  }

  private alive(id: number): boolean {
    return id === this.brokerId || this.options.isAlive(id);
  }
}
