// Goal: recovery repairs what a crash can leave (torn or zero-filled tails, missing or damaged
// indexes, leftovers of interrupted changes) and refuses what a crash cannot explain (damage inside a
// segment sealed durably) with SB_ERR_CORRUPT naming the file and position.
// Method: write a log, close it (clean or not), damage the files by hand, reopen, on both backends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, openSync, readFileSync, closeSync, writeSync, truncateSync, unlinkSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Disk } from '../../src/io/disk.ts';
import { Log } from '../../src/storage/log.ts';
import { isStreamBusError } from '../../src/util/errors.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { backends, sizedBatch, tempDir } from './helpers.ts';

const opts = { segmentBytes: 8192, indexIntervalBytes: 512, preallocateBytes: 0, syncIntervalMs: 0 };

/** A log with several segments; returns the folder, the batches' bytes and the segment files. */
async function build(disk: Disk, clean: boolean): Promise<{ dir: ReturnType<typeof tempDir>; batches: Buffer[]; logs: string[] }> {
  const dir = tempDir();
  const log = await Log.open(dir.path, opts, disk, new ManualClock());
  const batches: Buffer[] = [];
  for (let i = 0; i < 40; i++) {
    const b = sizedBatch(2, 700, i);
    log.append(b, { leaderEpoch: 1 });
    batches.push(b);
  }
  await log.sync();
  const logs = log.segmentBaseOffsets().map((o) => join(dir.path, String(o).padStart(20, '0') + '.log'));
  await log.close({ clean });
  return { dir, batches, logs };
}

async function readAll(log: Log): Promise<Buffer> {
  const out: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.endOffset) {
    const r = await log.read(offset, 1 << 20);
    out.push(...r.buffers);
    offset = r.nextOffset;
  }
  return Buffer.concat(out);
}

function flipBit(path: string, position: number): void {
  const fd = openSync(path, 'r+');
  const b = Buffer.alloc(1);
  const data = readFileSync(path);
  b[0] = data[position]! ^ 0x10;
  writeSync(fd, b, 0, 1, position);
  closeSync(fd);
}

for (const { name, disk } of backends()) {
  test(`${name}: a torn last batch is cut, everything before it stays`, async () => {
    const { dir, batches, logs } = await build(disk, false);
    const last = logs[logs.length - 1]!;
    // Sealed files hold exactly their batches; the active one may carry O_DIRECT page padding.
    const sealedBytes = logs.slice(0, -1).reduce((sum, f) => sum + statSync(f).size, 0);
    const dataEnd = batches.reduce((sum, b) => sum + b.length, 0) - sealedBytes;
    truncateSync(last, dataEnd - 100);
    const log = await Log.open(dir.path, opts, disk, new ManualClock());
    try {
      assert.equal(log.recovery.cleanShutdown, false);
      assert.ok(log.recovery.truncatedBytes > 0);
      assert.equal(log.endOffset, 78);
      assert.deepEqual(await readAll(log), Buffer.concat(batches.slice(0, 39)));
    } finally {
      await log.close();
      dir.remove();
    }
  });

  test(`${name}: a zero-filled tail (preallocated or lost pages) is cut`, async () => {
    const { dir, batches, logs } = await build(disk, false);
    appendFileSync(logs[logs.length - 1]!, Buffer.alloc(64 * 1024));
    const log = await Log.open(dir.path, opts, disk, new ManualClock());
    try {
      assert.equal(log.endOffset, 80);
      assert.ok(log.recovery.truncatedBytes >= 64 * 1024);
      assert.deepEqual(await readAll(log), Buffer.concat(batches));
      const again = log.append(sizedBatch(1, 10, 1), { leaderEpoch: 2 });
      assert.equal(again.baseOffset, 80);
    } finally {
      await log.close();
      dir.remove();
    }
  });

  test(`${name}: a flipped bit in the active segment cuts the log there`, async () => {
    const { dir, logs } = await build(disk, false);
    const last = logs[logs.length - 1]!;
    flipBit(last, 200);
    const log = await Log.open(dir.path, opts, disk, new ManualClock());
    try {
      assert.ok(log.recovery.truncatedAt);
      assert.equal(log.recovery.truncatedAt.path, last);
      assert.equal(log.endOffset, log.segmentBaseOffsets().at(-1));
    } finally {
      await log.close();
      dir.remove();
    }
  });

  test(`${name}: a flipped bit in a sealed segment is corruption naming file and position`, async () => {
    const { dir, logs } = await build(disk, false);
    flipBit(logs[1]!, 1000);
    await assert.rejects(Log.open(dir.path, opts, disk, new ManualClock()), (e) => {
      assert.ok(isStreamBusError(e, 'SB_ERR_CORRUPT'));
      assert.match(e.message, new RegExp(`${logs[1]!}: CRC32C mismatch .* at position \\d+`));
      return true;
    });
    // The files are left as they were for inspection: nothing was cut.
    assert.ok(existsSync(logs[2]!));
    dir.remove();
  });

  test(`${name}: a truncated sealed segment is corruption`, async () => {
    const { dir, logs } = await build(disk, false);
    truncateSync(logs[0]!, statSync(logs[0]!).size - 10);
    await assert.rejects(Log.open(dir.path, opts, disk, new ManualClock()), (e) => isStreamBusError(e, 'SB_ERR_CORRUPT') && e.message.includes(logs[0]!));
    dir.remove();
  });

  test(`${name}: missing or damaged indexes are rebuilt after a clean shutdown`, async () => {
    const { dir, batches, logs } = await build(disk, true);
    unlinkSync(logs[0]!.replace(/\.log$/, '.index'));
    writeFileSync(logs[1]!.replace(/\.log$/, '.timeindex'), Buffer.alloc(5));
    const log = await Log.open(dir.path, opts, disk, new ManualClock());
    try {
      // The damaged cache makes the load fall back to a full scan, which finds the same log.
      assert.equal(log.recovery.cleanShutdown, false);
      assert.equal(log.endOffset, 80);
      assert.deepEqual(await readAll(log), Buffer.concat(batches));
      assert.equal((await log.read(33, 1)).firstOffset, 32);
    } finally {
      await log.close();
    }
    assert.ok(existsSync(logs[0]!.replace(/\.log$/, '.index')), 'index written back');
    dir.remove();
  });

  test(`${name}: a clean-shutdown marker that disagrees with the files is not trusted`, async () => {
    const { dir, batches, logs } = await build(disk, true);
    const last = logs[logs.length - 1]!;
    truncateSync(last, statSync(last).size - 50);
    const log = await Log.open(dir.path, opts, disk, new ManualClock());
    try {
      assert.equal(log.recovery.cleanShutdown, false);
      assert.deepEqual(await readAll(log), Buffer.concat(batches.slice(0, 39)));
    } finally {
      await log.close();
      dir.remove();
    }
  });

  test(`${name}: leftovers of interrupted changes are removed`, async () => {
    const { dir, logs } = await build(disk, true);
    const leftovers = [logs[0]! + '.cleaned', logs[1]! + '.swap', logs[0]! + '.deleted', join(dir.path, 'recovery-point.tmp'), join(dir.path, '00000000000000099999.index')];
    for (const f of leftovers) writeFileSync(f, 'x');
    const log = await Log.open(dir.path, opts, disk, new ManualClock());
    try {
      assert.equal(log.recovery.removedLeftovers, leftovers.length);
      for (const f of leftovers) assert.equal(existsSync(f), false, f);
      assert.equal(log.endOffset, 80);
    } finally {
      await log.close();
      dir.remove();
    }
  });
}
