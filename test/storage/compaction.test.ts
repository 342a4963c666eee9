// Goal: compaction keeps the latest record per key in closed segments, keeps tombstones until
// deleteRetentionMs has passed, never touches the active segment, and leaves a log that reopens.
// Method: keyed batches in small segments on both backends, compacted at chosen times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactLog } from '../../src/storage/compaction.ts';
import { Log } from '../../src/storage/log.ts';
import { batchSizeAt, readBaseOffset, readLastOffsetDelta, readRecordsCount } from '../../src/protocol/kafka/record-batch/header.ts';
import { forEachRecord } from '../../src/protocol/kafka/record-batch/records.ts';
import { buildRecordBatch } from '../../src/protocol/kafka/record-batch/builder.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { backends, makeBatch, tempDir } from './helpers.ts';

const opts = { segmentBytes: 2048, indexIntervalBytes: 256, preallocateBytes: 0, syncIntervalMs: 0, cleanupPolicy: 'compact' as const, deleteRetentionMs: 1000 };

async function records(log: Log): Promise<Array<[number, string, string | null]>> {
  const out: Array<[number, string, string | null]> = [];
  let offset = log.logStartOffset;
  while (offset < log.endOffset) {
    const r = await log.read(offset, 1 << 20);
    if (r.buffers.length === 0) break;
    for (const b of r.buffers) {
      for (let at = 0; at < b.length; at += batchSizeAt(b, at)) {
        const base = readBaseOffset(b, at);
        forEachRecord(b, at, (rec) => out.push([base + rec.offsetDelta, rec.key!.toString(), rec.value === null ? null : 'v']));
      }
    }
    offset = r.nextOffset;
  }
  return out;
}

