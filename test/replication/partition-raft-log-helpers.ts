// Shared helpers of the PartitionRaftLog tests: a partition (segment log + Raft log) in a temp
// folder, entry builders (stamped record batches, no-ops, conf changes), a dump of everything a
// store answers, and the adapter that runs the generic RaftLogStore contract suite over a
// partition store. Not a test file itself.
import { EntryType, encodeConfChange, entryBytes } from '../../src/raft/index.ts';
import type { ConfState, Entry, Snapshot } from '../../src/raft/index.ts';
import { buildRecordBatch } from '../../src/protocol/kafka/record-batch/builder.ts';
import { readRecords } from '../../src/protocol/kafka/record-batch/records.ts';
import type { Disk } from '../../src/io/disk.ts';
import { Log } from '../../src/storage/log.ts';
import type { LogOptions } from '../../src/storage/log-options.ts';
import { PartitionRaftLog, type PartitionRaftLogOptions } from '../../src/replication/partition-raft-log.ts';
import { decodePartitionSnapshotData, encodePartitionSnapshotData } from '../../src/replication/partition-raft-files.ts';
import type { RaftLogStore, RaftLogWrite } from '../../src/replication/raft-log-store.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { tempDir } from '../storage/helpers.ts';
import { PortableDisk } from '../../src/io/real/portable-disk.ts';

const portableDisk = new PortableDisk('tests');

export const smallLog: Partial<LogOptions> = { segmentBytes: 4096, indexIntervalBytes: 256, preallocateBytes: 0, syncIntervalMs: 0, ioMode: 'buffered' };

/** A record batch of `values.length` records at `baseOffset`, epoch `term`. */
export function batch(baseOffset: number, term: number, values: readonly string[]): Buffer {
  return buildRecordBatch(
    values.map((v) => ({ value: Buffer.from(v) })),
    { baseOffset: BigInt(baseOffset), partitionLeaderEpoch: term, baseTimestamp: 1_700_000_000_000n },
  );
}

export function dataEntry(index: number, term: number, baseOffset: number, values: readonly string[] = [`v${index}`]): Entry {
  return { index, term, type: EntryType.Normal, data: batch(baseOffset, term, values) };
}

export function noop(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: new Uint8Array(0) };
}

export function confEntry(index: number, term: number, nodeId = 4): Entry {
  return { index, term, type: EntryType.ConfChange, data: encodeConfChange({ type: 'addLearner', nodeId }) };
}

/** The values of a data entry's records. */
export function valuesOf(entry: Entry): string[] {
  return readRecords(Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength)).map((r) => r.value!.toString());
}

export interface Partition {
  readonly dir: string;
  log: Log;
  store: PartitionRaftLog;
  /** Closes the store and the log (cleanly unless told otherwise). */
  close(clean?: boolean): Promise<void>;
  /** Closes and opens both again from the files. */
  reopen(options?: Partial<PartitionRaftLogOptions>): Promise<void>;
  remove(): void;
}

export async function openPartition(
  options: Partial<PartitionRaftLogOptions> = {},
  conf: ConfState = { voters: [1, 2, 3], learners: [] },
  dir = tempDir('sb-partraft-'),
  disk: Disk = portableDisk,
): Promise<Partition> {
  const clock = new ManualClock();
  const open = async (extra: Partial<PartitionRaftLogOptions>) => {
    const log = await Log.open(dir.path, smallLog, disk, clock);
    const store = await PartitionRaftLog.open(log, dir.path, disk, { initialConfState: conf, ...options, ...extra });
    return { log, store };
  };
  const first = await open({});
  const partition: Partition = {
    dir: dir.path,
    log: first.log,
    store: first.store,
    async close(clean = true) {
      await partition.store.close();
      await partition.log.close({ clean });
    },
    async reopen(extra = {}) {
      await partition.close();
      const next = await open(extra);
      partition.log = next.log;
      partition.store = next.store;
    },
    remove: () => dir.remove(),
  };
  return partition;
}

/** Every Kafka batch of the segment log, as [base offset, epoch, values]. */
export async function logContent(log: Log): Promise<{ offset: number; epoch: number; values: string[] }[]> {
  const out: { offset: number; epoch: number; values: string[] }[] = [];
  let offset = log.logStartOffset;
  while (offset < log.endOffset) {
    const read = await log.read(offset, 1 << 20);
    if (read.buffers.length === 0) break;
    for (const buffer of read.buffers) {
      let at = 0;
      while (at < buffer.length) {
        const size = buffer.readInt32BE(at + 8) + 12;
        const b = buffer.subarray(at, at + size);
        out.push({ offset: Number(b.readBigInt64BE(0)), epoch: b.readInt32BE(12), values: readRecords(b).map((r) => r.value!.toString()) });
        at += size;
      }
    }
    offset = read.nextOffset;
  }
  return out;
}

