/**
 * The group coordinator's durable store on the `__consumer_offsets` partition: each append becomes one
 * record batch (all or nothing after a crash), fsynced before the promise resolves, whatever
 * storage.syncInterval says, because an acknowledged offset commit must survive a crash. Replay reads
 * every batch from the log start.
 */
import type { OffsetsLog, OffsetsLogRecord } from '../groups/offsets-log.ts';
import type { Partition } from '../replication/partition.ts';
import { buildRecordBatch, readBatchHeader, readRecords, splitBatches } from '../protocol/kafka/record-batch/index.ts';
import { StreamBusError } from '../util/errors.ts';

const REPLAY_CHUNK_BYTES = 1024 * 1024;

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
    // Ask for the sync rather than wait for the periodic one: with a 1 s interval every commit (and
    // every SyncGroup, whose assignment is stored first) would otherwise take up to a second.
    await this.partition.log.sync();
  }

  async *replay(): AsyncIterable<OffsetsLogRecord> {
    const log = this.partition.log;
    let offset = log.logStartOffset;
    while (offset < log.writtenOffset) {
      const read = await log.read(offset, REPLAY_CHUNK_BYTES);
      if (read.buffers.length === 0) break;
      for (const chunk of read.buffers) {
        for (const { start, end } of splitBatches(chunk)) {
          const batch = chunk.subarray(start, end);
          const header = readBatchHeader(batch);
          offset = Math.max(offset, Number(header.baseOffset) + header.lastOffsetDelta + 1);
          for (const record of readRecords(batch)) {
            if (record.key) yield { key: record.key, value: record.value };
          }
        }
      }
    }
  }
}
