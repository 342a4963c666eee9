/**
 * Reads data entries a partition Raft log holds on disk only (below its cache) back into the cache,
 * asynchronously, because the core's reads are synchronous and segment reads are not. The store's
 * entries() starts a load when it answers LogNotLoadedError; when the batches are cached the
 * owner hears of it through `onLoaded` and pokes the driver (RaftDriver.storageLoaded()).
 *
 * A load reads from the segment log at the entry's start offset, at most `loadBytes` (always at
 * least one batch), and walks the table from that entry: no-op and conf-change entries have no
 * batch, every data entry must find its batch at its start offset with its term as the batch's
 * partitionLeaderEpoch (anything else is SB_ERR_CORRUPT). Loads started before the stored entries
 * changed (a truncation, a reset, a compaction: `invalidate()`) are discarded when they finish, so
 * a read that overlapped a cut never caches what it read.
 */
import { EntryType } from '../raft/index.ts';
import { readBaseOffset, readPartitionLeaderEpoch, splitBatches } from '../protocol/kafka/record-batch/header.ts';
import type { Log } from '../storage/log.ts';
import { assert } from '../util/assert.ts';
import { StreamBusError, isStreamBusError } from '../util/errors.ts';
import type { PartitionEntryCache } from './partition-entry-cache.ts';
import { EntryKind } from './partition-raft-index.ts';
import type { PartitionRaftTable } from './partition-raft-table.ts';

export interface PartitionEntryLoaderHooks {
  /** Entries were loaded (or the range turned out to be gone): ask again. */
  readonly onLoaded: () => void;
  /** A load failed (I/O error or corruption): the store goes offline. */
  readonly onFailure: (error: unknown) => void;
}

export class PartitionEntryLoader {
  /** Bumped by invalidate(): loads started under an older generation are discarded. */
  private generation = 0;
  /** First indexes of the loads in flight. */
  private readonly loading = new Set<number>();
  private stopped = false;

  constructor(
    private readonly log: Log,
    private readonly table: PartitionRaftTable,
    private readonly cache: PartitionEntryCache,
    private readonly loadBytes: number,
    private readonly hooks: PartitionEntryLoaderHooks,
  ) {
    assert(Number.isSafeInteger(loadBytes) && loadBytes > 0, 'loadBytes must be a positive integer');
  }

  /** The stored entries changed: loads in flight must not cache what they read. */
  invalidate(): void {
    this.generation++;
  }

  /** No more loads; those in flight are discarded. */
  stop(): void {
    this.stopped = true;
    this.generation++;
  }

  /** Starts loading from entry `index` (a data entry in the table) unless a load from there runs. */
  start(index: number): void {
    if (this.loading.has(index) || this.stopped) return;
    assert(this.table.kind(index) === EntryKind.Data, 'only data entries are loaded');
    this.loading.add(index);
    const generation = this.generation;
    this.load(index, generation).then(
      (loaded) => {
        this.loading.delete(index);
        if (loaded) this.hooks.onLoaded();
      },
      (error: unknown) => {
        this.loading.delete(index);
        if (generation !== this.generation) return;
        // Retention removed the range meanwhile: the next read answers LogCompactedError.
        if (!isStreamBusError(error, 'SB_ERR_OFFSET_OUT_OF_RANGE')) this.hooks.onFailure(error);
        this.hooks.onLoaded();
      },
    );
  }

  private async load(lo: number, generation: number): Promise<boolean> {
    const read = await this.log.read(this.table.startOffset(lo), this.loadBytes);
    if (generation !== this.generation) return false;
    const table = this.table;
    let index = lo;
    for (const buffer of read.buffers) {
      for (const { start, end } of splitBatches(buffer)) {
        while (index <= table.last && table.kind(index) !== EntryKind.Data) index++;
        if (index > table.last) return true;
        const batch = buffer.subarray(start, end);
        const term = table.term(index);
        const baseOffset = readBaseOffset(batch, 0);
        if (baseOffset !== table.startOffset(index) || readPartitionLeaderEpoch(batch, 0) !== term) {
          throw new StreamBusError('SB_ERR_CORRUPT', `${this.log.dir}: the batch at ${baseOffset} does not match Raft entry ${index} (offset ${table.startOffset(index)}, term ${term})`);
        }
        if (this.cache.get(index) === undefined) this.cache.put({ term, index, type: EntryType.Normal, data: batch });
        index++;
      }
    }
    return true;
  }
}
