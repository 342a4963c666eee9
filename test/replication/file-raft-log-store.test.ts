// Goal: FileRaftLogStore gives back, after a reopen, exactly what it acknowledged (entries, truncated
// tails, hard state, snapshots from the leader, its own snapshots and compactions, rewritten logs);
// recovers from a torn tail at any byte, from a crash between the steps of a snapshot or rewrite,
// and from an unreadable newest snapshot when the log still covers an older one; refuses damage
// in the middle of the log with the file and position named; and fails for good on an I/O error.
// Method: real files in temp folders on both Disk backends (crash cases on the portable one),
// compared with a MemoryStorage-based reference store fed the same writes; crashes are made by
// editing the files between a close and a reopen; faults come from the storage tests' FaultyDisk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Disk } from '../../src/io/disk.ts';
import type { HardState } from '../../src/raft/index.ts';
import { FileRaftLogStore } from '../../src/replication/file-raft-log-store.ts';
import type { FileRaftLogStoreOptions } from '../../src/replication/file-raft-log-store.ts';
import { encodeSnapshot } from '../../src/replication/raft-log-records.ts';
import type { RaftLogWrite } from '../../src/replication/raft-log-store.ts';
import { crc32c } from '../../src/util/crc32c.ts';
import { IoError, isStreamBusError } from '../../src/util/errors.ts';
import { FaultyDisk, backends, tempDir } from '../storage/helpers.ts';
import { HandDisk } from './raft-group.ts';
import { conf, dump, entries, entry, persistNow, portableDisk, write } from './raft-log-store-helpers.ts';

const open = (dir: string, disk: Disk = portableDisk, options: Partial<FileRaftLogStoreOptions> = {}) =>
  FileRaftLogStore.open(dir, disk, { initialConfState: conf, ...options });

/** A file store and a reference store that receive the same writes. */
class Pair {
  readonly reference = new HandDisk(conf, [], 1);
  constructor(public store: FileRaftLogStore) {
    this.reference.autoSync = true;
  }
  async persist(w: RaftLogWrite): Promise<void> {
    await persistNow(this.store, w);
    await persistNow(this.reference, w);
  }
  snapshotAndCompact(index: number, compactTo: number): void {
    for (const s of [this.store, this.reference]) {
      s.createSnapshot(index, conf, new TextEncoder().encode(`state@${index}`));
      s.compact(compactTo);
    }
  }
  /** Closes and reopens the file store; it must answer exactly as the reference does. */
  async reopen(dir: string, disk: Disk = portableDisk, options: Partial<FileRaftLogStoreOptions> = {}): Promise<void> {
    assert.deepEqual(dump(this.store), dump(this.reference), 'before the reopen');
    await this.store.close();
    this.store = await open(dir, disk, options);
    assert.deepEqual(dump(this.store), dump(this.reference), 'after the reopen');
  }
}

const hs = (term: number, vote: number, commit: number): HardState => ({ term, vote, commit });
const logSize = (dir: string) => statSync(join(dir, 'raft.log')).size;

for (const { name, disk } of backends()) {
  test(`${name}: entries, a truncated uncommitted tail and the hard state survive a reopen`, async () => {
    const dir = tempDir('sb-raftlog-');
    const pair = new Pair(await open(dir.path, disk));
    try {
      assert.equal(pair.store.recovery.bootstrapped, true);
      await pair.persist(write({ entries: entries(1, 10, 1), hardState: hs(1, 1, 4) }));
      await pair.reopen(dir.path, disk);
      assert.equal(pair.store.recovery.bootstrapped, false);
      await pair.persist(write({ entries: entries(7, 9, 2), hardState: hs(2, 3, 6) }));
      await pair.persist(write({ hardState: hs(2, 3, 8), mustSync: false }));
      await pair.reopen(dir.path, disk);
      assert.equal(pair.store.lastIndex(), 9);
      assert.deepEqual(pair.store.initialState().hardState, hs(2, 3, 8));
    } finally {
      await pair.store.close();
      dir.remove();
    }
  });

  test(`${name}: a snapshot from the leader, and entries after it, survive a reopen`, async () => {
    const dir = tempDir('sb-raftlog-');
    const pair = new Pair(await open(dir.path, disk));
    try {
      await pair.persist(write({ entries: entries(1, 5, 1), hardState: hs(1, 0, 3) }));
      const snapshot = { metadata: { index: 20, term: 3, confState: { voters: [1, 2, 3], learners: [4] } }, data: new Uint8Array([1, 2, 3]) };
      await pair.persist(write({ snapshot, entries: entries(21, 22, 3), hardState: hs(3, 0, 21) }));
      await pair.reopen(dir.path, disk);
      assert.deepEqual(pair.store.snapshot(), snapshot);
      assert.equal(pair.store.firstIndex(), 21);
      assert.deepEqual(pair.store.initialState().confState, snapshot.metadata.confState);
    } finally {
      await pair.store.close();
      dir.remove();
    }
  });
}

