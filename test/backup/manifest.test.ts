// Goal: a manifest survives encode/decode unchanged, ids sort by time, and decoding refuses what a
// damaged or crafted manifest could use to make restore misbehave (paths leaving their root, a full
// backup naming another backup's bytes, a newer format), and the chain planning reuses exactly the
// sealed segments that did not change.
// Method: round trips of hand-built manifests, and single-field corruptions of one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backupId,
  backupIdTimeMs,
  backupsNeeded,
  decodeManifest,
  encodeManifest,
  isSafeBackupPath,
  type Manifest,
  type ManifestFile,
} from '../../src/backup/manifest.ts';
import { chooseParent, reusableFiles, reuseOf } from '../../src/backup/chain-plan.ts';
import { isStreamBusError } from '../../src/util/errors.ts';

const FULL = backupId(new Date('2026-12-01T02:00:00.000Z'), 'full');
const INC = backupId(new Date('2026-12-01T03:00:00.500Z'), 'incremental');

function segment(path: string, storedIn: string, sealed: boolean, bytes = 4096, tail = 7): ManifestFile {
  return { path, kind: 'segment', bytes, crc32c: 0xdeadbeef, storedIn, sealed, ...(sealed ? { tailCrc32c: tail } : {}), firstOffset: 0, nextOffset: 10 };
}

function manifest(id: string, parent: string | null, files: ManifestFile[]): Manifest {
  return {
    format: 'streambus-backup',
    version: 1,
    id,
    kind: parent === null ? 'full' : 'incremental',
    parent,
    createdAt: new Date(backupIdTimeMs(id)).toISOString(),
    finishedAt: new Date(backupIdTimeMs(id) + 1000).toISOString(),
    streambusVersion: '0.0.0-test',
    source: { brokerId: 1, dataDir: '/data/streambus', raftDir: '/data/streambus/raft', configFile: '/etc/streambus/broker.yaml' },
    files,
  };
}

const full = manifest(FULL, null, [
  segment('data/orders-0/00000000000000000000.log', FULL, true),
  segment('data/orders-0/00000000000000000010.log', FULL, false),
  { path: 'data/orders-0/raft.index', kind: 'append', bytes: 96, crc32c: 1, storedIn: FULL },
  { path: 'config/etc/streambus/broker.yaml', kind: 'config', bytes: 512, crc32c: 2, storedIn: FULL },
]);
const incremental = manifest(INC, FULL, [
  segment('data/orders-0/00000000000000000000.log', FULL, true),
  segment('data/orders-0/00000000000000000010.log', INC, true),
  segment('data/orders-0/00000000000000000020.log', INC, false),
  { path: 'data/orders-0/raft.index', kind: 'append', bytes: 128, crc32c: 3, storedIn: INC },
]);

test('ids name the creation time to the millisecond and sort by it', () => {
  assert.equal(FULL, '20261201T020000000Z-full');
  assert.equal(backupIdTimeMs(INC), Date.parse('2026-12-01T03:00:00.500Z'));
  assert.ok(FULL < INC);
  assert.ok(Number.isNaN(backupIdTimeMs('latest')));
});

test('manifests survive encode and decode unchanged', () => {
  for (const m of [full, incremental]) assert.deepEqual(decodeManifest(encodeManifest(m), 'test'), m);
  assert.deepEqual(backupsNeeded(incremental), [FULL, INC]);
  assert.deepEqual(backupsNeeded(full), [FULL]);
});

test('decoding refuses what could make restore write elsewhere or read the wrong bytes', () => {
  const bad = (mutate: (o: Record<string, unknown>) => void, why: RegExp) => {
    const o = JSON.parse(encodeManifest(incremental)) as Record<string, unknown>;
    mutate(o);
    assert.throws(() => decodeManifest(JSON.stringify(o), 'm.json'), (e: unknown) => isStreamBusError(e) && e.code === 'SB_ERR_BACKUP' && why.test(e.message));
  };
  const files = (o: Record<string, unknown>) => o.files as Record<string, unknown>[];
  bad((o) => (files(o)[0]!.path = 'data/../../etc/passwd'), /unsafe path/);
  bad((o) => (files(o)[0]!.path = '/etc/passwd'), /unsafe path/);
  bad((o) => (files(o)[0]!.path = 'elsewhere/x'), /unsafe path/);
  bad((o) => (files(o)[0]!.storedIn = '20991231T000000000Z-full'), /later backup/);
  bad((o) => (files(o)[1]!.path = files(o)[0]!.path), /listed twice/);
  bad((o) => (files(o)[0]!.bytes = -1), /bytes/);
  bad((o) => (o.version = 2), /version/);
  bad((o) => (o.parent = null), /parent/);
  bad((o) => (o.kind = 'full'), /does not match kind/);
  assert.throws(() => decodeManifest('{', 'm.json'), /not JSON/);
  const fullObject = JSON.parse(encodeManifest(full)) as Record<string, unknown>;
  files(fullObject)[0]!.storedIn = '20261130T020000000Z-full';
  assert.throws(() => decodeManifest(JSON.stringify(fullObject), 'm.json'), /full backup holds every file itself/);
  assert.equal(isSafeBackupPath('data/orders-0/raft.index'), true);
  assert.equal(isSafeBackupPath('data//x'), false);
  assert.equal(isSafeBackupPath('data/./x'), false);
});

test('an incremental backup builds on the newest backup and reuses only unchanged sealed segments', () => {
  assert.equal(chooseParent([]), null);
  assert.equal(chooseParent([incremental, full])?.id, INC);
  const reusable = reusableFiles(incremental);
  // The active segment and the Raft index are never reused; both sealed segments are.
  assert.deepEqual([...reusable.keys()].sort(), ['data/orders-0/00000000000000000000.log', 'data/orders-0/00000000000000000010.log']);
  const sealed = incremental.files[0]!;
  assert.equal(reuseOf({ path: sealed.path, bytes: sealed.bytes, tailCrc32c: sealed.tailCrc32c! }, reusable), sealed);
  // Still stored in the full backup: the new manifest points there, not at the parent.
  assert.equal(reuseOf({ path: sealed.path, bytes: sealed.bytes, tailCrc32c: sealed.tailCrc32c! }, reusable)?.storedIn, FULL);
  // Compacted (shorter) or rewritten at its tail: copied again.
  assert.equal(reuseOf({ path: sealed.path, bytes: sealed.bytes - 100, tailCrc32c: sealed.tailCrc32c! }, reusable), null);
  assert.equal(reuseOf({ path: sealed.path, bytes: sealed.bytes, tailCrc32c: 8 }, reusable), null);
  // A segment new since the parent.
  assert.equal(reuseOf({ path: 'data/orders-0/00000000000000000020.log', bytes: 4096, tailCrc32c: 7 }, reusable), null);
  assert.equal(reusableFiles(null).size, 0);
});
