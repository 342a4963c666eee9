/**
 * All partition logs under one data directory: opens (recovers) every `<topic>-<partition>/` folder
 * at startup, creates and deletes logs, runs retention and compaction, and reports storage metrics.
 *
 * Failure isolation. A partition whose recovery fails (SB_ERR_CORRUPT, or an I/O error confined to
 * it) is offline: `get` returns undefined, `offlineError` says why, and every other partition runs.
 * A failed fsync or I/O error in any log takes the whole directory offline (`dirOffline`): every log
 * is marked offline and refuses reads and writes until restart, since the device is suspect.
 */
import { basename, join } from 'node:path';
import type { Clock } from '../io/clock.ts';
import type { Disk, FsStats } from '../io/disk.ts';
import { assert } from '../util/assert.ts';
import { StreamBusError } from '../util/errors.ts';
import { compactLog, type CompactionResult } from './compaction.ts';
import { parsePartitionDirName, partitionDirName } from './file-names.ts';
import { Log } from './log.ts';
import type { RecoveryInfo } from './log-loader.ts';
import { resolveLogOptions, type LogOptions } from './log-options.ts';

/** How many partitions recover at once (bounds open files and memory during startup). */
const RECOVERY_PARALLELISM = 4;

export interface PartitionRecovery {
  readonly topic: string;
  readonly partition: number;
  readonly recovery?: RecoveryInfo;
  /** Why the partition is offline, when it is. */
  readonly error?: StreamBusError;
}

export interface RecoverySummary {
  readonly partitions: readonly PartitionRecovery[];
  readonly online: number;
  readonly offline: number;
  readonly cleanShutdowns: number;
  readonly truncatedBytes: number;
  readonly durationMs: number;
}

export interface PartitionSize {
  readonly topic: string;
  readonly partition: number;
  readonly sizeBytes: number;
}

function key(topic: string, partition: number): string {
  return partitionDirName(topic, partition);
}

export class LogManager {
  readonly #logs = new Map<string, Log>();
  readonly #offline = new Map<string, StreamBusError>();
  #dirOffline: StreamBusError | undefined;
  #recovery: RecoverySummary | undefined;
  #closed = false;

  private constructor(
    readonly dataDir: string,
    private readonly defaults: LogOptions,
    private readonly disk: Disk,
    private readonly clock: Clock,
  ) {}

