/**
 * The one check produce, fetch, list-offsets and offset-for-leader-epoch make before touching a
 * partition: does this broker lead it, and is the client's leader epoch current? The answer is the
 * partition or the Kafka error a client acts on (refresh metadata and retry for every one of them
 * except a storage error).
 */
import { KafkaErrorCode } from '../protocol/kafka/error-codes.ts';
import type { TopicRecord } from '../metadata/cluster-state.ts';
import type { Partition } from '../replication/partition.ts';
import type { BrokerContext } from './context.ts';

export type PartitionAccess =
  | { readonly partition: Partition; readonly errorCode: 0 }
  | { readonly partition: undefined; readonly errorCode: number; readonly message: string | null };

/** `currentLeaderEpoch` is the epoch the client knows (-1: none, no check). */
export function leaderPartition(ctx: BrokerContext, topic: TopicRecord, index: number, currentLeaderEpoch = -1): PartitionAccess {
  const route = ctx.cluster.route(topic, index);
  switch (route.kind) {
    case 'leader': {
      const epoch = route.partition.leaderEpoch;
      if (currentLeaderEpoch < 0 || currentLeaderEpoch === epoch) return { partition: route.partition, errorCode: 0 };
      // A newer epoch than ours: this broker has not caught up yet. An older one: the client is behind.
      const errorCode = currentLeaderEpoch > epoch ? KafkaErrorCode.UNKNOWN_LEADER_EPOCH : KafkaErrorCode.FENCED_LEADER_EPOCH;
      return { partition: undefined, errorCode, message: null };
    }
    case 'elsewhere':
      return { partition: undefined, errorCode: KafkaErrorCode.NOT_LEADER_OR_FOLLOWER, message: `broker ${route.leader} leads ${topic.name}-${index}` };
    case 'unavailable':
      return { partition: undefined, errorCode: KafkaErrorCode.LEADER_NOT_AVAILABLE, message: route.reason };
    case 'offline':
      return { partition: undefined, errorCode: KafkaErrorCode.KAFKA_STORAGE_ERROR, message: route.reason };
  }
}
