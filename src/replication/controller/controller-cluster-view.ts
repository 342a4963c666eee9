/**
 * The ClusterView of a broker in a cluster, from the controller's metadata (the registered brokers,
 * the controller's leader, each partition's assignment and Raft group) and the leadership table
 * (who leads each partition's group, at which term, with which in-sync replicas: learnt from the
 * groups hosted here and from the other brokers' leadership gossip).
 *
 * A partition's leader is its group's Raft leader while that broker is reachable; its leader epoch
 * is the Raft term. This broker serves a partition it leads once the replica is ready for writes
 * (partition-replica.ts); until then the partition answers LEADER_NOT_AVAILABLE, which clients retry.
 */
import type { TopicRecord } from '../../metadata/cluster-state.ts';
import { offsetsPartitionFor } from '../../metadata/offsets-partition.ts';
import { replicaSet } from '../../metadata/reassignment.ts';
import type { BrokerEndpoint, ClusterView, PartitionRoute, PartitionView } from '../cluster-view.ts';
import type { MetadataService } from '../metadata-service.ts';
import type { PartitionManager } from '../partition-manager.ts';
import { NO_LEADER, type LeadershipEntry, type LeadershipTable } from '../leadership-table.ts';

export interface ControllerClusterViewOptions {
  readonly brokerId: number;
  readonly metadata: MetadataService;
  readonly partitions: PartitionManager;
  readonly leaders: LeadershipTable;
  /** The controller's leader as this broker knows it, or -1. */
  readonly controllerId: () => number;
  /** Whether broker `id` is reachable from here (this broker always is). */
  readonly isAlive: (id: number) => boolean;
  /** Whether this broker reaches a majority of the controller's voters (itself included). */
  readonly reachesQuorum: () => boolean;
}

export class ControllerClusterView implements ClusterView {
  readonly brokerId: number;

  constructor(private readonly options: ControllerClusterViewOptions) {
    this.brokerId = options.brokerId;
  }

  /**
   * The registered brokers this broker reaches (itself included): as Kafka leaves fenced brokers out
   * of Metadata, clients are not sent to a broker that is down. Replica lists still name it.
   * A broker cut off from the cluster (no controller leader it reaches, and no majority of the
   * controller's voters) is the one whose view cannot be trusted, as in a network split that isolates
   * it: it lists every other registered broker and leaves itself out, as a fenced Kafka broker is left
   * out. Clients that ask it then go to the others: listing only itself made librdkafka forget them and
   * ask it again and again for a leader it cannot know, until the split healed.
   */
  brokers(): BrokerEndpoint[] {
    const controller = this.options.controllerId();
    const cutOff = (controller <= 0 || !this.alive(controller)) && !this.options.reachesQuorum();
    return this.options.metadata.state
      .brokers()
      .filter((b) => (cutOff ? b.id !== this.brokerId : this.alive(b.id)))
      .map(({ id, host, port, rack }) => ({ id, host, port, rack }));
  }

  controllerId(): number {
    return this.options.controllerId();
  }

  /** The Raft leader of the partition's group while it is reachable; -1 otherwise. */
  leaderOf(topic: TopicRecord, index: number): number {
    const entry = this.leadership(topic, index);
    if (entry === undefined || entry.leader === NO_LEADER || !this.alive(entry.leader)) return -1;
    return entry.leader;
  }

  partition(topic: TopicRecord, index: number): PartitionView {
    const replicas = replicaSet(topic, index);
    const offline = replicas.filter((id) => !this.alive(id));
    const entry = this.leadership(topic, index);
    const leaderEpoch = entry?.term ?? 0;
    const leader = this.leaderOf(topic, index);
    if (leader === -1) return { leader, leaderEpoch, replicas, isr: [], offline, status: 'unavailable' };
    if (leader === this.brokerId) {
      const route = this.route(topic, index);
      if (route.kind === 'offline') return { leader: -1, leaderEpoch, replicas, isr: [], offline: [...offline, leader], status: 'offline' };
      if (route.kind !== 'leader') return { leader: -1, leaderEpoch, replicas, isr: [], offline, status: 'unavailable' };
    }
    // The leader's report; a leader not heard from yet counts itself.
    const isr = entry!.isr.length > 0 ? entry!.isr.filter((id) => this.alive(id)) : [leader];
    return { leader, leaderEpoch, replicas, isr, offline, status: 'online' };
  }

  route(topic: TopicRecord, index: number): PartitionRoute {
    const local = this.options.partitions.get(topic.name, index);
    if (local !== undefined && local.writable) return { kind: 'leader', partition: local };
    const reason = this.options.partitions.offlineReason(topic.name, index);
    if (reason !== null) return { kind: 'offline', reason };
    const leader = this.leaderOf(topic, index);
    if (leader === this.brokerId) return { kind: 'unavailable', reason: `this broker was just elected leader of ${topic.name}-${index} and is getting ready` };
    if (leader !== -1) return { kind: 'elsewhere', leader };
    return { kind: 'unavailable', reason: `${topic.name}-${index} has no leader right now (electing, or its replicas are down)` };
  }

  /** The leader of the key's partition of `name`, when it is known and registered. */
  coordinator(name: string, key: string): BrokerEndpoint | null {
    const topic = this.options.metadata.state.topic(name);
    if (topic === undefined) return null;
    const leader = this.leaderOf(topic, offsetsPartitionFor(key, topic.partitions));
    return this.brokers().find((b) => b.id === leader) ?? null;
  }

  private leadership(topic: TopicRecord, index: number): LeadershipEntry | undefined {
    const group = topic.raftGroups[index];
    return group === undefined ? undefined : this.options.leaders.get(group);
  }

  private alive(id: number): boolean {
    return id === this.brokerId || this.options.isAlive(id);
  }
}
