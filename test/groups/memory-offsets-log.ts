// An in-memory OffsetsLog for tests: appends land in one list of batches in call order; replay
// yields them. It can be told to fail the next appends or to hold them until released, to test
// failure paths and the "answer only once durable" rule. `marker` adds a transaction marker, as a
// WriteTxnMarkers on the offsets partition would; `inject` adds a plain record as if some other
// writer (an older or newer version) had written it.
import type { OffsetsLog, OffsetsLogDurability, OffsetsLogEntry, OffsetsLogProducer, OffsetsLogRecord } from '../../src/groups/offsets-log.ts';

export class MemoryOffsetsLog implements OffsetsLog {
  readonly entries: OffsetsLogEntry[] = [];
  /** The durability each append asked for, in call order. */
  readonly durabilities: OffsetsLogDurability[] = [];
  appendCalls = 0;
  failNext = 0;
  private holding = false;
  private held: { entry: OffsetsLogEntry; resolve: () => void }[] = [];

  /** Every record of every batch, in log order (a copy: change the log through its methods). */
  get records(): OffsetsLogRecord[] {
    return this.entries.flatMap((e) => (e.kind === 'batch' ? e.records : []));
  }

  async append(records: readonly OffsetsLogRecord[], transaction?: OffsetsLogProducer, durability: OffsetsLogDurability = 'durable'): Promise<void> {
    this.appendCalls++;
    this.durabilities.push(durability);
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('simulated append failure');
    }
    // Copy, as the broker's log would: the caller may reuse its buffers.
    const copy = records.map((r) => ({ key: Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) }));
    const entry: OffsetsLogEntry = { kind: 'batch', records: copy, transaction: transaction === undefined ? null : { ...transaction } };
    if (this.holding) {
      await new Promise<void>((resolve) => this.held.push({ entry, resolve }));
      return;
    }
    this.entries.push(entry);
  }

  inject(record: OffsetsLogRecord): void {
    this.entries.push({ kind: 'batch', records: [record], transaction: null });
  }

  marker(producerId: bigint, commit: boolean, producerEpoch = 0): void {
    this.entries.push({ kind: 'marker', producerId, producerEpoch, commit });
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
      this.entries.push(h.entry);
      h.resolve();
    }
  }

  heldCount(): number {
    return this.held.length;
  }

  async *replay(): AsyncIterable<OffsetsLogEntry> {
    for (const e of [...this.entries]) yield e;
  }

  /**
   * Keeps only the last record per key, as compaction would (tombstones, markers and emptied
   * batches' places dropped). Like the broker's compaction today it does not know transactions:
   * use it only on logs without any.
   */
  compact(): void {
    const last = new Map<string, OffsetsLogRecord>();
    for (const r of this.records) last.set(r.key.toString('hex'), r);
    const kept: OffsetsLogEntry[] = [];
    for (const e of this.entries) {
      if (e.kind === 'marker') {
        kept.push(e);
        continue;
      }
      const records = e.records.filter((r) => last.get(r.key.toString('hex')) === r);
      if (records.length > 0) kept.push({ ...e, records });
    }
    this.entries.length = 0;
    this.entries.push(...kept);
  }
}
