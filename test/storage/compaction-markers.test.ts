// Goal: compaction removes a transaction marker the way Kafka's cleaner does: never while a batch of
// its transaction is in the log; once none is, it stamps the marker with a delete horizon (now +
// deleteRetentionMs, KIP-534: attributes bit 6, the base timestamp, record timestamps kept) and
// removes it at a later pass once the horizon passed, unless it is the last batch of a producer still
// active, or its owner could not forget it durably first; a log that keeps every batch (replicated)
// keeps its markers byte for byte; a segment sealed while compaction waits on its owner is left alone.
// Method: the storage Log on both backends with small segments, transactional batches and markers
// from the protocol builder, compactLog called at chosen times with a stand-in for the partition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactLog, type MarkerRemoval } from '../../src/storage/compaction.ts';
import type { PlannedMarker } from '../../src/storage/compaction-markers.ts';
import { Log } from '../../src/storage/log.ts';
import {
  ControlType,
  batchSizeAt,
  buildControlBatch,
  buildRecordBatch,
  isControlBatch,
  readAttributes,
  readBaseOffset,
  readBaseTimestamp,
  readDeleteHorizonMs,
  readRecords,
} from '../../src/protocol/kafka/record-batch/index.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { backends, makeBatch, tempDir } from './helpers.ts';

const opts = { segmentBytes: 2048, indexIntervalBytes: 256, preallocateBytes: 0, syncIntervalMs: 0, cleanupPolicy: 'compact' as const, deleteRetentionMs: 1000 };

interface SeenBatch {
  base: number;
  control: boolean;
  horizon: number | null;
  /** Each record: its key and absolute timestamp. */
  records: Array<[string, number]>;
  bytes: string;
}

async function batches(log: Log): Promise<SeenBatch[]> {
  const out: SeenBatch[] = [];
  for (let offset = log.logStartOffset; offset < log.endOffset; ) {
    const r = await log.read(offset, 1 << 20);
    if (r.buffers.length === 0) break;
    for (const b of r.buffers) {
      for (let at = 0; at < b.length; at += batchSizeAt(b, at)) {
        const batch = b.subarray(at, at + batchSizeAt(b, at));
        const baseTimestamp = readBaseTimestamp(batch, 0);
        out.push({
          base: readBaseOffset(batch, 0),
          control: isControlBatch(readAttributes(batch, 0)),
          horizon: readDeleteHorizonMs(batch, 0),
          records: readRecords(batch).map((rec) => [rec.key === null ? '' : rec.key.toString('hex'), baseTimestamp + rec.timestampDelta]),
          bytes: batch.toString('hex'),
        });
      }
    }
    offset = r.nextOffset;
  }
  return out;
}

const markerOffsets = (seen: SeenBatch[]) => seen.filter((b) => b.control).map((b) => b.base);

const txn = (producerId: bigint, key: string, timestamp: number) =>
  buildRecordBatch([{ key: Buffer.from(key), value: Buffer.alloc(100, 7) }], { transactional: true, producerId, producerEpoch: 0, baseSequence: 0, baseTimestamp: BigInt(timestamp) });
const marker = (producerId: bigint, commit: boolean, timestamp: number) =>
  buildControlBatch({ type: commit ? ControlType.commit : ControlType.abort, coordinatorEpoch: 0 }, { producerId, producerEpoch: 0, timestamp: BigInt(timestamp) });
const plain = (key: string, timestamp: number) => makeBatch([{ key: Buffer.from(key), value: Buffer.alloc(100, 1) }], timestamp);

/**
 * Offsets: 0 x (plain), 1 x aborted by producer 7, 2 its abort, 3 y committed by producer 8, 4 its
 * commit, 5 z committed by producer 9, 6 its commit, 7 y (plain, supersedes 3), 8 w committed by
 * producer 10, 9 its commit, 10 w (plain, supersedes 8), then unique keys so all of it is sealed.
 */
async function writeLayout(log: Log): Promise<void> {
  const batchesInOrder = [
    plain('x', 10_000), txn(7n, 'x', 10_001), marker(7n, false, 10_002), txn(8n, 'y', 10_003), marker(8n, true, 10_004),
    txn(9n, 'z', 10_005), marker(9n, true, 10_006), plain('y', 10_007), txn(10n, 'w', 10_008), marker(10n, true, 10_009), plain('w', 10_010),
  ];
  for (const b of batchesInOrder) log.append(b, { leaderEpoch: 0 });
  for (let i = 0; i < 20; i++) log.append(plain(`pad${i}`, 10_020), { leaderEpoch: 0 });
  await log.sync();
}

const isAborted = (producerId: bigint, offset: number) => producerId === 7n && offset === 1;

