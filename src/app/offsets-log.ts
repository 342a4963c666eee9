/**
 * The group coordinator's durable store on the `__consumer_offsets` partition: each append becomes one
 * record batch (all or nothing after a crash), fsynced before the promise resolves, whatever
 * storage.syncInterval says, because an acknowledged offset commit must survive a crash. Replay reads
 * every batch from the log start, skipping transaction markers.
 */
import type { OffsetsLog, OffsetsLogRecord } from '../groups/offsets-log.ts';
import type { Partition } from '../replication/partition.ts';
import { buildRecordBatch, isControlBatch, readRecords } from '../protocol/kafka/record-batch/index.ts';
import { StreamBusError } from '../util/errors.ts';

export class PartitionOffsetsLog implements OffsetsLog {
  constructor(
    private readonly partition: Partition,
    private readonly now: () => number,
  ) {}

  async append(records: readonly OffsetsLogRecord[]): Promise<void> {
    if (records.length === 0) return;
    const batch = buildRecordBatch(
      records.map((r) => ({ key: r.key, value: r.value })),
      { baseTimestamp: BigInt(this.now()) },
    );
    const result = await this.partition.append(batch, null, this.now());
    if (result.kind !== 'appended') throw new StreamBusError('SB_ERR_IO', `offsets append refused: ${result.kind}`);
    // Replicated: committed means durable on a majority. Alone: ask for the sync rather than wait for
    // the periodic one: with a 1 s interval every commit (and every SyncGroup, whose assignment is
    // stored first) would otherwise take up to a second.
    await result.visible;
    if (!this.partition.replicated) await this.partition.log.sync();
  }

  async *replay(): AsyncIterable<OffsetsLogRecord> {
    for await (const { batch, header } of this.partition.batches(this.partition.logStartOffset)) {
      // Transaction markers (WriteTxnMarkers) hold no group records.
      if (isControlBatch(header.attributes)) continue;
      for (const record of readRecords(batch)) {
        if (record.key) yield { key: record.key, value: record.value };
      }
    }
  }
}