/** Everything a partition store answers (loading entries as needed), in plain data. */
export async function dumpPartition(store: PartitionRaftLog): Promise<unknown> {
  const first = store.firstIndex();
  const last = store.lastIndex();
  const entries = await readAll(store, first, last + 1);
  const starts: number[] = [];
  for (let i = first; i <= last + 1; i++) starts.push(store.startOffset(i));
  return {
    first,
    last,
    prevTerm: store.term(first - 1),
    terms: Array.from({ length: last - first + 1 }, (_, i) => store.term(first + i)),
    starts,
    entries: entries.map((e) => ({ index: e.index, term: e.term, type: e.type, data: Buffer.from(e.data).toString('hex') })),
    initial: store.initialState(),
    snapshot: { metadata: store.snapshot().metadata, data: Buffer.from(store.snapshot().data).toString('hex') },
  };
}

/** entries(lo, hi) in full, waiting for loads when the store answers LogNotLoadedError. */
export async function readAll(store: RaftLogStore, lo: number, hi: number): Promise<Entry[]> {
  const out: Entry[] = [];
  const deadline = Date.now() + 5000;
  while (lo < hi) {
    try {
      const part = store.entries(lo, hi, Number.MAX_SAFE_INTEGER);
      out.push(...part);
      lo += part.length;
    } catch (e) {
      if ((e as { code?: string }).code !== 'SB_ERR_RAFT_LOG_NOT_LOADED') throw e;
      if (Date.now() > deadline) throw new Error('entries never loaded');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
  return out;
}

/**
 * Runs the generic contract suite over a partition store: the suite writes opaque payloads, which a
 * partition store does not take, so each payload travels as the value of a one-record batch
 * stamped at the store's end offset, and reads give the payload back. Snapshots' data is wrapped
 * in (and unwrapped from) the partition envelope. Everything else is the store's own behaviour.
 */
export class PayloadAsBatchStore implements RaftLogStore {
  constructor(readonly inner: PartitionRaftLog) {}

  initialState() {
    return this.inner.initialState();
  }
  firstIndex() {
    return this.inner.firstIndex();
  }
  lastIndex() {
    return this.inner.lastIndex();
  }
  term(index: number) {
    return this.inner.term(index);
  }
  snapshot(): Snapshot {
    const s = this.inner.snapshot();
    return { metadata: s.metadata, data: new Uint8Array(decodePartitionSnapshotData(s.data).ownerData) };
  }
  /** The byte limit applies to the payloads the suite wrote (the batches around them are larger). */
  entries(lo: number, hi: number, maxBytes: number): readonly Entry[] {
    const all = this.inner.entries(lo, hi, Number.MAX_SAFE_INTEGER);
    const out: Entry[] = [];
    let bytes = 0;
    for (const e of all) {
      const plain = e.type === EntryType.Normal && e.data.length > 0 ? { ...e, data: new TextEncoder().encode(valuesOf(e)[0]!) } : e;
      if (out.length > 0 && bytes + entryBytes(plain) > maxBytes) break;
      bytes += entryBytes(plain);
      out.push(plain);
    }
    return out;
  }
  persist(write: RaftLogWrite, done: (error: Error | null) => void): void {
    const snapshot = write.snapshot === null ? null : { metadata: write.snapshot.metadata, data: encodePartitionSnapshotData(1000, write.snapshot.data) };
    const first = snapshot === null ? this.inner.firstIndex() : snapshot.metadata.index + 1;
    let offset = -1;
    const entries = write.entries.map((e) => {
      if (e.index < first || e.type !== EntryType.Normal || e.data.length === 0) return e;
      if (offset < 0) {
        if (snapshot !== null) offset = 1000;
        else offset = e.index <= this.inner.lastIndex() ? this.inner.startOffset(e.index) : this.inner.endOffsetAt(this.inner.lastIndex());
      }
      const stamped = { ...e, data: batch(offset, e.term, [new TextDecoder().decode(e.data)]) };
      offset++;
      return stamped;
    });
    this.inner.persist({ ...write, snapshot, entries }, done);
  }
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): void {
    this.inner.createSnapshot(index, confState, data);
  }
  compact(index: number): void {
    this.inner.compact(index);
  }
}

/** Opens the segment log in `dir` alone (no Raft store), runs `work` on it and closes it cleanly. */
export async function withSegmentLog(dir: string, work: (log: Log) => Promise<void>): Promise<void> {
  const log = await Log.open(dir, smallLog, portableDisk, new ManualClock());
  try {
    await work(log);
  } finally {
    await log.close();
  }
}

export { portableDisk as partitionTestDisk };