for (const { name, disk } of backends()) {
  test(`${name}: a marker goes only after its transaction left the log and its delete horizon passed`, async () => {
    const dir = tempDir();
    const clock = new ManualClock(10_000);
    const log = await Log.open(dir.path, opts, disk, clock);
    try {
      await writeLayout(log);
      const active = new Set([10n]);
      let allow = true;
      const asked: PlannedMarker[][] = [];
      const markers: MarkerRemoval = {
        isProducerActive: (id) => active.has(id),
        beforeRemoval: async (m) => (asked.push([...m]), allow),
      };
      const compact = (now: number) => compactLog(log, now, { isAborted, markers });
      const original = await batches(log);

      // Pass 1: the aborted record and the superseded committed ones go; their markers still had them.
      const first = await compact(10_500);
      assert.equal(first.recordsRemoved, 3);
      assert.equal(first.markersRemoved, 0);
      let seen = await batches(log);
      assert.deepEqual(markerOffsets(seen), [2, 4, 6, 9]);
      assert.ok(seen.every((b) => b.horizon === null), 'no horizon while the transactions had batches');

      // Pass 2: the markers of the emptied transactions (2, 4, 9) get a horizon; 6 (z is still there) does not.
      await compact(11_000);
      seen = await batches(log);
      assert.deepEqual(seen.filter((b) => b.control).map((b) => [b.base, b.horizon]), [[2, 12_000], [4, 12_000], [6, null], [9, 12_000]]);
      const before = new Map(original.map((b) => [b.base, b.records]));
      for (const b of seen) assert.deepEqual(b.records, before.get(b.base), `batch ${b.base} keeps its records and their timestamps`);
      assert.equal(asked.length, 0);

      // Before the horizon nothing changes.
      const early = await compact(11_999);
      assert.deepEqual([early.segmentsRewritten, early.markersRemoved], [0, 0]);
      assert.deepEqual(await batches(log), seen);

      // Once it passed: an owner that cannot forget them keeps them this time.
      allow = false;
      assert.equal((await compact(12_000)).markersRemoved, 0);
      assert.deepEqual(markerOffsets(await batches(log)), [2, 4, 6, 9]);
      allow = true;
      const removal = await compact(12_000);
      assert.equal(removal.markersRemoved, 2);
      assert.deepEqual(asked.map((m) => m.map((x) => [x.offset, x.producerId, x.commit])), [[[2, 7n, false], [4, 8n, true]], [[2, 7n, false], [4, 8n, true]]]);
      seen = await batches(log);
      assert.deepEqual(markerOffsets(seen), [6, 9], 'the last batch of active producer 10 stays (its epoch)');
      assert.deepEqual(seen.slice(0, 5).map((b) => b.base), [0, 5, 6, 7, 9], 'x, z and its commit, y, the kept marker');

      // Producer 10 expires: its marker goes too.
      active.clear();
      assert.equal((await compact(12_001)).markersRemoved, 1);
      seen = await batches(log);
      assert.deepEqual(markerOffsets(seen), [6]);
      await log.close({ clean: false });
      const reopened = await Log.open(dir.path, opts, disk, clock);
      assert.deepEqual(await batches(reopened), seen, 'the compacted log reopens as it was');
      await reopened.close();
    } finally {
      dir.remove();
    }
  });

  test(`${name}: a log that keeps every batch (replicated) keeps its markers as they are`, async () => {
    const dir = tempDir();
    const clock = new ManualClock(10_000);
    const log = await Log.open(dir.path, opts, disk, clock);
    try {
      await writeLayout(log);
      const original = (await batches(log)).filter((b) => b.control);
      for (const now of [10_500, 11_000, 20_000, 100_000]) await compactLog(log, now, { isAborted, keepEmptyBatches: true });
      const after = await batches(log);
      assert.deepEqual(after.filter((b) => b.control), original, 'every marker, byte for byte');
      assert.deepEqual(after.filter((b) => [1, 3, 8].includes(b.base)).map((b) => b.records.length), [0, 0, 0], 'emptied transactional batches stay as headers');
    } finally {
      await log.close();
      dir.remove();
    }
  });

  test(`${name}: a segment sealed while compaction waits for the owner is not rewritten with a key map that never saw it`, async () => {
    const dir = tempDir();
    const clock = new ManualClock(10_000);
    const log = await Log.open(dir.path, opts, disk, clock);
    try {
      await writeLayout(log);
      const stamping: MarkerRemoval = { isProducerActive: () => false, beforeRemoval: async () => true };
      await compactLog(log, 10_500, { isAborted, markers: stamping });
      await compactLog(log, 11_000, { isAborted, markers: stamping });
      const activeBase = log.segmentBaseOffsets().at(-1)!;
      const late: number[] = [];
      const markers: MarkerRemoval = {
        isProducerActive: () => false,
        // Meanwhile the active segment fills with new keys, rolls and seals.
        beforeRemoval: async () => {
          while (log.segmentBaseOffsets().at(-1) === activeBase) late.push(log.append(plain(`late${late.length}`, 12_000), { leaderEpoch: 0 }).baseOffset);
          await log.sync();
          for (let i = 0; i < 1000 && log.sealedSegmentsForCleaning().every((s) => s.baseOffset !== activeBase); i++) await new Promise((resolve) => setTimeout(resolve, 2));
          assert.ok(log.sealedSegmentsForCleaning().some((s) => s.baseOffset === activeBase), 'the rolled segment sealed');
          return true;
        },
      };
      const before = await batches(log);
      const r = await compactLog(log, 12_000, { isAborted, markers });
      assert.equal(r.markersRemoved, 3);
      const after = await batches(log);
      assert.deepEqual(after.filter((b) => b.base >= activeBase && !late.includes(b.base)), before.filter((b) => b.base >= activeBase), 'nothing of the segment sealed meanwhile went');
      assert.ok(late.length > 0 && late.every((o) => after.some((b) => b.base === o)), 'nor of what was appended meanwhile');
    } finally {
      await log.close();
      dir.remove();
    }
  });
}
