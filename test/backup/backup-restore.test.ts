// Goal: a backup of a log that is open and being written (as in a running broker) restores to a log
// holding every batch written before the backup, byte for byte; an incremental backup copies only the
// segments that are new or changed since the previous one and restores just as well; verify finds a
// flipped byte in any stored segment and restore then refuses, writing nothing; restore refuses a
// non-empty data directory and one a live process holds.
// Method: a storage Log with small segments in a temporary data directory, appended to and synced,
// backed up through createBackup (both Disk backends), restored with restoreBackup into another
// directory, and opened again with Log.open (the broker's recovery path: no clean-shutdown marker).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Log } from '../../src/storage/log.ts';
import { readLastOffset, splitBatches } from '../../src/protocol/kafka/record-batch/header.ts';
import { createBackup } from '../../src/backup/create-backup.ts';
import { restoreBackup } from '../../src/backup/restore-backup.ts';
import { verifyBackups } from '../../src/backup/verify-backup.ts';
import { listBackups } from '../../src/backup/backup-folder.ts';
import { lockDirectory } from '../../src/app/data-dir-lock.ts';
import { isStreamBusError } from '../../src/util/errors.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { backends, sizedBatch, tempDir } from '../storage/helpers.ts';

const SMALL = { segmentBytes: 4096, indexIntervalBytes: 256, preallocateBytes: 64 * 1024, syncIntervalMs: 0 };

async function readAll(log: Log): Promise<Buffer> {
  const out: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.endOffset) {
    const r = await log.read(offset, 1 << 20);
    for (const b of r.buffers) {
      out.push(Buffer.from(b));
      for (const { start } of splitBatches(b)) offset = readLastOffset(b, start) + 1;
    }
  }
  return Buffer.concat(out);
}

