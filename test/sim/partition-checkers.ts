/**
 * The invariants of replicated partition data, checked by the partition simulation after every
 * event (and once more over the final logs). The first broken one is kept as `violation`.
 *
 * The committed registry: every committed batch any replica applies is recorded by partition and
 * base offset (its stamped bytes, as every replica must store exactly what the leader proposed).
 * From it:
 *   - committed prefixes agree: a second replica applying another batch at that offset, or a
 *     replica applying batches that are not contiguous, is a violation;
 *   - exactly once: a (producer id, epoch, base sequence) committed at two offsets is a violation;
 *   - acknowledged means committed: a produce acknowledged at an offset the registry does not hold
 *     with that batch is a violation (the leader applies before it acknowledges);
 *   - consumers read only committed batches, below the high watermark they were served under;
 *   - a replica's high watermark never goes down within one incarnation, and a new leader's covers
 *     every acknowledged offset when it starts taking writes;
 *   - at the end, every replica's log holds exactly the committed batches, byte for byte, every
 *     acknowledged and consumed batch where it was acknowledged or consumed.
 */
import { EntryType, type Entry } from '../../src/raft/index.ts';
import { readBatchHeader, splitBatches } from '../../src/protocol/kafka/record-batch/index.ts';
import { readRecords } from '../../src/protocol/kafka/record-batch/records.ts';
import { decodePartitionSnapshotData } from '../../src/replication/partition-raft-files.ts';
import type { Snapshot } from '../../src/raft/index.ts';

export interface CommittedBatch {
  readonly hex: string;
  readonly lastOffset: number;
  /** The batch's id: the key of its first record (set by the workload). */
  readonly id: string;
}

export interface StoredBatch {
  readonly baseOffset: number;
  readonly bytes: Buffer;
}

export function batchId(batch: Buffer): string {
  const key = readRecords(batch)[0]?.key;
  return key === null || key === undefined ? '?' : key.toString();
}

export class PartitionChecker {
  violation: string | null = null;
  /** Committed batches checked against the registry (applies, acknowledgements, reads). */
  comparisons = 0;
  private readonly committed = new Map<string, Map<number, CommittedBatch>>();
  private readonly sequences = new Map<string, Map<string, number>>();
  /** One past the last offset acknowledged, per partition. */
  private readonly ackedEnd = new Map<string, number>();
  private readonly acked = new Map<string, Map<number, string>>();
  private readonly consumed = new Map<string, Map<number, string>>();
  /** Per broker incarnation and partition: applied end offset and high watermark seen. */
  private readonly appliedEnd = new Map<string, number>();
  private readonly highWatermarks = new Map<string, number>();
  private readonly writableTerms = new Map<string, number>();
  /** Per partition, the highest log start offset any replica reached (retention deleted below it). */
  private readonly retainedFrom = new Map<string, number>();
  /** Idempotent batches stored again after retention had deleted their first copy (allowed, as in Kafka). */
  forgottenProducers = 0;
  /** Snapshots restored by replicas (at start after retention, or sent by a leader). */
  restores = 0;

  fail(invariant: string, message: string): void {
    if (this.violation === null) this.violation = `${invariant}: ${message}`;
  }

