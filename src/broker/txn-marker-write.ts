/**
 * The one way this broker decides a transaction on a partition it leads: write the producer's commit
 * or abort marker there (Partition.writeTxnMarker) and, once it is visible, tell the group
 * coordinator when the partition is one of `__consumer_offsets`, so offsets committed in the
 * transaction (TxnOffsetCommit) become visible or are dropped at the same point as the log says.
 * WriteTxnMarkers uses it, and so must every other writer of markers (the transaction coordinator
 * writing locally to partitions it leads), or pending offsets wait for the next load of the
 * coordinator.
 */
import type { GroupRouter } from '../groups/group-router.ts';
import { raceDeadline, TIMED_OUT } from '../io/clock-waits.ts';
import { OFFSETS_TOPIC } from '../metadata/topic-name.ts';
import { KafkaErrorCode } from '../protocol/kafka/error-codes.ts';
import type { Partition, TxnMarker } from '../replication/partition.ts';
import type { BrokerContext } from './context.ts';
import { leaderPartition } from './partition-access.ts';
import { kafkaErrorForStorage } from './storage-errors.ts';

/** How long a marker may take to become visible before the answer is REQUEST_TIMED_OUT (Kafka's request.timeout.ms). */
const MARKER_WAIT_MS = 30_000;

/**
 * Writes `marker` to `partition`. Resolves with the marker's offset once it is accepted; `visible`
 * resolves once the marker is visible (committed on the partition's Raft group, or written alone)
 * and, on `__consumer_offsets`, the group coordinator of that partition applied it; it rejects if the
 * marker never becomes visible. Rejects with SB_ERR_INVALID_PRODUCER_EPOCH (and storage errors) as
 * writeTxnMarker does.
 */
export async function writeTxnMarkerAndComplete(
  groups: Pick<GroupRouter, 'completeTransaction'>,
  partition: Partition,
  marker: TxnMarker,
): Promise<{ offset: number; visible: Promise<void> }> {
  const { offset, visible } = await partition.writeTxnMarker(marker);
  if (partition.topic !== OFFSETS_TOPIC) return { offset, visible };
  return { offset, visible: visible.then(() => void groups.completeTransaction(partition.index, marker.producerId, marker.commit)) };
}

/**
 * Writes one partition's marker when this broker leads it (WriteTxnMarkers, and the transaction
 * coordinators' markers, local or asked by another broker); resolves with the Kafka error code once
 * the marker is visible, or why not: UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER and the
 * other leadership errors, INVALID_PRODUCER_EPOCH, REQUEST_TIMED_OUT, storage errors.
 */
export async function writeMarkerAsLeader(ctx: BrokerContext, marker: Omit<TxnMarker, 'timestampMs'>, name: string, index: number): Promise<number> {
  const topic = ctx.metadata.state.topic(name);
  if (!topic || index < 0 || index >= topic.partitions) return KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  const { partition, errorCode } = leaderPartition(ctx, topic, index);
  if (!partition) return errorCode;
  try {
    const work = writeTxnMarkerAndComplete(ctx.groups, partition, { ...marker, timestampMs: ctx.now() }).then(({ visible }) => visible);
    if ((await raceDeadline(ctx.clock, MARKER_WAIT_MS, work)) === TIMED_OUT) return KafkaErrorCode.REQUEST_TIMED_OUT;
    return KafkaErrorCode.NONE;
  } catch (err) {
    const mapped = kafkaErrorForStorage(err);
    if (mapped.errorCode === KafkaErrorCode.UNKNOWN_SERVER_ERROR) ctx.log.error({ err, topic: name, partition: index }, 'transaction marker write failed');
    return mapped.errorCode;
  }
}