for (const { name, disk } of backends()) {
  test(`${name}: full and incremental backups of a log being written restore every batch written before them`, async () => {
    const root = tempDir('sb-backup-');
    const dataDir = join(root.path, 'data');
    const backupDir = join(root.path, 'backups');
    const options = (full: boolean, nowMs: number) => ({
      backupDir,
      dataDir,
      raftDir: join(dataDir, 'raft'),
      brokerId: 1,
      configFile: null,
      configFiles: [],
      full,
      version: 'test',
      now: () => new Date(nowMs),
      lock: lockDirectory,
    });
    const log = await Log.open(join(dataDir, 'orders-0'), SMALL, disk, new ManualClock());
    try {
      writeFileSync(join(dataDir, 'cluster-metadata.json'), '{"version":2}');
      const written: Buffer[] = [];
      const append = async (count: number, seed: number) => {
        for (let i = 0; i < count; i++) {
          const b = sizedBatch(1 + (i % 3), 300 + ((seed + i) % 7) * 40, seed + i);
          log.append(b, { leaderEpoch: 3 });
          written.push(b);
        }
        await log.sync();
      };
      await append(30, 0);
      const first = await createBackup(disk, options(false, Date.parse('2026-12-01T02:00:00Z')));
      const atFirst = Buffer.concat(written);
      assert.equal(first.manifest.kind, 'full');
      const firstSegments = first.manifest.files.filter((f) => f.kind === 'segment');
      assert.ok(firstSegments.length > 2, 'the log must have rolled');
      assert.ok(firstSegments.some((f) => f.sealed === true) && firstSegments.some((f) => f.sealed === false));
      // The active segment was copied up to its last batch, not with its reserved zeros.
      const active = firstSegments.find((f) => f.sealed === false)!;
      assert.equal(active.nextOffset, log.endOffset);

      await append(30, 100);
      const second = await createBackup(disk, options(false, Date.parse('2026-12-01T03:00:00Z')));
      assert.equal(second.manifest.kind, 'incremental');
      assert.equal(second.manifest.parent, first.manifest.id);
      const reused = second.manifest.files.filter((f) => f.storedIn === first.manifest.id);
      const sealedBefore = firstSegments.filter((f) => f.sealed === true).map((f) => f.path);
      assert.deepEqual(reused.map((f) => f.path).sort(), sealedBefore.sort(), 'exactly the segments sealed in the full backup are reused');
      assert.equal(second.totals.reusedFiles, sealedBefore.length);
      // Only the new segments (and the small files) were written into the incremental backup.
      const stored = readdirSync(join(backupDir, second.manifest.id, 'files', 'data', 'orders-0')).sort();
      for (const path of sealedBefore) assert.ok(!stored.includes(path.split('/').pop()!), `${path} copied again`);

      const verified = await verifyBackups(disk, backupDir, undefined);
      assert.deepEqual(verified.problems, []);
      assert.deepEqual(verified.backups, [first.manifest.id, second.manifest.id]);

      // Restore each backup into an empty folder and open it as the broker would after a crash.
      for (const [id, expected] of [[first.manifest.id, atFirst], [second.manifest.id, Buffer.concat(written)]] as const) {
        const target = join(root.path, `restored-${id}`);
        const restored = await restoreBackup(disk, { backupDir, id, dataDir: target, raftDir: join(target, 'raft'), lock: lockDirectory });
        assert.equal(restored.manifest.id, id);
        assert.equal(readFileSync(join(target, 'cluster-metadata.json'), 'utf8'), '{"version":2}');
        const reopened = await Log.open(join(target, 'orders-0'), SMALL, disk, new ManualClock());
        try {
          assert.equal(reopened.recovery.truncatedBytes, 0);
          assert.ok((await readAll(reopened)).equals(expected), `backup ${id} restores the log byte for byte`);
        } finally {
          await reopened.close();
        }
      }
    } finally {
      await log.close();
    }

    // A flipped byte in a stored segment: verify names it, restore refuses before writing anything.
    const full = (await listBackups(disk, backupDir))[0]!.manifest!;
    const victim = full.files.find((f) => f.kind === 'segment' && f.sealed === true)!;
    const victimPath = join(backupDir, full.id, 'files', ...victim.path.split('/'));
    const bytes = readFileSync(victimPath);
    bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0x40;
    writeFileSync(victimPath, bytes);
    const verified = await verifyBackups(disk, backupDir, undefined);
    assert.ok(verified.problems.some((p) => p.backup === full.id && p.path === victim.path && /CRC32C mismatch/.test(p.problem)), JSON.stringify(verified.problems));
    const target = join(root.path, 'refused');
    await assert.rejects(
      restoreBackup(disk, { backupDir, dataDir: target, raftDir: join(target, 'raft'), lock: lockDirectory }),
      (e: unknown) => isStreamBusError(e) && e.code === 'SB_ERR_CORRUPT' && e.message.includes(victim.path),
    );
    assert.deepEqual(readdirSync(target), [], 'nothing was restored');

    // A data directory that holds anything is refused.
    const busy = join(root.path, 'busy');
    mkdirSync(join(busy, 'orders-0'), { recursive: true });
    await assert.rejects(
      restoreBackup(disk, { backupDir, id: full.id, dataDir: busy, raftDir: join(busy, 'raft'), lock: lockDirectory }),
      (e: unknown) => isStreamBusError(e) && e.code === 'SB_ERR_BACKUP' && /not empty/.test(e.message),
    );
    // One a live broker process holds is refused too (a stand-in whose command line says broker).
    const held = join(root.path, 'held');
    mkdirSync(held);
    const broker = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'broker'], { stdio: 'ignore' });
    try {
      writeFileSync(join(held, '.lock'), `${broker.pid}\n`);
      await assert.rejects(
        restoreBackup(disk, { backupDir, id: full.id, dataDir: held, raftDir: join(held, 'raft'), lock: lockDirectory }),
        (e: unknown) => isStreamBusError(e) && /in use by a running broker/.test(e.message),
      );
    } finally {
      broker.kill('SIGKILL');
    }
    root.remove();
  });
}
