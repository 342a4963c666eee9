/**
 * Opens partition logs of the storage engine under storage.dataDir, one folder per partition
 * (`<topic>-<partition>`), with the broker's storage settings and the topic's own configs.
 * A failed fsync or write in any log takes the whole data directory offline (every log in it): after
 * such a failure the kernel may have dropped dirty pages, so nothing written there can be trusted.
 */
import { join } from 'node:path';
import type { BrokerConfig } from '../config/index.ts';
import type { Disk } from '../io/disk.ts';
import { realClock } from '../io/real/real-clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { LogFactory, LogSettings } from '../replication/partition-manager.ts';
import type { PartitionLog } from '../replication/partition-log.ts';
import { Log } from '../storage/log.ts';
import { partitionDirName, parsePartitionDirName } from '../storage/file-names.ts';

export class StorageLogFactory implements LogFactory {
  private readonly open_ = new Set<Log>();
  private dirFailed = false;

  constructor(
    private readonly disk: Disk,
    private readonly config: BrokerConfig,
    private readonly log: Logger,
  ) {}

  async open(topic: string, partition: number, settings: LogSettings): Promise<PartitionLog> {
    const dir = join(this.config.storage.dataDir, partitionDirName(topic, partition));
    const s = this.config.storage;
    const log = await Log.open(
      dir,
      {
        ioMode: s.ioMode,
        syncIntervalMs: s.syncInterval,
        segmentBytes: Math.min(settings.segmentBytes, 0x7fff_ffff),
        segmentMs: settings.segmentMs,
        indexIntervalBytes: s.indexIntervalBytes,
        maxBatchBytes: Math.max(this.config.kafka.messageMaxBytes, settings.maxMessageBytes),
        retentionMs: settings.retentionMs,
        retentionBytes: settings.retentionBytes,
        cleanupPolicy: settings.compact ? 'compact' : 'delete',
        deleteRetentionMs: settings.deleteRetentionMs,
      },
      this.disk,
      realClock,
      { onDirFailure: (error) => this.failDir(error) },
    );
    if (this.dirFailed) {
      await log.close({ clean: false });
      throw new Error(`data directory ${s.dataDir} is offline after an I/O failure`);
    }
    const r = log.recovery;
    this.log.info({ topic, partition, recovery: r }, 'partition log opened');
    this.open_.add(log);
    return log;
  }

  async remove(topic: string, partition: number): Promise<void> {
    const dir = join(this.config.storage.dataDir, partitionDirName(topic, partition));
    for (const l of this.open_) if (l.dir === dir) this.open_.delete(l);
    await this.disk.removeDir(join(this.config.storage.dataDir, partitionDirName(topic, partition)));
  }

  async list(): Promise<[string, number][]> {
    const out: [string, number][] = [];
    for (const name of await this.disk.readdir(this.config.storage.dataDir)) {
      const parsed = parsePartitionDirName(name);
      if (parsed) out.push([parsed.topic, parsed.partition]);
    }
    return out;
  }

  private failDir(error: Error): void {
    if (this.dirFailed) return;
    this.dirFailed = true;
    this.log.fatal({ err: error, dataDir: this.config.storage.dataDir }, 'data directory offline after an I/O failure; every partition in it stops');
    for (const l of this.open_) l.markOffline(error as never);
  }
}