test('createSnapshot and compact survive a reopen; only the two newest snapshot files are kept', async () => {
  const dir = tempDir('sb-raftlog-');
  const pair = new Pair(await open(dir.path));
  try {
    await pair.persist(write({ entries: entries(1, 30, 1), hardState: hs(1, 1, 30) }));
    pair.snapshotAndCompact(10, 8);
    await pair.store.settled();
    await pair.reopen(dir.path);
    assert.equal(pair.store.firstIndex(), 8, 'the entries kept below the snapshot come back');
    pair.snapshotAndCompact(20, 21);
    pair.snapshotAndCompact(25, 23);
    await pair.reopen(dir.path);
    const snaps = readdirSync(dir.path).filter((n) => n.endsWith('.snap'));
    assert.deepEqual(snaps, ['snapshot-00000000000000000020-1.snap', 'snapshot-00000000000000000025-1.snap']);
  } finally {
    await pair.store.close();
    dir.remove();
  }
});

test('a log that holds mostly dead bytes is rewritten, and the rewritten log reopens the same', async () => {
  const dir = tempDir('sb-raftlog-');
  const options = { rewriteDeadBytesMin: 2000 };
  const pair = new Pair(await open(dir.path, portableDisk, options));
  try {
    let last = 0;
    for (let round = 1; round <= 20; round++) {
      // Each round: 20 entries, an overwritten tail of 5, and a compaction behind a snapshot.
      await pair.persist(write({ entries: entries(last + 1, last + 20, round), hardState: hs(round, 1, last + 10) }));
      await pair.persist(write({ entries: entries(last + 16, last + 20, round + 1) }));
      last += 20;
      pair.snapshotAndCompact(last - 10, last - 12);
      await pair.store.settled();
    }
    const { total, live } = pair.store.logBytes;
    assert.equal(total, logSize(dir.path));
    assert.ok(total < 3 * live + 2000, `log of ${total} bytes for ${live} live bytes: not rewritten`);
    assert.ok(pair.store.logBytes.total < 20 * 25 * 40, 'the rewrites dropped the dead records');
    await pair.reopen(dir.path, portableDisk, options);
    assert.deepEqual(readdirSync(dir.path).filter((n) => n.endsWith('.tmp')), []);
  } finally {
    await pair.store.close();
    dir.remove();
  }
});

test('a seeded mix of writes, snapshots, compactions and rewrites reopens identical every time', async () => {
  const dir = tempDir('sb-raftlog-');
  const options = { rewriteDeadBytesMin: 500 };
  const pair = new Pair(await open(dir.path, portableDisk, options));
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  try {
    let term = 1;
    for (let step = 0; step < 300; step++) {
      const s = pair.reference;
      const commit = s.hardStateNow().commit;
      const op = rand(10);
      if (op < 6) {
        // Append at or after the first uncommitted index, possibly truncating the uncommitted tail.
        if (rand(4) === 0) term++;
        const from = Math.max(commit + 1, s.firstIndex(), s.lastIndex() + 1 - rand(3));
        const count = 1 + rand(4);
        const last = from + count - 1;
        const newCommit = Math.min(last, commit + rand(4));
        await pair.persist(write({ entries: entries(from, last, term).map((e) => entry(e.index, e.term, 'x'.repeat(rand(60)))), hardState: hs(term, 1, newCommit) }));
      } else if (op < 8) {
        const snapIndex = s.snapshot().metadata.index;
        if (commit > snapIndex) {
          const at = snapIndex + 1 + rand(commit - snapIndex);
          pair.snapshotAndCompact(at, Math.max(s.firstIndex(), at - rand(3)));
        }
      } else if (op === 8) {
        term++;
        const index = s.lastIndex() + 1 + rand(5);
        const snapshot = { metadata: { index, term, confState: conf }, data: new Uint8Array([step & 0xff]) };
        await pair.persist(write({ snapshot, hardState: hs(term, 2, index) }));
      } else {
        await pair.store.settled();
        await pair.reopen(dir.path, portableDisk, options);
      }
    }
    await pair.reopen(dir.path, portableDisk, options);
  } finally {
    await pair.store.close();
    dir.remove();
  }
});