  /** Committed entries of `partition` that `broker` (incarnation `incarnation`) is about to apply. */
  applying(broker: number, incarnation: number, partition: string, entries: readonly Entry[]): void {
    const registry = this.registry(partition);
    const endKey = `${broker}/${incarnation}/${partition}`;
    for (const entry of entries) {
      if (entry.type !== EntryType.Normal || entry.data.length === 0) continue;
      const bytes = Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength);
      const header = readBatchHeader(bytes);
      const baseOffset = Number(header.baseOffset);
      const lastOffset = baseOffset + header.lastOffsetDelta;
      const end = this.appliedEnd.get(endKey);
      if (end !== undefined && end !== baseOffset) {
        this.fail('committed prefixes agree', `broker ${broker} applied ${partition} batch at ${baseOffset} (Raft index ${entry.index}) after its applied end ${end}`);
      }
      this.appliedEnd.set(endKey, lastOffset + 1);
      const hex = bytes.toString('hex');
      const known = registry.get(baseOffset);
      this.comparisons++;
      if (known !== undefined) {
        if (known.hex !== hex) this.fail('committed prefixes agree', `broker ${broker} applied ${partition} batch ${batchId(bytes)} at ${baseOffset} where ${known.id} was committed`);
        continue;
      }
      registry.set(baseOffset, { hex, lastOffset, id: batchId(bytes) });
      if (header.producerId >= 0n) {
        const identity = `${header.producerId}/${header.producerEpoch}/${header.baseSequence}`;
        const sequences = this.sequencesOf(partition);
        const earlier = sequences.get(identity);
        if (earlier !== undefined && earlier !== baseOffset && earlier < (this.retainedFrom.get(partition) ?? 0)) {
          // Retention deleted the first copy: its producer state went with it, as Kafka forgets
          // producers whose batches all lie below the log start offset.
          this.forgottenProducers++;
        } else if (earlier !== undefined && earlier !== baseOffset) {
          this.fail('exactly once', `${partition}: idempotent batch ${identity} (${batchId(bytes)}) committed at ${earlier} and again at ${baseOffset}`);
        }
        sequences.set(identity, baseOffset);
      }
    }
  }

  /** `broker` opened its replica of `partition` with `committedOffset` applied: it applies from there. */
  startsAt(broker: number, incarnation: number, partition: string, committedOffset: number): void {
    const key = `${broker}/${incarnation}/${partition}`;
    if (committedOffset > (this.appliedEnd.get(key) ?? 0)) this.appliedEnd.set(key, committedOffset);
  }

  /** `broker` restores a snapshot of `partition`: it applies from the snapshot's next offset on. */
  restoring(broker: number, incarnation: number, partition: string, snapshot: Snapshot): void {
    if (snapshot.metadata.index === 0) return;
    this.restores++;
    this.appliedEnd.set(`${broker}/${incarnation}/${partition}`, decodePartitionSnapshotData(snapshot.data).nextOffset);
  }

  /** A replica's log start offset now (retention moves it). */
  logStart(partition: string, logStartOffset: number): void {
    if (logStartOffset > (this.retainedFrom.get(partition) ?? 0)) this.retainedFrom.set(partition, logStartOffset);
  }

  /** A produce of batch `id` was acknowledged at `baseOffset`. */
  acknowledged(partition: string, id: string, baseOffset: number, how: string): void {
    const known = this.registry(partition).get(baseOffset);
    this.comparisons++;
    if (known === undefined) this.fail('acknowledged means committed', `${partition}: batch ${id} acknowledged (${how}) at ${baseOffset}, which no replica has committed`);
    else if (known.id !== id) this.fail('acknowledged means committed', `${partition}: batch ${id} acknowledged (${how}) at ${baseOffset}, where ${known.id} is committed`);
    else this.ackedEnd.set(partition, Math.max(this.ackedEnd.get(partition) ?? 0, known.lastOffset + 1));
    this.ackedOf(partition).set(baseOffset, id);
  }

  /** A consumer read `buffers` from a replica whose high watermark was `highWatermark`. */
  read(broker: number, partition: string, buffers: readonly Buffer[], highWatermark: number): void {
    const registry = this.registry(partition);
    for (const buffer of buffers) {
      for (const { start, end } of splitBatches(buffer)) {
        const bytes = buffer.subarray(start, end);
        const header = readBatchHeader(bytes);
        const baseOffset = Number(header.baseOffset);
        const lastOffset = baseOffset + header.lastOffsetDelta;
        this.comparisons++;
        if (lastOffset >= highWatermark) this.fail('consumers read below the high watermark', `${partition}: broker ${broker} served offset ${lastOffset} with high watermark ${highWatermark}`);
        const known = registry.get(baseOffset);
        if (known === undefined || known.hex !== bytes.toString('hex')) {
          this.fail('consumers read committed batches', `${partition}: broker ${broker} served ${batchId(bytes)} at ${baseOffset}, committed there: ${known?.id ?? 'nothing'}`);
        }
        this.consumedOf(partition).set(baseOffset, batchId(bytes));
      }
    }
  }

  /**
   * A replica's high watermark now; `writableTerm` is the term it takes writes in, or -1. Checked
   * when it becomes writable in a term: later acknowledgements may come from a newer leader that a
   * deposed one, cut off, does not know of yet (it cannot commit anything more).
   */
  highWatermark(broker: number, incarnation: number, partition: string, highWatermark: number, writableTerm: number): void {
    const key = `${broker}/${incarnation}/${partition}`;
    const before = this.highWatermarks.get(key) ?? 0;
    if (highWatermark < before) this.fail('high watermark never decreases', `broker ${broker} ${partition}: ${before} -> ${highWatermark}`);
    this.highWatermarks.set(key, highWatermark);
    if (writableTerm < 0 || this.writableTerms.get(key) === writableTerm) return;
    this.writableTerms.set(key, writableTerm);
    const acked = this.ackedEnd.get(partition) ?? 0;
    if (highWatermark < acked) this.fail('a new leader covers every acknowledged offset', `broker ${broker} ${partition}: writable in term ${writableTerm} with high watermark ${highWatermark}, acknowledged up to ${acked}`);
  }

  /**
   * The end: every replica's whole log (from its log start offset), by broker. Each must be exactly
   * the committed batches from there on.
   */
  finalLogs(partition: string, logs: ReadonlyMap<number, { logStartOffset: number; batches: readonly StoredBatch[] }>): void {
    const registry = this.registry(partition);
    const committedEnd = Math.max(0, ...[...registry.values()].map((b) => b.lastOffset + 1));
    for (const [broker, { logStartOffset, batches }] of logs) {
      const stored = new Map(batches.map((b) => [b.baseOffset, b.bytes]));
      let end = batches[0]?.baseOffset ?? committedEnd;
      if (end > logStartOffset && registry.has(logStartOffset)) this.fail('identical logs', `broker ${broker} ${partition}: log starts at ${logStartOffset}, its first batch at ${end}`);
      for (const b of batches) {
        if (b.baseOffset !== end) this.fail('identical logs', `broker ${broker} ${partition}: batch at ${b.baseOffset} after end ${end}`);
        end = b.baseOffset + readBatchHeader(b.bytes).lastOffsetDelta + 1;
        const known = registry.get(b.baseOffset);
        this.comparisons++;
        if (known === undefined || known.hex !== b.bytes.toString('hex')) this.fail('identical logs', `broker ${broker} ${partition}: holds ${batchId(b.bytes)} at ${b.baseOffset}, committed there: ${known?.id ?? 'nothing'}`);
      }
      if (end !== committedEnd) this.fail('identical logs', `broker ${broker} ${partition}: log ends at ${end}, the committed log at ${committedEnd}`);
      for (const [what, map] of [['acknowledged', this.ackedOf(partition)], ['consumed', this.consumedOf(partition)]] as const) {
        for (const [offset, id] of map) {
          if (offset < logStartOffset) continue;
          const bytes = stored.get(offset);
          if (bytes === undefined || batchId(bytes) !== id) this.fail('no acknowledged batch lost', `broker ${broker} ${partition}: ${what} ${id} at ${offset}, the log holds ${bytes === undefined ? 'nothing' : batchId(bytes)}`);
        }
      }
    }
  }

  committedEnd(partition: string): number {
    return Math.max(0, ...[...this.registry(partition).values()].map((b) => b.lastOffset + 1));
  }

  private registry(partition: string): Map<number, CommittedBatch> {
    return getOrCreate(this.committed, partition);
  }

  private sequencesOf(partition: string): Map<string, number> {
    return getOrCreate(this.sequences, partition);
  }

  private ackedOf(partition: string): Map<number, string> {
    return getOrCreate(this.acked, partition);
  }

  private consumedOf(partition: string): Map<number, string> {
    return getOrCreate(this.consumed, partition);
  }
}

function getOrCreate<K, V>(map: Map<string, Map<K, V>>, key: string): Map<K, V> {
  let value = map.get(key);
  if (value === undefined) {
    value = new Map();
    map.set(key, value);
  }
  return value;
}
