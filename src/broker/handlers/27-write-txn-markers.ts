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
import type { WritableTxnMarker } from '../../protocol/kafka/generated/write-txn-markers-request.ts';
import type { Handler } from '../handler.ts';
import type { BrokerContext } from '../context.ts';
import { leaderPartition } from '../partition-access.ts';
import { kafkaErrorForStorage } from '../storage-errors.ts';
import { clusterAllowed, Op } from '../access.ts';
import { writeTxnMarkerAndComplete } from '../txn-marker-write.ts';

/** How long a marker may take to become visible before the answer is REQUEST_TIMED_OUT (Kafka's request.timeout.ms). */
const MARKER_WAIT_MS = 30_000;

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
                errorCode: permitted ? await writeMarker(ctx, marker, t.name, index) : KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED,
              })),
            ),
          })),
        ),
      })),
    ),
  };
};

/** Writes one partition's marker; resolves with its error code once the marker is visible (or not). */
async function writeMarker(ctx: BrokerContext, marker: WritableTxnMarker, name: string, index: number): Promise<number> {
  const topic = ctx.metadata.state.topic(name);
  if (!topic || index < 0 || index >= topic.partitions) return KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  const { partition, errorCode } = leaderPartition(ctx, topic, index);
  if (!partition) return errorCode;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<'timed-out'>((resolve) => (timer = setTimeout(() => resolve('timed-out'), MARKER_WAIT_MS)));
  try {
    const work = writeTxnMarkerAndComplete(ctx.groups, partition, {
      producerId: marker.producerId,
      producerEpoch: marker.producerEpoch,
      commit: marker.transactionResult,
      coordinatorEpoch: marker.coordinatorEpoch,
      timestampMs: ctx.now(),
    }).then(({ visible }) => visible);
    // After a timeout nobody awaits it: its failure must not surface as an unhandled rejection.
    work.catch(() => undefined);
    if ((await Promise.race([work, timedOut])) === 'timed-out') return KafkaErrorCode.REQUEST_TIMED_OUT;
    return 0;
  } catch (err) {
    const mapped = kafkaErrorForStorage(err);
    if (mapped.errorCode === KafkaErrorCode.UNKNOWN_SERVER_ERROR) ctx.log.error({ err, topic: name, partition: index }, 'WriteTxnMarkers failed');
    return mapped.errorCode;
  } finally {
    clearTimeout(timer);
  }
}
