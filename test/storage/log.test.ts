// Goal: the partition Log keeps its contract on both Disk backends: appends assign offsets and rewrite
// the batch header, reads return whole batches byte for byte, segments roll by size and time,
// truncation and log-start moves are segment-aware, waits resolve at the right moments, and a
// reopen (clean or not) finds the same log.
// Method: real files in a temp folder, a manual clock, batches built with the test helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { Log } from '../../src/storage/log.ts';
import { isStreamBusError } from '../../src/util/errors.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { FaultyDisk, backends, makeBatch, sizedBatch, tempDir } from './helpers.ts';

const small = { segmentBytes: 4096, indexIntervalBytes: 256, preallocateBytes: 0, syncIntervalMs: 0 };

for (const { name, disk } of backends()) {
  for (const ioMode of ['direct', 'buffered'] as const) {
    test(`${name}/${ioMode}: append assigns offsets, stamps the header, reads return the same bytes`, async () => {
      const dir = tempDir();
      const clock = new ManualClock();
      const log = await Log.open(dir.path, { ...small, ioMode }, disk, clock);
      try {
        const batches = Array.from({ length: 40 }, (_, i) => sizedBatch(1 + (i % 3), 200 + i * 13, i));
        const expected: Buffer[] = [];
        let next = 0;
        for (const b of batches) {
          const r = log.append(b, { leaderEpoch: 7 });
          assert.equal(r.baseOffset, next);
          assert.equal(b.readBigInt64BE(0), BigInt(next));
          assert.equal(b.readInt32BE(12), 7);
          next = r.lastOffset + 1;
          expected.push(Buffer.from(b));
        }
        assert.equal(log.endOffset, next);
        await log.sync();
        assert.equal(log.durableOffset, next);
        assert.ok(log.segmentCount > 1, 'small segments must have rolled');
        // Read everything back, one call at a time, from every batch boundary.
        const all = Buffer.concat(expected);
        let offset = 0;
        const got: Buffer[] = [];
        while (offset < log.endOffset) {
          const r = await log.read(offset, 1000);
          assert.ok(r.buffers.length > 0);
          got.push(...r.buffers);
          offset = r.nextOffset;
        }
        assert.deepEqual(Buffer.concat(got), all);
        // A read from inside a batch returns that whole batch.
        const mid = expected.findIndex((b) => b.readInt32BE(23) > 0);
        const inside = Number(expected[mid]!.readBigInt64BE(0)) + 1;
        const r = await log.read(inside, 1);
        assert.deepEqual(r.buffers[0], expected[mid]);
        assert.deepEqual((await log.read(log.endOffset, 1000)).buffers, []);
        await assert.rejects(log.read(log.endOffset + 1, 10), (e) => isStreamBusError(e, 'SB_ERR_OFFSET_OUT_OF_RANGE'));
      } finally {
        await log.close();
        dir.remove();
      }
    });
  }

  test(`${name}: invalid batches are refused and nothing is written`, async () => {
    const dir = tempDir();
    const log = await Log.open(dir.path, small, disk, new ManualClock());
    try {
      const good = makeBatch([{ value: Buffer.from('x') }]);
      const badCrc = Buffer.from(good);
      badCrc[62] = (badCrc[62]! ^ 1) & 0xff;
      assert.throws(() => log.append(badCrc, { leaderEpoch: 0 }), (e) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH'));
      const badLength = Buffer.concat([good, Buffer.alloc(3)]);
      assert.throws(() => log.append(badLength, { leaderEpoch: 0 }), (e) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH'));
      const badMagic = Buffer.from(good);
      badMagic[16] = 1;
      assert.throws(() => log.append(badMagic, { leaderEpoch: 0 }), (e) => isStreamBusError(e, 'SB_ERR_INVALID_BATCH'));
      assert.equal(log.endOffset, 0);
      assert.equal(log.sizeBytes, 0);
      log.append(good, { leaderEpoch: 0 });
      assert.equal(log.endOffset, 1);
    } finally {
      await log.close();
      dir.remove();
    }
  });

  test(`${name}: reopen after a clean close skips the scan; after an unclean one rebuilds`, async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    let log = await Log.open(dir.path, small, disk, clock);
    const copies: Buffer[] = [];
    for (let i = 0; i < 30; i++) {
      const b = sizedBatch(2, 300, i);
      log.append(b, { leaderEpoch: 1 });
      copies.push(b);
    }
    await log.sync();
    await log.close();
    log = await Log.open(dir.path, small, disk, clock);
    assert.equal(log.recovery.cleanShutdown, true);
    assert.equal(log.endOffset, 60);
    const r1 = await log.read(0, 1 << 20);
    assert.ok(r1.buffers.length > 0);
    log.append(sizedBatch(1, 100, 99), { leaderEpoch: 2 });
    await log.sync();
    await log.close({ clean: false });
    log = await Log.open(dir.path, small, disk, clock);
    try {
      assert.equal(log.recovery.cleanShutdown, false);
      assert.equal(log.recovery.truncatedBytes > 0 ? log.endOffset : log.endOffset, 61);
      let offset = 0;
      const got: Buffer[] = [];
      while (offset < 60) {
        const r = await log.read(offset, 500);
        got.push(...r.buffers);
        offset = r.nextOffset;
      }
      assert.deepEqual(Buffer.concat(got), Buffer.concat(copies));
    } finally {
      await log.close();
      dir.remove();
    }
  });

  test(`${name}: roll by time`, async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const log = await Log.open(dir.path, { ...small, segmentBytes: 1 << 20, segmentMs: 1000 }, disk, clock);
    try {
      log.append(sizedBatch(1, 100, 1), { leaderEpoch: 0 });
      clock.advance(500);
      log.append(sizedBatch(1, 100, 2), { leaderEpoch: 0 });
      assert.equal(log.segmentCount, 1);
      clock.advance(600);
      log.append(sizedBatch(1, 100, 3), { leaderEpoch: 0 });
      assert.equal(log.segmentCount, 2);
      assert.deepEqual(log.segmentBaseOffsets(), [0, 2]);
      await log.sync();
    } finally {
      await log.close();
      dir.remove();
    }
  });

  test(`${name}: truncateTo cuts whole batches, across segments, and appends continue`, async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const log = await Log.open(dir.path, small, disk, clock);
    try {
      for (let i = 0; i < 40; i++) log.append(sizedBatch(2, 250, i), { leaderEpoch: 1 });
      await log.sync();
      const segmentsBefore = log.segmentCount;
      assert.ok(segmentsBefore >= 3);
      // Into the middle of a batch: the whole batch goes.
      await log.truncateTo(51);
      assert.equal(log.endOffset, 50);
      assert.ok(log.segmentCount < segmentsBefore);
      // Into a sealed segment (the first one).
      await log.truncateTo(4);
      assert.equal(log.endOffset, 4);
      assert.equal(log.segmentCount, 1);
      const b = sizedBatch(3, 100, 77);
      const r = log.append(b, { leaderEpoch: 2 });
      assert.equal(r.baseOffset, 4);
      await log.waitDurable(r.lastOffset);
      const read = await log.read(4, 1 << 20);
      assert.deepEqual(read.buffers[0], b);
      await log.close({ clean: false });
      const again = await Log.open(dir.path, small, disk, clock);
      assert.equal(again.endOffset, 7);
      assert.deepEqual((await again.read(4, 1 << 20)).buffers[0], b);
      await again.close();
    } finally {
      dir.remove();
    }
  });

  test(`${name}: advanceLogStart deletes whole segments below it and persists`, async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    let log = await Log.open(dir.path, small, disk, clock);
    for (let i = 0; i < 40; i++) log.append(sizedBatch(1, 400, i), { leaderEpoch: 0 });
    await log.sync();
    const bases = log.segmentBaseOffsets();
    const target = bases[2]! + 1;
    await log.advanceLogStart(target);
    assert.equal(log.logStartOffset, target);
    assert.equal(log.segmentBaseOffsets()[0], bases[2]);
    await assert.rejects(log.read(target - 1, 10), (e) => isStreamBusError(e, 'SB_ERR_OFFSET_OUT_OF_RANGE'));
    assert.equal((await log.read(target, 10)).firstOffset, target);
    await log.close({ clean: false });
    log = await Log.open(dir.path, small, disk, clock);
    assert.equal(log.logStartOffset, target);
    // Everything: the active segment rolls and goes too.
    await log.advanceLogStart(log.endOffset);
    assert.equal(log.segmentCount, 1);
    assert.equal(log.sizeBytes, 0);
    assert.equal(log.logStartOffset, 40);
    await log.reset(1000);
    assert.equal(log.endOffset, 1000);
    assert.equal(log.append(sizedBatch(1, 10, 1), { leaderEpoch: 0 }).baseOffset, 1000);
    await log.close();
    assert.deepEqual(
      readdirSync(dir.path).filter((f) => f.endsWith('.log')),
      ['00000000000000001000.log'],
    );
    dir.remove();
  });

  test(`${name}: offsetForTimestamp finds the first batch at or after a time`, async () => {
    const dir = tempDir();
    const log = await Log.open(dir.path, small, disk, new ManualClock());
    try {
      for (let i = 0; i < 50; i++) log.append(sizedBatch(1, 200, i, 1_000_000 + i * 10), { leaderEpoch: 0 });
      await log.sync();
      assert.equal(await log.offsetForTimestamp(0), 0);
      assert.equal(await log.offsetForTimestamp(1_000_000 + 255), 26);
      assert.equal(await log.offsetForTimestamp(1_000_000 + 490), 49);
      assert.equal(await log.offsetForTimestamp(1_000_000 + 491), undefined);
    } finally {
      await log.close();
      dir.remove();
    }
  });

  test(`${name}: concurrent durable waits share fdatasyncs (group commit)`, async () => {
    const dir = tempDir();
    const counting = new FaultyDisk(disk);
    const log = await Log.open(dir.path, { ...small, segmentBytes: 1 << 24 }, counting, new ManualClock());
    let resolved = 0;
    try {
      const waits: Promise<void>[] = [];
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < 50; i++) {
          const r = log.append(sizedBatch(1, 100, i), { leaderEpoch: 0 });
          waits.push(log.waitDurable(r.lastOffset).then(() => void resolved++));
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(waits);
      assert.equal(resolved, 200);
      assert.equal(log.durableOffset, 200);
      // 200 waiters in 4 bursts: a handful of fdatasyncs, not one per waiter.
      assert.ok(counting.syncs >= 1 && counting.syncs <= 8, `fdatasyncs: ${counting.syncs}`);
    } finally {
      await log.close();
      dir.remove();
    }
  });

  test(`${name}: with an interval, durability waits for the timer`, async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const log = await Log.open(dir.path, { ...small, syncIntervalMs: 1000 }, disk, clock);
    try {
      const r = log.append(sizedBatch(1, 100, 1), { leaderEpoch: 0 });
      let durable = false;
      const p = log.waitDurable(r.lastOffset).then(() => (durable = true));
      await log.waitWritten(r.lastOffset);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(durable, false);
      clock.advance(1000);
      await p;
      assert.equal(durable, true);
    } finally {
      await log.close();
      dir.remove();
    }
  });
}
