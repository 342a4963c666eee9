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
import { OFFSETS_TOPIC } from '../groups/offsets-records.ts';
import type { Partition, TxnMarker } from '../replication/partition.ts';

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
