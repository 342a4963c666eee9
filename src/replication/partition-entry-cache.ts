/**
 * The recent data entries of a partition Raft log, within a byte budget, so the core's synchronous
 * entries() reads (appends to followers, applying) are answered without touching the segment
 * files. Filled by persist (what was just appended) and by asynchronous loads (older ranges a
 * lagging follower or the apply path asked for). Evicts in insertion order: the oldest appended
 * or loaded entries go first, so a range that was just loaded for a retry survives until that
 * retry unless the budget is smaller than one load (the newest entry is always kept).
 */
import type { Entry } from '../raft/index.ts';
import { entryBytes } from '../raft/index.ts';
import { assert } from '../util/assert.ts';

export class PartitionEntryCache {
  private readonly map = new Map<number, Entry>();
  private bytes = 0;

  constructor(readonly budgetBytes: number) {
    assert(Number.isSafeInteger(budgetBytes) && budgetBytes >= 0, 'cache budget must be a non-negative integer');
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  get(index: number): Entry | undefined {
    return this.map.get(index);
  }

  put(entry: Entry): void {
    this.delete(entry.index);
    this.map.set(entry.index, entry);
    this.bytes += entryBytes(entry);
    // The newest entry stays even alone over the budget: a load of one large batch must survive
    // until the read that asked for it retries, or that read would never succeed.
    for (const [index, old] of this.map) {
      if (this.bytes <= this.budgetBytes || this.map.size === 1) break;
      this.map.delete(index);
      this.bytes -= entryBytes(old);
    }
  }

  private delete(index: number): void {
    const old = this.map.get(index);
    if (old === undefined) return;
    this.map.delete(index);
    this.bytes -= entryBytes(old);
  }

  /** Drops entries at `index` and above (a truncated tail). */
  deleteFrom(index: number): void {
    for (const key of [...this.map.keys()]) if (key >= index) this.delete(key);
  }

  /** Drops entries below `index` (a compacted prefix). */
  deleteBelow(index: number): void {
    for (const key of [...this.map.keys()]) if (key < index) this.delete(key);
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}
