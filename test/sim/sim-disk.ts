import type { MemoryStorage, Ready } from '../../src/raft/index.ts';
import type { InvariantChecker } from './checkers.ts';
import type { Prng } from './prng.ts';

/**
 * The simulated disk of one node. The node's MemoryStorage stands for what is durable: a Ready's
 * writes reach it only when their fsync completes, after a random latency (sometimes very slow).
 * A crash while a write is in flight keeps a random prefix of it (torn write): the snapshot, then
 * entries one by one, then the hard state, each piece all-or-nothing, in that order, as a real
 * log (fsync the segment before renaming the hard-state file into place) would leave it.
 */
export class SimDisk {
  readonly storage: MemoryStorage;
  /** Until this simulated time, fsyncs are slow. */
  slowUntilMs = 0;
  private readonly random: Prng;

  constructor(storage: MemoryStorage, random: Prng) {
    this.storage = storage;
    this.random = random;
  }

  /** How long the fsync of a Ready takes, from now. */
  syncLatencyMs(nowMs: number): number {
    if (nowMs < this.slowUntilMs || this.random.chance(0.02)) return this.random.between(20, 300);
    return this.random.between(0, 3);
  }

  /** Makes every write of `rd` durable. */
  write(id: number, rd: Ready, checker: InvariantChecker): void {
    if (rd.snapshot !== null) {
      checker.beforeSnapshot(id, rd.snapshot);
      this.storage.applySnapshot(rd.snapshot);
    }
    if (rd.entries.length > 0) {
      checker.beforeAppend(id, this.storage, rd.entries);
      this.storage.append(rd.entries);
    }
    if (rd.hardState !== null) this.storage.setHardState(rd.hardState);
  }

  /** A crash during the write of `rd`: a random prefix of its pieces survives. Returns a description. */
  tear(id: number, rd: Ready, checker: InvariantChecker): string {
    const pieces = (rd.snapshot !== null ? 1 : 0) + rd.entries.length + (rd.hardState !== null ? 1 : 0);
    let keep = this.random.nextInt(pieces + 1);
    const kept = keep;
    if (rd.snapshot !== null) {
      if (keep === 0) return `torn write kept 0/${pieces}`;
      checker.beforeSnapshot(id, rd.snapshot);
      this.storage.applySnapshot(rd.snapshot);
      keep--;
    }
    const entries = rd.entries.slice(0, Math.min(keep, rd.entries.length));
    if (entries.length > 0) {
      checker.beforeAppend(id, this.storage, entries);
      this.storage.append(entries);
    }
    keep -= entries.length;
    if (keep > 0 && rd.hardState !== null) this.storage.setHardState(rd.hardState);
    return `torn write kept ${kept}/${pieces}`;
  }
}
