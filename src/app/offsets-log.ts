/**
 * The group coordinator's durable store on the `__consumer_offsets` partition (and the transaction
 * coordinator's on `__transaction_state`): each append becomes one record batch (all or nothing after
 * a crash), fsynced before the promise resolves, whatever storage.syncInterval says, because an
 * acknowledged offset commit must survive a crash; only an append that asks for `visible` durability
 * is left to the periodic sync. Replay reads every batch from the log start and yields transaction
 * markers as such.
 *
 * Transactional appends (TxnOffsetCommit) are written as Kafka's group coordinator writes them: a
 * transactional batch with the producer's id and epoch and base sequence -1 (no sequence), appended
 * without the partition's idempotence checks (`Partition.append` with no producer fields). Those
 * checks are for a producer's own numbered batches; the coordinator's batches carry no sequence, and
 * numbering them would put them out of order with the producer's sequences elsewhere. The partition
 * still sees a transactional batch of that producer, so its transaction opens there (and holds the
 * partition's last stable offset) until the commit or abort marker closes it. Producer epochs are
 * checked by the group coordinator itself (INVALID_PRODUCER_EPOCH).
 */
import type { OffsetsLog, OffsetsLogDurability, OffsetsLogEntry, OffsetsLogProducer, OffsetsLogRecord } from '../groups/offsets-log.ts';
import type { Partition } from '../replication/partition.ts';
import {
  buildRecordBatch,
  ControlType,
  isControlBatch,
  isTransactionalBatch,
  readControlMarker,
  readRecords,
} from '../protocol/kafka/record-batch/index.ts';
import { StreamBusError } from '../util/errors.ts';

export class PartitionOffsetsLog implements OffsetsLog {
  /**
   * The leadership this store's coordinator was placed under. A coordinator replaced since (its
   * broker lost the partition and led it again: a new coordinator loaded the log meanwhile) must not
   * append: a change it finishes late would land behind the new coordinator's records and win at the
   * next replay.
   */
  private readonly epoch: number;

  constructor(
    private readonly partition: Partition,
    private readonly now: () => number,
  ) {
    this.epoch = partition.leaderEpoch;
  }

  async append(records: readonly OffsetsLogRecord[], transaction?: OffsetsLogProducer, durability: OffsetsLogDurability = 'durable'): Promise<void> {
    if (records.length === 0) return;
    if (this.partition.leaderEpoch !== this.epoch) {
      throw new StreamBusError('SB_ERR_NOT_LEADER', `${this.partition.topic}-${this.partition.index} is led in epoch ${this.partition.leaderEpoch} now, not ${this.epoch}, under which its coordinator loaded`);
    }
    const batch = buildRecordBatch(
      records.map((r) => ({ key: r.key, value: r.value })),
      {
        baseTimestamp: BigInt(this.now()),
        ...(transaction === undefined
          ? {}
          : { transactional: true, producerId: transaction.producerId, producerEpoch: transaction.producerEpoch, baseSequence: -1 }),
      },
    );
    // Built here: the producers' batch rules (a sequence with every producer id) are not for it.
    const result = await this.partition.append(batch, null, this.now(), true);
    if (result.kind !== 'appended') throw new StreamBusError('SB_ERR_IO', `offsets append refused: ${result.kind}`);
    // Replicated: committed means durable on a majority. Alone: ask for the sync rather than wait for
    // the periodic one: with a 1 s interval every commit (and every SyncGroup, whose assignment is
    // stored first) would otherwise take up to a second.
    await result.visible;
    if (!this.partition.replicated && durability === 'durable') await this.partition.log.sync();
  }

  async *replay(): AsyncIterable<OffsetsLogEntry> {
    for await (const { batch, header } of this.partition.batches(this.partition.logStartOffset)) {
      if (isControlBatch(header.attributes)) {
        // Transaction markers hold no group records; they decide the producer's transactional records.
        const control = readRecords(batch);
        const marker = control.length === 1 ? readControlMarker(control[0]!) : null;
        if (marker !== null && (marker.type === ControlType.commit || marker.type === ControlType.abort)) {
          yield { kind: 'marker', producerId: header.producerId, producerEpoch: header.producerEpoch, commit: marker.type === ControlType.commit };
        }
        continue;
      }
      const records: OffsetsLogRecord[] = [];
      for (const record of readRecords(batch)) if (record.key) records.push({ key: record.key, value: record.value });
      const transaction = isTransactionalBatch(header.attributes) && header.producerId >= 0n ? { producerId: header.producerId, producerEpoch: header.producerEpoch } : null;
      if (records.length > 0) yield { kind: 'batch', records, transaction };
    }
  }
}