test('a torn last record, cut at every byte, reopens as the state before that write', async () => {
  const source = tempDir('sb-raftlog-');
  const pair = new Pair(await open(source.path));
  const logPath = join(source.path, 'raft.log');
  let before;
  let cutFrom = 0;
  try {
    await pair.persist(write({ entries: entries(1, 6, 1), hardState: hs(1, 1, 3) }));
    before = dump(pair.store);
    cutFrom = statSync(logPath).size;
    await pair.persist(write({ entries: [entry(7, 1, 'the last entry')] }));
  } finally {
    await pair.store.close();
  }
  const whole = readFileSync(logPath);
  const snapshotName = readdirSync(source.path).find((n) => n.endsWith('.snap'))!;
  try {
    for (let cut = cutFrom; cut < whole.byteLength; cut++) {
      const dir = tempDir('sb-raftlog-torn-');
      try {
        copyFileSync(join(source.path, snapshotName), join(dir.path, snapshotName));
        writeFileSync(join(dir.path, 'raft.log'), whole.subarray(0, cut));
        const store = await open(dir.path);
        assert.deepEqual(dump(store), before, `cut at ${cut}`);
        assert.equal(store.recovery.truncatedBytes, cut - cutFrom);
        assert.equal(store.recovery.tornTail === null, cut === cutFrom);
        assert.equal(logSize(dir.path), cutFrom, 'the torn bytes are cut off the file');
        await persistNow(store, write({ entries: [entry(7, 2)] }));
        await store.close();
        const again = await open(dir.path);
        assert.equal(again.term(7), 2, 'a write after the repair reopens');
        await again.close();
      } finally {
        dir.remove();
      }
    }
  } finally {
    source.remove();
  }
});

test('a damaged byte in the middle of the log fails the open with the file and position named', async () => {
  const dir = tempDir('sb-raftlog-');
  try {
    const store = await open(dir.path);
    await persistNow(store, write({ entries: entries(1, 5, 1), hardState: hs(1, 1, 5) }));
    await store.close();
    const logPath = join(dir.path, 'raft.log');
    const bytes = readFileSync(logPath);
    // The first entry record follows the 25-byte log base record; its data starts 26 bytes in.
    bytes[25 + 26] ^= 0x40;
    writeFileSync(logPath, bytes);
    await assert.rejects(open(dir.path), (e) => isStreamBusError(e, 'SB_ERR_CORRUPT') && e.message.includes(logPath) && e.message.includes('position 25'));
  } finally {
    dir.remove();
  }
});

test('leftover temp files of an interrupted snapshot or rewrite are deleted and change nothing', async () => {
  const dir = tempDir('sb-raftlog-');
  const pair = new Pair(await open(dir.path));
  try {
    await pair.persist(write({ entries: entries(1, 8, 1), hardState: hs(1, 1, 8) }));
    pair.snapshotAndCompact(5, 4);
    await pair.store.settled();
    await pair.store.close();
    writeFileSync(join(dir.path, 'snapshot-00000000000000000008-1.snap.tmp'), 'half a snapshot');
    writeFileSync(join(dir.path, 'raft.log.tmp'), 'half a rewrite');
    pair.store = await open(dir.path);
    assert.deepEqual(dump(pair.store), dump(pair.reference));
    assert.deepEqual([...pair.store.recovery.removedTempFiles].sort(), ['raft.log.tmp', 'snapshot-00000000000000000008-1.snap.tmp']);
    assert.deepEqual(readdirSync(dir.path).filter((n) => n.endsWith('.tmp')), []);
  } finally {
    await pair.store.close();
    dir.remove();
  }
});

test("a crash after a leader's snapshot file became durable, before its log record, reopens on the snapshot", async () => {
  const dir = tempDir('sb-raftlog-');
  try {
    const store = await open(dir.path);
    await persistNow(store, write({ entries: entries(1, 5, 1), hardState: hs(2, 0, 3) }));
    await store.close();
    // The first step of persisting a snapshot at 12 (term 2) happened, the log append did not.
    const data = new Uint8Array([9, 9]);
    writeFileSync(join(dir.path, 'snapshot-00000000000000000012-2.snap'), encodeSnapshot(crc32c, 12, 2, conf, data));
    const reopened = await open(dir.path);
    assert.equal(reopened.recovery.logReplacedBySnapshot, true);
    assert.deepEqual(reopened.snapshot(), { metadata: { index: 12, term: 2, confState: conf }, data });
    assert.equal(reopened.firstIndex(), 13);
    assert.equal(reopened.lastIndex(), 12);
    assert.equal(reopened.initialState().hardState.commit, 3);
    await persistNow(reopened, write({ entries: entries(13, 14, 2) }));
    await reopened.close();
    const again = await open(dir.path);
    assert.equal(again.recovery.logReplacedBySnapshot, false);
    assert.deepEqual([again.firstIndex(), again.lastIndex()], [13, 14]);
    await again.close();
  } finally {
    dir.remove();
  }
});

