// Goal: PartitionRaftLog keeps Raft entries and Kafka offsets in step: only data batches reach the
// segment log, at contiguous offsets from 0; no-ops, conf changes and log starts take no offsets; the term of
// every index and the offset of every entry are answered right after truncations, snapshots and
// reopens; a batch at the wrong offset is refused; and entries below the cache are loaded
// asynchronously (LogNotLoadedError, onLoaded, then the same entries).
// Method: a real segment log and Raft files in a temp folder, written only through persist /
// createSnapshot / compact, compared with the log's batches and with the store after a reopen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, LogNotLoadedError } from '../../src/raft/index.ts';
import { decodeLogStart, encodeLogStart } from '../../src/replication/partition-log-start.ts';
import type { Entry } from '../../src/raft/index.ts';
import { encodePartitionSnapshotData, decodePartitionSnapshotData } from '../../src/replication/partition-raft-files.ts';
import { isStreamBusError } from '../../src/util/errors.ts';
import { write, persistNow } from './raft-log-store-helpers.ts';
import { FaultyDisk, tempDir } from '../storage/helpers.ts';
import { confEntry, dataEntry, dumpPartition, logContent, noop, openPartition, partitionTestDisk, readAll, valuesOf } from './partition-raft-log-helpers.ts';

const conf = { voters: [1, 2, 3], learners: [] };

test('a fresh group\'s first batch is at offset 0 after a no-op and a conf change; only data batches reach the log', async () => {
  const p = await openPartition();
  try {
    const s = p.store;
    assert.equal(s.endOffsetAt(0), 0);
    await persistNow(s, write({ entries: [noop(1, 1), confEntry(2, 1), dataEntry(3, 1, 0, ['a', 'b', 'c'])] }));
    await persistNow(s, write({ entries: [noop(4, 2), dataEntry(5, 2, 3, ['d', 'e']), confEntry(6, 2, 5), dataEntry(7, 2, 5, ['f'])] }));
    assert.deepEqual(await logContent(p.log), [
      { offset: 0, epoch: 1, values: ['a', 'b', 'c'] },
      { offset: 3, epoch: 2, values: ['d', 'e'] },
      { offset: 5, epoch: 2, values: ['f'] },
    ]);
    assert.equal(p.log.endOffset, 6);
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => s.term(i)), [0, 1, 1, 1, 2, 2, 2, 2]);
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => s.startOffset(i)), [0, 0, 0, 3, 3, 5, 5, 6]);
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => s.endOffsetAt(i)), [0, 0, 0, 3, 3, 5, 5, 6]);
    const entries = s.entries(1, 8, Number.MAX_SAFE_INTEGER);
    assert.deepEqual(entries.map((e) => [e.index, e.term, e.type, e.data.length > 0]), [
      [1, 1, 0, false], [2, 1, 1, true], [3, 1, 0, true], [4, 2, 0, false], [5, 2, 0, true], [6, 2, 1, true], [7, 2, 0, true],
    ]);
    assert.deepEqual(valuesOf(entries[4]!), ['d', 'e']);
    const before = await dumpPartition(s);
    await p.reopen();
    assert.deepEqual(await dumpPartition(p.store), before, 'a reopen answers the same');
  } finally {
    await p.close();
    p.remove();
  }
});

test('a batch whose base offset is not the log end is refused (two batches would share an offset)', async () => {
  const p = await openPartition();
  try {
    await persistNow(p.store, write({ entries: [dataEntry(1, 1, 0, ['a'])] }));
    await assert.rejects(persistNow(p.store, write({ entries: [dataEntry(2, 1, 0, ['b'])] })), (e) => isStreamBusError(e, 'SB_ERR_RAFT_INCONSISTENT_OFFSET'));
    assert.equal(p.log.endOffset, 1);
    assert.equal(p.store.lastIndex(), 1);
  } finally {
    await p.close();
    p.remove();
  }
});

