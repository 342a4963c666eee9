/**
 * Partition logs for the broker, from the storage engine's LogManager: it recovers every partition
 * folder under storage.dataDir at start-up (several at once), isolates a partition whose recovery fails,
 * and takes the whole directory offline after a failed fsync or write. This class only translates the
 * broker's settings and each topic's configs into log options.
 */
import type { BrokerConfig } from '../config/index.ts';
import type { Disk } from '../io/disk.ts';
import type { Clock } from '../io/clock.ts';
import type { LogFactory, LogSettings } from '../replication/partition-manager.ts';
import type { PartitionLog } from '../replication/partition-log.ts';
import type { Log } from '../storage/log.ts';
import { LogManager, type RecoverySummary } from '../storage/log-manager.ts';
import { SEGMENT_BYTES_MAX, type LogOptions } from '../storage/log-options.ts';
import { assert } from '../util/assert.ts';

export class StorageLogFactory implements LogFactory {
  private manager: LogManager | undefined;

  constructor(
    private readonly disk: Disk,
    private readonly clock: Clock,
    private readonly config: BrokerConfig,
  ) {}

  /** Recovers every partition folder; call once before any `open`. */
  async recover(): Promise<RecoverySummary> {
    const s = this.config.storage;
    this.manager = await LogManager.open(
      s.dataDir,
      { ioMode: s.ioMode, syncIntervalMs: s.syncInterval, indexIntervalBytes: s.indexIntervalBytes, preallocateBytes: s.preallocateBytes, inlineWriteBytes: s.inlineWriteBytes },
      this.disk,
      this.clock,
    );
    return this.manager.recovery;
  }

  get logs(): LogManager {
    assert(this.manager, 'storage not recovered yet');
    return this.manager;
  }

  /** Storage options of a partition log: broker storage settings plus the topic's own configs. */
  private options(settings: LogSettings): Partial<LogOptions> {
    return {
      segmentBytes: Math.min(settings.segmentBytes, SEGMENT_BYTES_MAX),
      segmentMs: settings.segmentMs,
      maxBatchBytes: Math.max(this.config.kafka.messageMaxBytes, settings.maxMessageBytes),
      retentionMs: settings.retentionMs,
      retentionBytes: settings.retentionBytes,
      cleanupPolicy: settings.compact ? 'compact' : 'delete',
      deleteRetentionMs: settings.deleteRetentionMs,
    };
  }

  open(topic: string, partition: number, settings: LogSettings): Promise<PartitionLog> {
    return this.logs.create(topic, partition, this.options(settings));
  }

  reconfigure(log: PartitionLog, settings: LogSettings): void {
    (log as Log).updateOptions(this.options(settings));
  }

  remove(topic: string, partition: number): Promise<void> {
    return this.logs.delete(topic, partition);
  }

  async close(): Promise<void> {
    await this.manager?.close();
  }
}
