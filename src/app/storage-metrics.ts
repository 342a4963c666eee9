/**
 * Storage gauges with the deployment guide's names, read at scrape time:
 * streambus_storage_{used,available,total}_bytes from statfs of storage.dataDir, and the size of each
 * partition's log.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Disk } from '../io/disk.ts';
import type { PartitionManager } from '../replication/partition-manager.ts';

export function registerStorageMetrics(registry: Registry, disk: Disk, dataDir: string, partitions: PartitionManager): void {
  let last: { at: number; stats: Awaited<ReturnType<Disk['statfs']>> } | null = null;
  const stats = async () => {
    // One statfs per scrape, shared by the three gauges.
    if (!last || Date.now() - last.at > 500) last = { at: Date.now(), stats: await disk.statfs(dataDir) };
    return last.stats;
  };
  const gauge = (name: string, help: string, pick: (s: Awaited<ReturnType<Disk['statfs']>>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        try {
          this.set(pick(await stats()));
        } catch {
          // The data folder may not exist yet during start-up: report nothing rather than fail the scrape.
        }
      },
    });
  gauge('streambus_storage_used_bytes', 'Bytes used on the file system holding storage.dataDir', (s) => s.usedBytes);
  gauge('streambus_storage_available_bytes', 'Bytes available to the broker on the file system holding storage.dataDir', (s) => s.availableBytes);
  gauge('streambus_storage_total_bytes', 'Size in bytes of the file system holding storage.dataDir', (s) => s.totalBytes);
  new Gauge({
    name: 'streambus_partition_log_size_bytes',
    help: 'Size in bytes of a partition log',
    labelNames: ['topic', 'partition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of partitions.all()) this.set({ topic: p.topic, partition: String(p.index) }, p.log.sizeBytes);
    },
  });
}
