/**
 * WriteTxnMarkers (27), versions 0-1 (WriteTxnMarkersRequest.json; v1 is flexible): writes the commit
 * or abort marker of a producer's transaction to each named partition this broker leads, as Kafka's
 * transaction coordinator asks of partition leaders (an inter-broker API; this broker's own
 * coordinator is still to come, docs/transactions.md). A marker is a control batch
 * (Partition.writeTxnMarker); it closes the producer's open transaction there, an abort is listed
 * for read_committed fetches, and the answer comes once the marker is visible (committed on a Raft
 * group), as Kafka answers with acks=-1. A marker on a `__consumer_offsets` partition also ends the
 * producer's pending transactional offsets there (txn-marker-write.ts). Per partition: UNKNOWN_TOPIC_OR_PARTITION,
 * NOT_LEADER_OR_FOLLOWER, INVALID_PRODUCER_EPOCH (the producer already wrote with a later epoch),
 * REQUEST_TIMED_OUT, storage errors. With authorization the sender needs CLUSTER_ACTION on the
 * cluster, else every partition answers CLUSTER_AUTHORIZATION_FAILED.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { clusterAllowed, Op } from '../access.ts';
import { writeMarkerAsLeader } from '../txn-marker-write.ts';

export const writeTxnMarkers: Handler<27> = async (ctx, request, info) => {
  const permitted = clusterAllowed(ctx, info, Op.CLUSTER_ACTION);
  return {
    markers: await Promise.all(
      request.markers.map(async (marker) => ({
        producerId: marker.producerId,
        topics: await Promise.all(
          marker.topics.map(async (t) => ({
            name: t.name,
            partitions: await Promise.all(
              t.partitionIndexes.map(async (index) => ({
                partitionIndex: index,
                errorCode: permitted ? await writeMarkerAsLeader(ctx, { producerId: marker.producerId, producerEpoch: marker.producerEpoch, commit: marker.transactionResult, coordinatorEpoch: marker.coordinatorEpoch }, t.name, index) : KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED,
              })),
            ),
          })),
        ),
      })),
    ),
  };
};
