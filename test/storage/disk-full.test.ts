// Goal: a full disk fails appends with SB_ERR_DISK_FULL and loses nothing: reads keep working,
// what was acknowledged survives a reopen, and appends resume once space returns.
// Method: a real 3 MiB tmpfs when this machine lets the test mount one (root), and always a
// size-limited Disk wrapper; both Disk backends on each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Disk } from '../../src/io/disk.ts';
import { Log } from '../../src/storage/log.ts';
import { isStreamBusError } from '../../src/util/errors.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { FaultyDisk, backends, sizedBatch, tempDir } from './helpers.ts';

const opts = { segmentBytes: 256 * 1024, indexIntervalBytes: 4096, preallocateBytes: 64 * 1024, syncIntervalMs: 0 };

function mountTmpfs(): { path: string; unmount(): void } | undefined {
  const path = mkdtempSync(join(tmpdir(), 'sb-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', path], { stdio: 'ignore' });
  if (r.status !== 0) {
    rmSync(path, { recursive: true, force: true });
    return undefined;
  }
  return {
    path,
    unmount: () => {
      // Lazy: mappings of sealed segments may outlive the test until collected; the mount goes with them.
      spawnSync('umount', ['-l', path], { stdio: 'ignore' });
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Fills the disk through the log, frees `free()`, and checks the full-disk contract. */
async function exercise(dir: string, disk: Disk, ioMode: 'direct' | 'buffered', free: () => void): Promise<void> {
  const clock = new ManualClock();
  let log = await Log.open(dir, { ...opts, ioMode }, disk, clock);
  const acked: Buffer[] = [];
  let full: unknown;
  for (let i = 0; i < 400 && !full; i++) {
    const b = sizedBatch(4, 40 * 1024, i);
    const r = log.append(b, { leaderEpoch: 1 });
    try {
      await log.waitDurable(r.lastOffset);
      acked.push(Buffer.from(b));
    } catch (e) {
      full = e;
    }
  }
  assert.ok(full, 'the disk never filled up');
  assert.ok(isStreamBusError(full, 'SB_ERR_DISK_FULL'), `expected SB_ERR_DISK_FULL, got ${String(full)}`);
  assert.equal(log.offline, undefined, 'a full disk does not take the log offline');
  const ackedEnd = acked.length * 4;
  assert.equal(log.endOffset, ackedEnd, 'the failed append was rolled back');
  // Reads keep working.
  const first = await log.read(0, 1);
  assert.deepEqual(first.buffers[0], acked[0]);
  // Space returns: appends resume at the rolled-back end.
  free();
  const b = sizedBatch(4, 1000, 999);
  const r = log.append(b, { leaderEpoch: 2 });
  assert.equal(r.baseOffset, ackedEnd);
  await log.waitDurable(r.lastOffset);
  acked.push(Buffer.from(b));
  await log.close({ clean: false });
  log = await Log.open(dir, { ...opts, ioMode }, disk, clock);
  try {
    const got: Buffer[] = [];
    let offset = 0;
    while (offset < log.endOffset) {
      const rr = await log.read(offset, 1 << 20);
      got.push(...rr.buffers);
      offset = rr.nextOffset;
    }
    assert.deepEqual(Buffer.concat(got), Buffer.concat(acked), 'everything acknowledged survived, nothing else');
  } finally {
    await log.close();
  }
}

const tmpfs = mountTmpfs();
test('disk full: tmpfs mount available', (t) => {
  t.diagnostic(tmpfs ? `real tmpfs at ${tmpfs.path}` : 'mount -t tmpfs refused here; the size-limited Disk tests below cover the contract');
});

for (const { name, disk } of backends()) {
  for (const ioMode of ['direct', 'buffered'] as const) {
    if (tmpfs) {
      test(`disk full on tmpfs: ${name}/${ioMode}`, async () => {
        const dir = join(tmpfs.path, `${name}-${ioMode}`);
        const filler = join(tmpfs.path, 'filler');
        writeFileSync(filler, Buffer.alloc(2 * 1024 * 1024));
        try {
          await exercise(dir, disk, ioMode, () => unlinkSync(filler));
        } finally {
          rmSync(dir, { recursive: true, force: true });
          rmSync(filler, { force: true });
        }
      });
    }
    test(`disk full through a size-limited Disk: ${name}/${ioMode}`, async () => {
      const dir = tempDir();
      const limited = new FaultyDisk(disk);
      limited.capacityBytes = 1024 * 1024;
      try {
        await exercise(dir.path, limited, ioMode, () => (limited.capacityBytes = Number.POSITIVE_INFINITY));
      } finally {
        dir.remove();
      }
    });
  }
}

test('disk full: unmount', () => {
  tmpfs?.unmount();
});