test('an unreadable newest snapshot falls back to an older one only while the log still covers it', async () => {
  const dir = tempDir('sb-raftlog-');
  try {
    const store = await open(dir.path);
    await persistNow(store, write({ entries: entries(1, 20, 1), hardState: hs(1, 1, 20) }));
    store.createSnapshot(5, conf, new Uint8Array([5]));
    store.createSnapshot(10, conf, new Uint8Array([10]));
    await store.close();
    const newest = join(dir.path, 'snapshot-00000000000000000010-1.snap');
    const damaged = readFileSync(newest);
    damaged[damaged.byteLength - 1] ^= 1;
    writeFileSync(newest, damaged);
    const fallback = await open(dir.path);
    assert.deepEqual(fallback.recovery.corruptSnapshots, ['snapshot-00000000000000000010-1.snap']);
    assert.equal(fallback.snapshot().metadata.index, 5);
    assert.equal(fallback.lastIndex(), 20);
    // Now compact past the older snapshot, then damage the newest one again: nothing covers 6..10.
    fallback.createSnapshot(12, conf, new Uint8Array([12]));
    fallback.compact(13);
    await fallback.close();
    const newest12 = join(dir.path, 'snapshot-00000000000000000012-1.snap');
    writeFileSync(newest12, readFileSync(newest12).subarray(0, 20));
    await assert.rejects(open(dir.path), (e) => isStreamBusError(e, 'SB_ERR_CORRUPT') && e.message.includes(newest12));
  } finally {
    dir.remove();
  }
});

test('a failed fsync fails the write and the store for good; what was acknowledged reopens', async () => {
  const dir = tempDir('sb-raftlog-');
  const faulty = new FaultyDisk(portableDisk);
  try {
    const store = await open(dir.path, faulty);
    await persistNow(store, write({ entries: entries(1, 3, 1), hardState: hs(1, 1, 2) }));
    const acknowledged = dump(store);
    faulty.failSync = true;
    await assert.rejects(persistNow(store, write({ entries: entries(4, 5, 1) })), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE'));
    faulty.failSync = false;
    const syncs = faulty.syncs;
    assert.ok(isStreamBusError(store.failed, 'SB_ERR_LOG_DIR_OFFLINE'));
    assert.deepEqual(dump(store), acknowledged, 'reads still answer what was acknowledged');
    await assert.rejects(persistNow(store, write({ entries: entries(4, 5, 1) })), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE'));
    assert.throws(() => store.createSnapshot(2, conf, new Uint8Array(0)), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE'));
    assert.throws(() => store.compact(2), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE'));
    await assert.rejects(store.settled(), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE'));
    assert.equal(faulty.syncs, syncs, 'the failed fsync is never retried');
    await store.close();
    const reopened = await open(dir.path);
    assert.deepEqual(dump(reopened).entries.slice(0, 3), acknowledged.entries);
    await reopened.close();
  } finally {
    dir.remove();
  }
});

test('a full disk fails the write with SB_ERR_DISK_FULL as the cause, and the store refuses writes', async () => {
  const dir = tempDir('sb-raftlog-');
  const faulty = new FaultyDisk(portableDisk);
  try {
    const store = await open(dir.path, faulty);
    faulty.capacityBytes = faulty.writtenBytes + 100;
    await assert.rejects(persistNow(store, write({ entries: [entry(1, 1, 'y'.repeat(200))] })), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE') && isStreamBusError(e.cause, 'SB_ERR_DISK_FULL'));
    assert.equal(store.lastIndex(), 0);
    await store.close();
    await assert.rejects(persistNow(store, write({ entries: [entry(1, 1)] })), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE'));
  } finally {
    dir.remove();
  }
});

test('a compaction reaches the disk only after its snapshot file: a failed snapshot write leaves the log whole', async () => {
  const dir = tempDir('sb-raftlog-');
  const faulty = new FaultyDisk(portableDisk);
  try {
    const store = await open(dir.path, faulty);
    await persistNow(store, write({ entries: entries(1, 20, 1), hardState: hs(1, 1, 20) }));
    faulty.writeFileDurable = async (path) => {
      throw new IoError('EIO', path, 'write durably (simulated)');
    };
    store.createSnapshot(15, conf, new Uint8Array([15]));
    store.compact(14);
    assert.equal(store.firstIndex(), 14, 'memory compacts at once');
    await assert.rejects(store.settled(), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE') && isStreamBusError(e.cause, 'SB_ERR_IO'));
    await store.close();
    const reopened = await open(dir.path);
    assert.equal(reopened.snapshot().metadata.index, 0);
    assert.deepEqual([reopened.firstIndex(), reopened.lastIndex()], [1, 20], 'no entry was dropped on disk');
    await reopened.close();
  } finally {
    dir.remove();
  }
});