test('truncating an uncommitted tail of data and no-op entries, then appending, keeps offsets right; a reopen equals the state before', async () => {
  const p = await openPartition();
  try {
    const s = p.store;
    await persistNow(s, write({ entries: [dataEntry(1, 1, 0, ['a']), noop(2, 2), dataEntry(3, 2, 1, ['b', 'c']), dataEntry(4, 2, 3, ['d']), noop(5, 3), dataEntry(6, 3, 4, ['e'])] }));
    // A new leader (term 4) replaces everything from index 4: its entry 4 starts where ours did.
    await persistNow(s, write({ entries: [dataEntry(4, 4, 3, ['x', 'y']), noop(5, 4), dataEntry(6, 4, 5, ['z'])], hardState: { term: 4, vote: 2, commit: 3 } }));
    assert.deepEqual((await logContent(p.log)).map((b) => [b.offset, b.epoch, b.values.join('')]), [[0, 1, 'a'], [1, 2, 'bc'], [3, 4, 'xy'], [5, 4, 'z']]);
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((i) => s.startOffset(i)), [0, 1, 1, 3, 5, 5, 6]);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((i) => s.term(i)), [1, 2, 2, 4, 4, 4]);
    // Truncation at a no-op: the log is cut where the no-op started (the next batch's base).
    await persistNow(s, write({ entries: [dataEntry(2, 5, 1, ['q'])] }));
    assert.deepEqual((await logContent(p.log)).map((b) => [b.offset, b.epoch, b.values.join('')]), [[0, 1, 'a'], [1, 5, 'q']]);
    assert.equal(s.lastIndex(), 2);
    assert.equal(s.endOffsetAt(2), 2);
    await persistNow(s, write({ entries: [noop(3, 6), dataEntry(4, 6, 2, ['r'])] }));
    const before = await dumpPartition(s);
    await p.reopen();
    assert.deepEqual(await dumpPartition(p.store), before);
    assert.deepEqual(p.store.initialState().hardState, { term: 4, vote: 2, commit: 3 });
    assert.deepEqual((await logContent(p.log)).map((b) => b.offset), [0, 1, 2]);
  } finally {
    await p.close();
    p.remove();
  }
});

test('a leader\'s snapshot restarts the log at its next offset; compaction keeps the boundary term', async () => {
  const p = await openPartition();
  try {
    const s = p.store;
    await persistNow(s, write({ entries: [dataEntry(1, 1, 0, ['a']), dataEntry(2, 1, 1, ['b'])] }));
    s.createSnapshot(2, conf, new Uint8Array([9]));
    assert.deepEqual(decodePartitionSnapshotData(s.snapshot().data), { nextOffset: 2, ownerData: new Uint8Array([9]) });
    s.compact(2);
    assert.equal(s.firstIndex(), 2);
    assert.equal(s.term(1), 1);
    const snapshot = { metadata: { index: 10, term: 3, confState: conf }, data: encodePartitionSnapshotData(40, new Uint8Array([7])) };
    await persistNow(s, write({ snapshot, entries: [noop(11, 4), dataEntry(12, 4, 40, ['n'])], hardState: { term: 4, vote: 1, commit: 10 } }));
    assert.equal(p.log.logStartOffset, 40);
    assert.deepEqual(await logContent(p.log), [{ offset: 40, epoch: 4, values: ['n'] }]);
    assert.equal(s.firstIndex(), 11);
    assert.equal(s.term(10), 3);
    assert.equal(s.endOffsetAt(10), 40);
    const before = await dumpPartition(s);
    await p.reopen();
    assert.deepEqual(await dumpPartition(p.store), before);
  } finally {
    await p.close();
    p.remove();
  }
});

test('retention moves the first index past entries whose batches are gone, never past the snapshot', async () => {
  // A cache too small to hold entry 21, so its read goes to the segment log.
  const p = await openPartition({ cacheBytes: 1000 });
  try {
    const s = p.store;
    const entries: Entry[] = [];
    for (let i = 1; i <= 30; i++) entries.push(dataEntry(i, 1, i - 1, [`value-${i}`.padEnd(200, '.')]));
    await persistNow(s, write({ entries }));
    s.createSnapshot(20, conf, new Uint8Array(0));
    await s.runExclusively(() => p.log.advanceLogStart(25));
    assert.equal(s.logStartAdvanced(), 21, 'not past the snapshot');
    assert.throws(() => s.entries(21, 22, 1e9), (e) => isStreamBusError(e, 'SB_ERR_RAFT_LOG_COMPACTED'), 'the batch is gone');
    assert.equal(valuesOf((await readAll(s, 26, 27))[0]!)[0], 'value-26'.padEnd(200, '.'));
  } finally {
    await p.close();
    p.remove();
  }
});

