// Goal: the LogManager opens every partition folder, creates and deletes logs, applies retention and
// per-topic options, and reports the storage metrics (statfs of the data directory, log sizes).
// Method: real folders with both backends; a manual clock for retention.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LogManager } from '../../src/storage/log-manager.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { backends, sizedBatch, tempDir } from './helpers.ts';

const opts = { segmentBytes: 4096, indexIntervalBytes: 512, preallocateBytes: 0, syncIntervalMs: 0 };

for (const { name, disk } of backends()) {
  test(`${name}: open, create, reopen, delete, sizes and statfs`, async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    mkdirSync(join(dir.path, 'raft')); // not a partition folder: ignored
    let manager = await LogManager.open(dir.path, opts, disk, clock);
    assert.equal(manager.recovery.partitions.length, 0);
    const a = await manager.create('orders', 0);
    const b = await manager.create('orders', 1, { retentionBytes: 5000 });
    assert.equal(await manager.create('orders', 0), a, 'create returns the open log');
    for (let i = 0; i < 20; i++) {
      a.append(sizedBatch(1, 500, i), { leaderEpoch: 0 });
      b.append(sizedBatch(1, 500, i), { leaderEpoch: 0 });
    }
    await a.sync();
    await b.sync();
    const sizes = manager.partitionSizes().sort((x, y) => x.partition - y.partition);
    assert.deepEqual(sizes.map((s) => [s.topic, s.partition]), [['orders', 0], ['orders', 1]]);
    assert.equal(sizes[0]!.sizeBytes, a.sizeBytes);
    assert.ok(sizes[0]!.sizeBytes > 10_000);
    const stats = await manager.storageStats();
    assert.ok(stats.totalBytes > 0 && stats.availableBytes > 0 && stats.usedBytes > 0);
    assert.equal(stats.usedBytes, stats.totalBytes - stats.freeBytes);
    // Retention by size applies only to the partition that has it.
    const deleted = await manager.runRetention();
    assert.ok(deleted > 0);
    assert.ok(b.sizeBytes < 5000 + 4096, `retained ${b.sizeBytes}`);
    assert.equal(a.logStartOffset, 0);
    assert.ok(b.logStartOffset > 0);
    await manager.close();
    manager = await LogManager.open(dir.path, opts, disk, clock);
    assert.equal(manager.recovery.online, 2);
    assert.equal(manager.recovery.cleanShutdowns, 2);
    assert.equal(manager.get('orders', 0)!.endOffset, 20);
    await manager.delete('orders', 0);
    assert.equal(existsSync(join(dir.path, 'orders-0')), false);
    assert.equal(manager.get('orders', 0), undefined);
    await manager.close();
    dir.remove();
  });

  test(`${name}: retention by time removes old closed segments only`, async () => {
    const dir = tempDir();
    const clock = new ManualClock(1_000_000);
    const manager = await LogManager.open(dir.path, { ...opts, retentionMs: 10_000 }, disk, clock);
    try {
      const log = await manager.create('t', 0);
      for (let i = 0; i < 20; i++) log.append(sizedBatch(1, 500, i, 1_000_000 + i), { leaderEpoch: 0 });
      for (let i = 20; i < 30; i++) log.append(sizedBatch(1, 500, i, 2_000_000 + i), { leaderEpoch: 0 });
      await log.sync();
      assert.equal(await manager.runRetention(1_005_000), 0, 'nothing old enough yet');
      const n = await manager.runRetention(1_500_000);
      assert.ok(n > 0);
      assert.ok(log.logStartOffset > 0 && log.logStartOffset <= 20);
      assert.equal(log.endOffset, 30);
    } finally {
      await manager.close();
      dir.remove();
    }
  });
}
