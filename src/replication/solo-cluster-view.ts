/**
 * The ClusterView of a broker that is the whole cluster: it is every partition's only replica and
 * leader, the controller and every group's coordinator. A partition it has not opened yet (a topic
 * being created) is unavailable, not offline: only a log that failed to open is a storage error.
 */
import type { TopicRecord } from '../metadata/cluster-state.ts';
import type { BrokerEndpoint, ClusterView, PartitionRoute, PartitionView } from './cluster-view.ts';
import type { PartitionManager } from './partition-manager.ts';

export class SoloClusterView implements ClusterView {
  readonly brokerId: number;

  constructor(
    private readonly self: BrokerEndpoint,
    private readonly partitions: PartitionManager,
  ) {
    this.brokerId = self.id;
  }

  brokers(): BrokerEndpoint[] {
    return [this.self];
  }

  controllerId(): number {
    return this.self.id;
  }

  partition(topic: TopicRecord, index: number): PartitionView {
    const id = this.self.id;
    const route = this.route(topic, index);
    if (route.kind === 'leader') return { leader: id, leaderEpoch: route.partition.leaderEpoch, replicas: [id], isr: [id], offline: [], status: 'online' };
    const offline = route.kind === 'offline';
    return { leader: -1, leaderEpoch: 0, replicas: [id], isr: [], offline: offline ? [id] : [], status: offline ? 'offline' : 'unavailable' };
  }

  route(topic: TopicRecord, index: number): PartitionRoute {
    const partition = this.partitions.get(topic.name, index);
    if (partition !== undefined) return { kind: 'leader', partition };
    const reason = this.partitions.offlineReason(topic.name, index);
    if (reason !== null) return { kind: 'offline', reason };
    return { kind: 'unavailable', reason: `partition ${topic.name}-${index} is being opened` };
  }

  coordinator(): BrokerEndpoint {
    return this.self;
  }
}