for (const { name, disk } of backends()) {
  test(`${name}: latest value per key wins; tombstones expire after deleteRetentionMs`, async () => {
    const dir = tempDir();
    const clock = new ManualClock(10_000);
    const log = await Log.open(dir.path, opts, disk, clock);
    try {
      // Keys k0..k4 written three times, k1 deleted (tombstone) in the middle.
      for (let round = 0; round < 3; round++) {
        for (let k = 0; k < 5; k++) {
          const value = round === 1 && k === 1 ? null : Buffer.alloc(150, k);
          log.append(makeBatch([{ key: Buffer.from(`k${k}`), value }], 10_000 + round), { leaderEpoch: 0 });
        }
      }
      // Pad with unique keys so the keyed records above end up in closed segments.
      for (let i = 0; i < 20; i++) log.append(makeBatch([{ key: Buffer.from(`pad${i}`), value: Buffer.alloc(150) }], 10_100), { leaderEpoch: 0 });
      await log.sync();
      const before = await records(log);
      const activeBase = log.segmentBaseOffsets().at(-1)!;
      const r1 = await compactLog(log, 10_500);
      assert.ok(r1.recordsRemoved > 0);
      const after = await records(log);
      const closed = after.filter(([o]) => o < activeBase);
      // Superseded values are gone from closed segments; each key's latest record is still there.
      for (let k = 0; k < 5; k++) {
        const latest = before.filter(([, key]) => key === `k${k}`).at(-1)!;
        assert.deepEqual(after.filter(([, key]) => key === `k${k}`), [latest], `k${k}`);
      }
      // The tombstone of k1 was superseded by round 2; offsets only grow; the active segment is intact.
      assert.deepEqual(after.filter(([o]) => o >= activeBase), before.filter(([o]) => o >= activeBase));
      assert.ok(closed.every(([o], i) => i === 0 || o > closed[i - 1]![0]));
      // Reads from a removed offset return the next record's batch.
      assert.ok((await log.read(0, 1)).firstOffset >= 0);
      await log.close({ clean: false });
      const reopened = await Log.open(dir.path, opts, disk, clock);
      assert.deepEqual(await records(reopened), after);
      await reopened.close();
    } finally {
      dir.remove();
    }
  });

  test(`${name}: a latest tombstone stays until it is old enough`, async () => {
    const dir = tempDir();
    const clock = new ManualClock(50_000);
    const log = await Log.open(dir.path, opts, disk, clock);
    try {
      log.append(makeBatch([{ key: Buffer.from('x'), value: Buffer.alloc(100) }], 50_000), { leaderEpoch: 0 });
      log.append(makeBatch([{ key: Buffer.from('x'), value: null }], 50_001), { leaderEpoch: 0 });
      for (let i = 0; i < 20; i++) log.append(makeBatch([{ key: Buffer.from(`p${i}`), value: Buffer.alloc(150) }], 50_002), { leaderEpoch: 0 });
      await log.sync();
      await compactLog(log, 50_500);
      let xs = (await records(log)).filter(([, k]) => k === 'x');
      assert.deepEqual(xs, [[1, 'x', null]], 'only the tombstone remains');
      await compactLog(log, 52_000);
      xs = (await records(log)).filter(([, k]) => k === 'x');
      assert.deepEqual(xs, [], 'the tombstone expired');
    } finally {
      await log.close();
      dir.remove();
    }
  });

  test(`${name}: records of aborted transactions never supersede committed ones and are removed`, async () => {
    for (const keepEmptyBatches of [false, true]) {
      const dir = tempDir();
      const clock = new ManualClock(10_000);
      const log = await Log.open(dir.path, opts, disk, clock);
      try {
        log.append(makeBatch([{ key: Buffer.from('x'), value: Buffer.alloc(100, 1) }], 10_000), { leaderEpoch: 0 });
        const aborted = log.append(buildRecordBatch([{ key: Buffer.from('x'), value: Buffer.alloc(100, 2) }], { transactional: true, producerId: 7n, producerEpoch: 0, baseSequence: 0, baseTimestamp: 10_001n }), { leaderEpoch: 0 }).baseOffset;
        const committed = log.append(buildRecordBatch([{ key: Buffer.from('y'), value: Buffer.alloc(100, 3) }], { transactional: true, producerId: 8n, producerEpoch: 0, baseSequence: 0, baseTimestamp: 10_001n }), { leaderEpoch: 0 }).baseOffset;
        for (let i = 0; i < 20; i++) log.append(makeBatch([{ key: Buffer.from(`pad${i}`), value: Buffer.alloc(150) }], 10_002), { leaderEpoch: 0 });
        await log.sync();
        const r = await compactLog(log, 10_500, { keepEmptyBatches, isAborted: (producerId, offset) => producerId === 7n && offset === aborted });
        assert.equal(r.recordsRemoved, 1, 'only the aborted record goes');
        const after = await records(log);
        assert.deepEqual(after.filter(([, k]) => k === 'x').map(([o]) => o), [0], 'the committed x stays, the aborted one is gone');
        assert.deepEqual(after.filter(([, k]) => k === 'y').map(([o]) => o), [committed], 'a committed transaction stays');
        const bases: number[] = [];
        for (let offset = 0; offset < log.endOffset; ) {
          const read = await log.read(offset, 1 << 20);
          for (const b of read.buffers) for (let at = 0; at < b.length; at += batchSizeAt(b, at)) bases.push(readBaseOffset(b, at));
          offset = read.nextOffset;
        }
        assert.equal(bases.includes(aborted), keepEmptyBatches, 'the emptied batch stays only under keepEmptyBatches');
      } finally {
        await log.close();
        dir.remove();
      }
    }
  });

  test(`${name}: with limits (a replicated log): nothing at or above upTo is read or rewritten, and emptied batches stay as headers`, async () => {
    const dir = tempDir();
    const clock = new ManualClock(10_000);
    const log = await Log.open(dir.path, opts, disk, clock);
    const batches = async (): Promise<Array<[number, number, number]>> => {
      const out: Array<[number, number, number]> = [];
      for (let offset = log.logStartOffset; offset < log.endOffset; ) {
        const r = await log.read(offset, 1 << 20);
        for (const b of r.buffers) for (let at = 0; at < b.length; at += batchSizeAt(b, at)) out.push([readBaseOffset(b, at), readLastOffsetDelta(b, at), readRecordsCount(b, at)]);
        offset = r.nextOffset;
      }
      return out;
    };
    try {
      // Two records per batch, both keys written again in every round: every batch but the last is superseded.
      for (let round = 0; round < 30; round++) {
        log.append(makeBatch([{ key: Buffer.from('a'), value: Buffer.alloc(120, round) }, { key: Buffer.from('b'), value: Buffer.alloc(120, round) }], 10_000), { leaderEpoch: 0 });
      }
      await log.sync();
      const before = await batches();
      const bases = log.segmentBaseOffsets();
      assert.ok(bases.length >= 4, `segments ${bases.join(',')}`);
      // The limit at the start of the second-to-last segment: only the segments wholly below it are
      // cleaned, and the keys' later records (at or above it) do not count, so the last batch below it
      // keeps both records while every earlier one is emptied to its header.
      const upTo = bases.at(-2)!;
      const r = await compactLog(log, 10_500, { upTo, keepEmptyBatches: true });
      assert.ok(r.recordsRemoved > 0);
      const after = await batches();
      assert.deepEqual(after.map(([base, delta]) => [base, delta]), before.map(([base, delta]) => [base, delta]), 'every batch keeps its base offset and offset range');
      assert.deepEqual(
        after.map(([, , count]) => count),
        before.map(([base]) => (base >= upTo || base === upTo - 2 ? 2 : 0)),
      );
      await log.close({ clean: false });
      const reopened = await Log.open(dir.path, opts, disk, clock);
      try {
        const again: Array<[number, number, number]> = [];
        for (let offset = 0; offset < reopened.endOffset; ) {
          const read = await reopened.read(offset, 1 << 20);
          for (const b of read.buffers) for (let at = 0; at < b.length; at += batchSizeAt(b, at)) again.push([readBaseOffset(b, at), readLastOffsetDelta(b, at), readRecordsCount(b, at)]);
          offset = read.nextOffset;
        }
        assert.deepEqual(again, after, 'the compacted log reopens as it was');
      } finally {
        await reopened.close();
      }
    } finally {
      dir.remove();
    }
  });
}
