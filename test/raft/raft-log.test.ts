// Goal: the log view that combines durable storage and the unstable tail answers terms, slices,
// conflicts and the up-to-date rule correctly, including across the storage/unstable boundary.
// Method: build RaftLogs over MemoryStorage with known contents and probe them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, MemoryStorage } from '../../src/raft/index.ts';
import type { Entry } from '../../src/raft/index.ts';
import { RaftLog } from '../../src/raft/raft-log.ts';

const entry = (index: number, term: number): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array(1) });
const conf = { voters: [1], learners: [] };

/** Storage holds terms[0..split), the unstable tail holds the rest. */
function logWith(terms: number[], split: number): RaftLog {
  const storage = new MemoryStorage(conf);
  storage.append(terms.slice(0, split).map((t, i) => entry(i + 1, t)));
  const log = new RaftLog(storage, 1e9);
  log.append(terms.slice(split).map((t, i) => entry(split + i + 1, t)));
  return log;
}

test('terms and slices span storage and the unstable tail', () => {
  const log = logWith([1, 1, 2, 3, 3], 3);
  assert.equal(log.lastIndex(), 5);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((i) => log.term(i)), [0, 1, 1, 2, 3, 3, 0]);
  assert.deepEqual(log.slice(2, 6, 1e9)!.map((e) => e.index), [2, 3, 4, 5]);
  assert.deepEqual(log.slice(2, 6, 30)!.length, 1, 'byte limit still returns one entry');
  assert.equal(log.lastTerm(), 3);
});

test('findConflictByTerm skips every entry with a larger term', () => {
  const log = logWith([1, 1, 1, 4, 4, 5, 5, 6], 8);
  assert.deepEqual(log.findConflictByTerm(8, 5), { index: 7, term: 5 });
  assert.deepEqual(log.findConflictByTerm(8, 3), { index: 3, term: 1 });
  assert.deepEqual(log.findConflictByTerm(8, 0), { index: 0, term: 0 });
});

test('maybeAppend checks the previous entry, truncates conflicts, commits what matches', () => {
  const log = logWith([1, 1, 1], 3);
  assert.equal(log.maybeAppend(3, 2, 3, [entry(4, 2)]), -1, 'wrong previous term');
  assert.equal(log.maybeAppend(2, 1, 9, [entry(3, 2), entry(4, 2)]), 4);
  assert.equal(log.committed, 4, 'commit is capped at the last new entry');
  assert.deepEqual([3, 4].map((i) => log.term(i)), [2, 2]);
  assert.equal(log.maybeAppend(1, 1, 4, [entry(2, 1)]), 2, 'already present: nothing truncated');
  assert.equal(log.lastIndex(), 4);
  assert.throws(() => log.maybeAppend(1, 1, 4, [entry(2, 7)]), /conflicts with committed/);
});

test('the up-to-date rule compares last terms, then lengths', () => {
  const log = logWith([1, 2, 2], 2);
  assert.equal(log.isUpToDate(3, 2), true);
  assert.equal(log.isUpToDate(2, 2), false);
  assert.equal(log.isUpToDate(1, 3), true);
  assert.equal(log.isUpToDate(9, 1), false);
});

test('a compacted start returns null so the leader sends a snapshot', () => {
  const storage = new MemoryStorage(conf);
  storage.append([1, 2, 3, 4].map((i) => entry(i, 1)));
  storage.createSnapshot(3, conf, new Uint8Array(0));
  storage.compact(4);
  const log = new RaftLog(storage, 1e9);
  assert.equal(log.entriesFrom(2, 1e9), null);
  assert.deepEqual(log.entriesFrom(4, 1e9)!.map((e) => e.index), [4]);
  assert.equal(log.term(3), 1);
  assert.equal(log.term(2), 0);
});
