// Goal: a failed fdatasync takes the log directory offline for good and is never retried; an I/O
// error on a write does the same; the other partitions of a healthy directory are unaffected by a
// corrupt partition.
// Method: a fault-injecting Disk wrapper and the LogManager over real files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync, writeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogManager } from '../../src/storage/log-manager.ts';
import { IoError, isStreamBusError } from '../../src/util/errors.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { FaultyDisk, backends, sizedBatch, tempDir } from './helpers.ts';

const opts = { segmentBytes: 8192, indexIntervalBytes: 512, preallocateBytes: 0, syncIntervalMs: 0 };

for (const { name, disk } of backends()) {
  test(`${name}: a failed fdatasync takes the whole directory offline and is not retried`, async () => {
    const dir = tempDir();
    const faulty = new FaultyDisk(disk);
    const manager = await LogManager.open(dir.path, opts, faulty, new ManualClock());
    try {
      const a = await manager.create('a', 0);
      const b = await manager.create('b', 0);
      await a.waitDurable(a.append(sizedBatch(1, 100, 1), { leaderEpoch: 0 }).lastOffset);
      faulty.failSync = true;
      const r = a.append(sizedBatch(1, 100, 2), { leaderEpoch: 0 });
      await assert.rejects(a.waitDurable(r.lastOffset), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE'));
      const syncsAfterFailure = faulty.syncs;
      faulty.failSync = false;
      assert.ok(isStreamBusError(manager.dirOffline, 'SB_ERR_LOG_DIR_OFFLINE'));
      assert.ok(a.offline && b.offline, 'every log of the directory is offline');
      assert.throws(() => a.append(sizedBatch(1, 10, 3), { leaderEpoch: 0 }), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE'));
      assert.throws(() => b.append(sizedBatch(1, 10, 3), { leaderEpoch: 0 }), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE'));
      await assert.rejects(a.read(0, 100), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE'));
      await assert.rejects(a.sync(), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE'));
      assert.equal(faulty.syncs, syncsAfterFailure, 'no fdatasync after the failed one');
      assert.equal(manager.get('a', 0), undefined);
      await assert.rejects(manager.create('c', 0), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE'));
    } finally {
      await manager.close();
      dir.remove();
    }
  });

  test(`${name}: an I/O error on a write takes the log offline`, async () => {
    const dir = tempDir();
    const faulty = new FaultyDisk(disk);
    const manager = await LogManager.open(dir.path, opts, faulty, new ManualClock());
    try {
      const a = await manager.create('a', 0);
      const original = faulty.openAppend.bind(faulty);
      // The next segment file fails every write with EIO.
      faulty.openAppend = async (path, o) => {
        const f = await original(path, o);
        const fail = (): never => {
          throw new IoError('EIO', path, 'append (simulated)');
        };
        return { ...f, path: f.path, direct: f.direct, size: f.size, append: async () => fail(), appendNow: fail, sync: f.sync, truncate: f.truncate, close: f.close };
      };
      let offline: unknown;
      for (let i = 0; i < 50 && !offline; i++) {
        const r = a.append(sizedBatch(1, 1000, i), { leaderEpoch: 0 });
        await a.waitWritten(r.lastOffset).catch((e) => (offline = e));
      }
      assert.ok(isStreamBusError(offline, 'SB_ERR_LOG_DIR_OFFLINE') || isStreamBusError(offline, 'SB_ERR_IO'), String(offline));
      assert.ok(a.offline);
      assert.ok(manager.dirOffline);
    } finally {
      await manager.close();
      dir.remove();
    }
  });

  test(`${name}: a corrupt partition stays offline at startup, the others run`, async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    let manager = await LogManager.open(dir.path, opts, disk, clock);
    for (const topic of ['good', 'bad']) {
      const log = await manager.create(topic, 0);
      for (let i = 0; i < 30; i++) log.append(sizedBatch(2, 700, i), { leaderEpoch: 0 });
      await log.sync();
    }
    const badFirst = join(dir.path, 'bad-0', '00000000000000000000.log');
    // Simulate a crash (no clean markers), then damage a sealed segment of 'bad'.
    for (const p of manager.partitions()) await manager.get(p.topic, p.partition)!.close({ clean: false });
    const fd = openSync(badFirst, 'r+');
    writeSync(fd, Buffer.from([readFileSync(badFirst)[300]! ^ 1]), 0, 1, 300);
    closeSync(fd);
    manager = await LogManager.open(dir.path, opts, disk, clock);
    try {
      assert.equal(manager.recovery.online, 1);
      assert.equal(manager.recovery.offline, 1);
      assert.equal(manager.get('bad', 0), undefined);
      const err = manager.offlineError('bad', 0);
      assert.ok(isStreamBusError(err, 'SB_ERR_CORRUPT'));
      assert.match(err.message, /00000000000000000000\.log: CRC32C mismatch .* at position 0/);
      const good = manager.get('good', 0)!;
      assert.equal(good.endOffset, 60);
      good.append(sizedBatch(1, 10, 1), { leaderEpoch: 0 });
      await good.sync();
      assert.equal(manager.dirOffline, undefined);
      assert.deepEqual(
        manager.partitions().map((p) => `${p.topic}:${p.online}`).sort(),
        ['bad:false', 'good:true'],
      );
    } finally {
      await manager.close();
      dir.remove();
    }
  });
}
