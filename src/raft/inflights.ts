import { assert } from '../util/assert.ts';

/**
 * Flow control for one follower in replicate state: the append messages sent and not yet
 * acknowledged, each remembered by the last index it carried and its size. The leader stops
 * sending when `count` reaches `maxCount` or `bytes` reaches `maxBytes`, so a slow follower costs
 * bounded memory and bandwidth. A ring buffer: acknowledgements free a prefix.
 */
export class Inflights {
  readonly maxCount: number;
  readonly maxBytes: number;
  private readonly indexes: Float64Array;
  private readonly sizes: Float64Array;
  private start = 0;
  count = 0;
  bytes = 0;

  constructor(maxCount: number, maxBytes: number) {
    assert(Number.isInteger(maxCount) && maxCount > 0, 'inflight count limit must be a positive integer');
    assert(maxBytes > 0, 'inflight byte limit must be positive');
    this.maxCount = maxCount;
    this.maxBytes = maxBytes;
    this.indexes = new Float64Array(maxCount);
    this.sizes = new Float64Array(maxCount);
  }

  full(): boolean {
    return this.count === this.maxCount || this.bytes >= this.maxBytes;
  }

  /** Records a message whose last entry is `lastIndex`. Indexes must increase. */
  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), 'inflights overflow');
    if (this.count > 0) {
      const previous = this.indexes[(this.start + this.count - 1) % this.maxCount]!;
      assert(lastIndex > previous, 'inflight indexes must increase');
    }
    const slot = (this.start + this.count) % this.maxCount;
    this.indexes[slot] = lastIndex;
    this.sizes[slot] = bytes;
    this.count++;
    this.bytes += bytes;
  }

  /** Frees every message whose last index is <= `index` (acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && this.indexes[this.start]! <= index) {
      this.bytes -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.maxCount;
      this.count--;
    }
    if (this.count === 0) {
      this.start = 0;
      this.bytes = 0;
    }
    assert(this.bytes >= 0, 'inflight bytes went negative');
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}
