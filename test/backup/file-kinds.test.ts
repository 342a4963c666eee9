// Goal: a backup copies each file of a broker's directories the way docs/backup.md says (segments
// batch by batch, append-only Raft files as a prefix, indexes and markers not at all), reads
// append-only logs before the files that depend on them, and restore puts every file back under the
// directory it came from, also when storage.raftDir moved in or out of storage.dataDir.
// Method: the pure classification and target mapping, on the names the storage and replication layers use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readOrder, sourceFileKind } from '../../src/backup/file-kinds.ts';
import { targetOf } from '../../src/backup/restore-backup.ts';
import type { Manifest, ManifestFile } from '../../src/backup/manifest.ts';

test('each file of a partition folder and of the data directory gets its kind', () => {
  const inPartition: [string, string][] = [
    ['00000000000000000000.log', 'segment'],
    ['00000000000000004711.index', 'skip'],
    ['00000000000000004711.timeindex', 'skip'],
    ['00000000000000004711.log.deleted', 'skip'],
    ['00000000000000004711.log.cleaned', 'skip'],
    ['00000000000000004711.log.swap', 'skip'],
    ['raft.snapshot.tmp', 'skip'],
    ['clean-shutdown', 'skip'],
    ['raft.index', 'append'],
    ['raft.state', 'append'],
    ['raft.snapshot', 'file'],
    ['recovery-point', 'file'],
    ['log-start-offset', 'file'],
    ['transactions.checkpoint', 'file'],
    ['raft.joining', 'file'],
  ];
  for (const [name, kind] of inPartition) assert.equal(sourceFileKind(name, true), kind, name);
  const elsewhere: [string, string][] = [
    ['.lock', 'skip'],
    ['raft-hard-states.log', 'append'],
    ['raft.log', 'append'],
    ['snapshot-00000000000000000042-3.snap', 'file'],
    ['snapshot-00000000000000000042-3.snap.corrupt', 'skip'],
    ['broker-identity.json', 'file'],
    ['cluster-metadata.json', 'file'],
    // Outside partition folders a 20-digit .log is not a segment.
    ['00000000000000000000.log', 'file'],
  ];
  for (const [name, kind] of elsewhere) assert.equal(sourceFileKind(name, false), kind, name);
});

test('append-only logs are read before the snapshots and other files beside them', () => {
  assert.deepEqual(readOrder(['snapshot-00000000000000000042-3.snap', 'raft.log', 'broker-identity.json'], false), ['raft.log', 'broker-identity.json', 'snapshot-00000000000000000042-3.snap']);
  assert.deepEqual(readOrder(['raft.snapshot', 'raft.index', 'recovery-point'], true), ['raft.index', 'raft.snapshot', 'recovery-point']);
});

test('restore puts files under the directory they came from, wherever storage.raftDir now is', () => {
  const manifest = (dataDir: string, raftDir: string): Manifest =>
    ({ source: { brokerId: 1, dataDir, raftDir, configFile: null } }) as unknown as Manifest;
  const file = (path: string): ManifestFile => ({ path, kind: 'file', bytes: 0, crc32c: 0, storedIn: '20261201T000000000Z-full' });
  const inside = manifest('/data/streambus', '/data/streambus/raft');
  assert.equal(targetOf(inside, file('data/orders-0/raft.index'), '/new/data', '/new/data/raft'), '/new/data/orders-0/raft.index');
  assert.equal(targetOf(inside, file('data/raft/controller/raft.log'), '/new/data', '/new/data/raft'), '/new/data/raft/controller/raft.log');
  assert.equal(targetOf(inside, file('data/raft/controller/raft.log'), '/new/data', '/raft-disk'), '/raft-disk/controller/raft.log');
  // A partition folder whose name starts like the raft folder stays in the data directory.
  assert.equal(targetOf(inside, file('data/raft-events-0/raft.index'), '/new/data', '/raft-disk'), '/new/data/raft-events-0/raft.index');
  const outside = manifest('/data/streambus', '/raft/streambus');
  assert.equal(targetOf(outside, file('raft/controller/raft.log'), '/new/data', '/new/data/raft'), '/new/data/raft/controller/raft.log');
  assert.equal(targetOf(outside, file('data/raft-hard-states.log'), '/new/data', '/new/data/raft'), '/new/data/raft-hard-states.log');
});
