// Goal: a partition copied while the broker changes it ends up consistent or not at all: when its
// raft.snapshot changes between the reads before and after the segments (the broker took or installed
// a snapshot meanwhile), the partition is copied again and the backup holds the final snapshot; a
// partition that keeps changing fails the backup naming it; one whose folder disappears (a deleted
// topic) is left out; segments that do not meet (a copy racing a truncation) are copied again.
// Method: a partition folder on the portable Disk, seen through a Disk whose reads of raft.snapshot
// return a scripted sequence of contents, and copyPartition into a BackupWriter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Disk } from '../../src/io/disk.ts';
import { PortableDisk } from '../../src/io/real/portable-disk.ts';
import { BackupWriter } from '../../src/backup/backup-writer.ts';
import { PARTITION_COPY_ATTEMPTS_MAX, copyPartition } from '../../src/backup/partition-copy.ts';
import { stampBatch } from '../../src/protocol/kafka/record-batch/header.ts';
import { isStreamBusError } from '../../src/util/errors.ts';
import { makeBatch, tempDir } from '../storage/helpers.ts';

const real = new PortableDisk('tests');

/** `real`, except that the n-th read of a raft.snapshot returns snapshots[n] (the last one from then on). */
function scriptedSnapshots(snapshots: Buffer[], onRead: () => void = () => undefined): Disk & { reads: number } {
  const state = { reads: 0 };
  return new Proxy(real, {
    get(target, prop) {
      if (prop === 'reads') return state.reads;
      if (prop === 'readFile') {
        return async (path: string) => {
          if (!path.endsWith('/raft.snapshot')) return target.readFile(path);
          onRead();
          return snapshots[Math.min(state.reads++, snapshots.length - 1)];
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as unknown as Disk & { reads: number };
}

function segmentBytes(firstOffset: number, batches: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < batches; i++) {
    const b = makeBatch([{ value: Buffer.from(`v${firstOffset + i}`) }]);
    stampBatch(b, 0, firstOffset + i, 1);
    out.push(b);
  }
  return Buffer.concat(out);
}

function partitionFolder(root: string): string {
  const dir = join(root, 'data', 'orders-0');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '00000000000000000000.log'), segmentBytes(0, 4));
  writeFileSync(join(dir, '00000000000000000004.log'), Buffer.concat([segmentBytes(4, 2), Buffer.alloc(4096)]));
  writeFileSync(join(dir, 'recovery-point'), '4');
  writeFileSync(join(dir, 'raft.index'), Buffer.alloc(64, 1));
  writeFileSync(join(dir, 'raft.snapshot'), 'on disk');
  return dir;
}

test('a snapshot taken during the copy makes the partition be copied again, with the new snapshot', async () => {
  const root = tempDir('sb-partition-copy-');
  try {
    const source = partitionFolder(root.path);
    const disk = scriptedSnapshots([Buffer.from('old'), Buffer.from('new')]);
    const writer = new BackupWriter(disk, join(root.path, 'work'), '20261201T000000000Z-full', new Map());
    const files = await copyPartition(disk, writer, source, 'data/orders-0');
    assert.ok(files !== null);
    assert.equal(disk.reads, 4, 'read before and after the segments, twice');
    assert.equal(readFileSync(writer.target('data/orders-0/raft.snapshot'), 'utf8'), 'new');
    const segments = files.filter((f) => f.kind === 'segment');
    assert.deepEqual(segments.map((f) => [f.path, f.sealed, f.firstOffset, f.nextOffset]), [
      ['data/orders-0/00000000000000000000.log', true, 0, 4],
      ['data/orders-0/00000000000000000004.log', false, 4, 6],
    ]);
    // The active segment's reserved zeros are not copied.
    assert.equal(segments[1]!.bytes, segmentBytes(4, 2).length);
    assert.deepEqual(files.map((f) => f.path).sort(), [
      'data/orders-0/00000000000000000000.log',
      'data/orders-0/00000000000000000004.log',
      'data/orders-0/raft.index',
      'data/orders-0/raft.snapshot',
      'data/orders-0/recovery-point',
    ]);
  } finally {
    root.remove();
  }
});

test('a partition that changes on every attempt fails the backup, naming it', async () => {
  const root = tempDir('sb-partition-copy-');
  try {
    const source = partitionFolder(root.path);
    const changing = Array.from({ length: 2 * PARTITION_COPY_ATTEMPTS_MAX + 2 }, (_, i) => Buffer.from(`snapshot ${i}`));
    const disk = scriptedSnapshots(changing);
    const writer = new BackupWriter(disk, join(root.path, 'work'), '20261201T000000000Z-full', new Map());
    await assert.rejects(copyPartition(disk, writer, source, 'data/orders-0'), (e: unknown) => isStreamBusError(e) && e.code === 'SB_ERR_BACKUP' && e.message.includes(source) && /raft\.snapshot changed/.test(e.message));
  } finally {
    root.remove();
  }
});

test('a partition deleted during the copy is left out', async () => {
  const root = tempDir('sb-partition-copy-');
  try {
    const source = partitionFolder(root.path);
    // The topic is deleted between the first snapshot read and the segments.
    let first = true;
    const disk = scriptedSnapshots([Buffer.from('s')], () => {
      if (first) rmSync(source, { recursive: true, force: true });
      first = false;
    });
    const writer = new BackupWriter(disk, join(root.path, 'work'), '20261201T000000000Z-full', new Map());
    assert.equal(await copyPartition(disk, writer, source, 'data/orders-0'), null);
  } finally {
    root.remove();
  }
});

test('segments that do not meet are copied again, and fail the backup if they never do', async () => {
  const root = tempDir('sb-partition-copy-');
  try {
    const source = partitionFolder(root.path);
    // A first segment that ends at offset 3 while the next begins at 4: a hole.
    writeFileSync(join(source, 'recovery-point'), '0');
    writeFileSync(join(source, '00000000000000000000.log'), segmentBytes(0, 3));
    const writer = new BackupWriter(real, join(root.path, 'work'), '20261201T000000000Z-full', new Map());
    await assert.rejects(copyPartition(real, writer, source, 'data/orders-0'), (e: unknown) => isStreamBusError(e) && e.code === 'SB_ERR_BACKUP' && /ends at offset 3, the next segment begins at 4/.test(e.message));
  } finally {
    root.remove();
  }
});
