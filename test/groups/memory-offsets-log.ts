// An in-memory OffsetsLog for tests: appends land in one list in call order; replay yields them.
// It can be told to fail the next appends or to hold them until released, to test failure paths
// and the "answer only once durable" rule.
import type { OffsetsLog, OffsetsLogRecord } from '../../src/groups/offsets-log.ts';

export class MemoryOffsetsLog implements OffsetsLog {
  readonly records: OffsetsLogRecord[] = [];
  appendCalls = 0;
  failNext = 0;
  private holding = false;
  private held: { records: OffsetsLogRecord[]; resolve: () => void }[] = [];

  async append(records: readonly OffsetsLogRecord[]): Promise<void> {
    this.appendCalls++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('simulated append failure');
    }
    // Copy, as the broker's log would: the caller may reuse its buffers.
    const copy = records.map((r) => ({ key: Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) }));
    if (this.holding) {
      await new Promise<void>((resolve) => this.held.push({ records: copy, resolve }));
      return;
    }
    this.records.push(...copy);
  }

  /** Appends after this stay pending until release(). */
  hold(): void {
    this.holding = true;
  }

  release(): void {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const h of held) {
      this.records.push(...h.records);
      h.resolve();
    }
  }

  heldCount(): number {
    return this.held.length;
  }

  async *replay(): AsyncIterable<OffsetsLogRecord> {
    for (const r of [...this.records]) yield r;
  }

  /** Keeps only the last record per key, as compaction would (tombstones kept). */
  compact(): void {
    const last = new Map<string, number>();
    this.records.forEach((r, i) => last.set(r.key.toString('hex'), i));
    const kept = this.records.filter((r, i) => last.get(r.key.toString('hex')) === i);
    this.records.length = 0;
    this.records.push(...kept);
  }
}