test('entries below a tiny cache throw LogNotLoadedError, load asynchronously, call onLoaded, and then read the same', async () => {
  let loaded = 0;
  const p = await openPartition({ cacheBytes: 1500, onLoaded: () => loaded++ });
  try {
    const s = p.store;
    const written: Entry[] = [];
    for (let i = 1; i <= 40; i++) written.push(i % 5 === 0 ? noop(i, 1 + Math.floor(i / 10)) : dataEntry(i, 1 + Math.floor(i / 10), written.filter((e) => e.data.length > 0).length, [`v${i}`.padEnd(100, '-')]));
    // One Ready per term, as a leader would hand them out.
    for (let t = 1; t <= 5; t++) {
      const part = written.filter((e) => e.term === t);
      if (part.length > 0) await persistNow(s, write({ entries: part }));
    }
    assert.ok(s.cachedBytes <= 1500);
    assert.throws(() => s.entries(1, 41, Number.MAX_SAFE_INTEGER), LogNotLoadedError);
    const deadline = Date.now() + 2000;
    while (loaded === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    assert.ok(loaded > 0, 'onLoaded fired');
    const retry = s.entries(1, 41, Number.MAX_SAFE_INTEGER);
    assert.ok(retry.length > 0 && retry[0]!.index === 1, 'the retry starts with the entry asked for');
    const all = await readAll(s, 1, 41);
    assert.deepEqual(
      all.map((e) => [e.index, e.term, e.type, Buffer.from(e.data).toString('hex')]),
      written.map((e) => [e.index, e.term, e.type, Buffer.from(e.data).toString('hex')]),
    );
  } finally {
    await p.close();
    p.remove();
  }
});

test('a large compacted prefix is dropped from raft.index by an atomic rewrite; a reopen starts there', async () => {
  const p = await openPartition({ indexRewriteRecordsMin: 4 });
  try {
    const s = p.store;
    const entries: Entry[] = [];
    for (let i = 1; i <= 20; i++) entries.push(i % 4 === 0 ? noop(i, 1) : dataEntry(i, 1, entries.filter((e) => e.data.length > 0).length));
    await persistNow(s, write({ entries }));
    s.createSnapshot(15, conf, new Uint8Array([3]));
    s.compact(16);
    await s.settled();
    assert.equal(s.indexFileBase, 16);
    await persistNow(s, write({ entries: [dataEntry(21, 2, s.endOffsetAt(20))] }));
    const before = await dumpPartition(s);
    await p.reopen();
    assert.equal(p.store.firstIndex(), 16);
    assert.deepEqual(await dumpPartition(p.store), before);
  } finally {
    await p.close();
    p.remove();
  }
});

test('a failed fsync fails the write and the store for good; cached reads keep answering', async () => {
  const disk = new FaultyDisk(partitionTestDisk);
  const p = await openPartition({}, conf, tempDir('sb-partraft-'), disk);
  try {
    const s = p.store;
    await persistNow(s, write({ entries: [dataEntry(1, 1, 0, ['a'])] }));
    disk.failSync = true;
    await assert.rejects(persistNow(s, write({ entries: [dataEntry(2, 1, 1, ['b'])] })), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE'));
    disk.failSync = false;
    await assert.rejects(persistNow(s, write({ hardState: { term: 2, vote: 1, commit: 1 } })), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE'), 'never retried');
    assert.throws(() => s.createSnapshot(1, conf, new Uint8Array(0)), (e) => isStreamBusError(e, 'SB_ERR_LOG_DIR_OFFLINE'));
    assert.equal(s.lastIndex(), 1, 'the failed write is not readable');
    assert.deepEqual(valuesOf(s.entries(1, 2, 1e9)[0]!), ['a']);
  } finally {
    await p.store.close();
    await p.log.close({ clean: false }).catch(() => undefined);
    p.remove();
  }
});

test('loads that overlap a truncation never leave entries of the replaced tail in the cache', async () => {
  for (let round = 0; round < 20; round++) {
    const p = await openPartition({ cacheBytes: 600 });
    try {
      const s = p.store;
      const old: Entry[] = [];
      for (let i = 1; i <= 12; i++) old.push(dataEntry(i, 1, i - 1, [`old${i}`.padEnd(120, '.')]));
      await persistNow(s, write({ entries: old }));
      // Reads of the segment log finish only when the gate opens (in odd rounds: after the cut).
      let open: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const read = p.log.read.bind(p.log);
      p.log.read = async (...args: Parameters<typeof read>) => {
        const result = await read(...args);
        await gate;
        return result;
      };
      // Start loads of the tail about to be replaced, then replace it at once.
      for (const lo of [6, 8, 10]) assert.throws(() => s.entries(lo, 13, 1e9), LogNotLoadedError);
      if (round % 2 === 0) open();
      await new Promise((resolve) => setTimeout(resolve, round % 3));
      const replacement = [dataEntry(6, 2, 5, ['new6']), dataEntry(7, 2, 6, ['new7']), dataEntry(8, 2, 7, ['new8'])];
      await persistNow(s, write({ entries: replacement }));
      open();
      await new Promise((resolve) => setTimeout(resolve, 5));
      const tail = await readAll(s, 6, 9);
      assert.deepEqual(tail.map((e) => [e.term, valuesOf(e)[0]]), [[2, 'new6'], [2, 'new7'], [2, 'new8']], `round ${round}`);
      assert.equal(s.lastIndex(), 8);
      assert.equal(s.failed, null);
    } finally {
      await p.close();
      p.remove();
    }
  }
});

test('with syncEntries off (write caching) entries are written, not fsynced, and still read back after a reopen', async () => {
  const disk = new FaultyDisk(partitionTestDisk);
  const p = await openPartition({ syncEntries: false }, conf, tempDir('sb-partraft-'), disk);
  try {
    const syncs = disk.syncs;
    await persistNow(p.store, write({ entries: [noop(1, 1), dataEntry(2, 1, 0, ['a']), dataEntry(3, 1, 1, ['b'])] }));
    assert.equal(disk.syncs, syncs, 'no fsync for entries');
    await persistNow(p.store, write({ hardState: { term: 1, vote: 1, commit: 3 } }));
    assert.equal(disk.syncs, syncs + 1, 'term and vote are fsynced whatever syncEntries says');
    const before = await dumpPartition(p.store);
    await p.reopen();
    assert.deepEqual(await dumpPartition(p.store), before);
  } finally {
    await p.close();
    p.remove();
  }
});

test('a cache smaller than one batch still makes progress: the newest loaded entry is kept', async () => {
  let loaded = 0;
  const p = await openPartition({ cacheBytes: 10, onLoaded: () => loaded++ });
  try {
    const entries: Entry[] = [];
    for (let i = 1; i <= 6; i++) entries.push(dataEntry(i, 1, i - 1, [`value${i}`]));
    await persistNow(p.store, write({ entries }));
    const all = await readAll(p.store, 1, 7);
    assert.deepEqual(all.map((e) => valuesOf(e)[0]), ['value1', 'value2', 'value3', 'value4', 'value5', 'value6']);
    assert.ok(loaded >= 5, 'every entry but the newest needed a load');
  } finally {
    await p.close();
    p.remove();
  }
});

test('a log start entry (DeleteRecords) takes no offsets, reads back as itself, and survives a reopen and a truncation of what follows', async () => {
  const p = await openPartition();
  try {
    const s = p.store;
    const logStart = (index: number, term: number, offset: number): Entry => ({ index, term, type: EntryType.Normal, data: encodeLogStart(offset) });
    await persistNow(s, write({ entries: [dataEntry(1, 1, 0, ['a', 'b', 'c']), logStart(2, 1, 2), dataEntry(3, 1, 3, ['d']), logStart(4, 1, 3)] }));
    assert.deepEqual([1, 2, 3, 4, 5].map((i) => s.startOffset(i)), [0, 3, 3, 4, 4]);
    assert.equal(p.log.endOffset, 4);
    const read = s.entries(2, 3, Number.MAX_SAFE_INTEGER);
    assert.equal(decodeLogStart(read[0]!.data), 2);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => s.logStartUpTo(i)), [0, 0, 2, 2, 3]);
    await p.reopen();
    assert.deepEqual([2, 4].map((i) => p.store.logStartUpTo(i)), [2, 3], 'read back from raft.index');
    // Another leader replaces index 4: its log start is gone with it.
    await persistNow(p.store, write({ entries: [dataEntry(4, 2, 4, ['e'])] }));
    assert.equal(p.store.logStartUpTo(4), 2);
  } finally {
    await p.close();
    p.remove();
  }
});
