/**
 * A partition's leader, epoch and replica lists as Metadata and DescribeTopicPartitions answer them,
 * from the cluster view (fresh arrays: the answer owns them).
 */
import type { PartitionView } from '../replication/cluster-view.ts';

export function replicaFields(view: PartitionView): { leaderId: number; leaderEpoch: number; replicaNodes: number[]; isrNodes: number[]; offlineReplicas: number[] } {
  return { leaderId: view.leader, leaderEpoch: view.leaderEpoch, replicaNodes: [...view.replicas], isrNodes: [...view.isr], offlineReplicas: [...view.offline] };
}