  /**
   * Opens every partition log under `dataDir` (created when missing). Never rejects because of one
   * partition: failures are recorded in `recovery` and `offlineError`. Rejects only when the data
   * directory itself cannot be listed.
   */
  static async open(dataDir: string, defaults: Partial<LogOptions>, disk: Disk, clock: Clock): Promise<LogManager> {
    const started = clock.now();
    const manager = new LogManager(dataDir, resolveLogOptions(defaults), disk, clock);
    await disk.mkdir(dataDir);
    const names = (await disk.readdir(dataDir)).filter((n) => parsePartitionDirName(n) !== undefined);
    const results: PartitionRecovery[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < names.length) {
        const name = names[next++]!;
        const { topic, partition } = parsePartitionDirName(name)!;
        try {
          const log = await Log.open(join(dataDir, name), manager.defaults, disk, clock, manager.#hooks());
          manager.#logs.set(name, log);
          results.push({ topic, partition, recovery: log.recovery });
        } catch (e) {
          const error = e instanceof StreamBusError ? e : new StreamBusError('SB_ERR_IO', `recovery of ${name} failed: ${String(e)}`, { cause: e });
          manager.#offline.set(name, error);
          results.push({ topic, partition, error });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(RECOVERY_PARALLELISM, names.length) }, worker));
    results.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    manager.#recovery = {
      partitions: results,
      online: results.filter((r) => !r.error).length,
      offline: results.filter((r) => r.error).length,
      cleanShutdowns: results.filter((r) => r.recovery?.cleanShutdown).length,
      truncatedBytes: results.reduce((sum, r) => sum + (r.recovery?.truncatedBytes ?? 0), 0),
      durationMs: clock.now() - started,
    };
    return manager;
  }

  get recovery(): RecoverySummary {
    return this.#recovery!;
  }

  /** Set when a failed fsync or I/O error took the whole data directory offline (until restart). */
  get dirOffline(): StreamBusError | undefined {
    return this.#dirOffline;
  }

  /** The online log of a partition, or undefined (missing, or offline: see offlineError). */
  get(topic: string, partition: number): Log | undefined {
    const log = this.#logs.get(key(topic, partition));
    return log && !log.offline ? log : undefined;
  }

  /** Why a partition is offline, or undefined when it is online or unknown. */
  offlineError(topic: string, partition: number): StreamBusError | undefined {
    const name = key(topic, partition);
    return this.#offline.get(name) ?? this.#logs.get(name)?.offline;
  }

  /** Every partition with a log folder, online or not. */
  partitions(): Array<{ topic: string; partition: number; online: boolean }> {
    const out: Array<{ topic: string; partition: number; online: boolean }> = [];
    for (const [name, log] of this.#logs) out.push({ ...parsePartitionDirName(name)!, online: !log.offline });
    for (const name of this.#offline.keys()) out.push({ ...parsePartitionDirName(name)!, online: false });
    return out;
  }

  /** Opens the partition's log, creating it when missing; `overrides` are per-topic options. */
  async create(topic: string, partition: number, overrides: Partial<LogOptions> = {}): Promise<Log> {
    this.#checkUsable();
    const name = key(topic, partition);
    const existing = this.#logs.get(name);
    if (existing) {
      existing.updateOptions(overrides);
      return existing;
    }
    const offline = this.#offline.get(name);
    if (offline) throw offline;
    const log = await Log.open(join(this.dataDir, name), { ...this.defaults, ...overrides }, this.disk, this.clock, this.#hooks());
    this.#logs.set(name, log);
    await this.disk.syncDir(this.dataDir);
    return log;
  }

  /** Closes and removes the partition's log and folder (topic deletion or replica moved away). */
  async delete(topic: string, partition: number): Promise<void> {
    const name = key(topic, partition);
    const log = this.#logs.get(name);
    this.#logs.delete(name);
    this.#offline.delete(name);
    if (log) await log.close({ clean: false }).catch(() => undefined);
    await this.disk.removeDir(join(this.dataDir, name));
    await this.disk.syncDir(this.dataDir);
  }

  /** Applies retention to every online log; returns the number of segments deleted. */
  async runRetention(nowMs = this.clock.now()): Promise<number> {
    let deleted = 0;
    for (const log of this.#onlineLogs()) deleted += await log.applyRetention(nowMs).catch(() => 0);
    return deleted;
  }

  /** Compacts every online log whose policy includes compaction. */
  async runCompaction(nowMs = this.clock.now()): Promise<CompactionResult[]> {
    const results: CompactionResult[] = [];
    for (const log of this.#onlineLogs()) {
      if (log.options.cleanupPolicy.includes('compact')) results.push(await compactLog(log, nowMs));
    }
    return results;
  }

  /** statfs of the data directory: streambus_storage_{used,available,total}_bytes. */
  storageStats(): Promise<FsStats> {
    return this.disk.statfs(this.dataDir);
  }

  /** Bytes held by each partition's log (online ones). */
  partitionSizes(): PartitionSize[] {
    return this.#onlineLogs().map((log) => {
      const { topic, partition } = parsePartitionDirName(basename(log.dir))!;
      return { topic, partition, sizeBytes: log.sizeBytes };
    });
  }

  /** Closes every log (cleanly when the directory is online). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const failures: unknown[] = [];
    for (const log of this.#logs.values()) await log.close({ clean: !this.#dirOffline }).catch((e) => failures.push(e));
    if (failures.length > 0) throw failures[0];
  }

  #onlineLogs(): Log[] {
    return [...this.#logs.values()].filter((l) => !l.offline);
  }

  #checkUsable(): void {
    if (this.#dirOffline) throw this.#dirOffline;
    assert(!this.#closed, 'log manager is closed');
  }

  #hooks(): { onDirFailure(error: StreamBusError): void } {
    return {
      onDirFailure: (error) => {
        if (this.#dirOffline) return;
        this.#dirOffline = new StreamBusError('SB_ERR_LOG_DIR_OFFLINE', `data directory ${this.dataDir} is offline: ${error.message}`, { cause: error });
        for (const log of this.#logs.values()) log.markOffline(this.#dirOffline);
      },
    };
  }
}
