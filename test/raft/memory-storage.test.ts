// Goal: MemoryStorage honours the LogStorage contract: half-open ranges, byte limits that still
// return one entry, typed compacted/unavailable errors, truncating appends, compaction that keeps
// the boundary term, snapshots that replace the log.
// Method: exercise each method at and around its range boundaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, LogCompactedError, LogUnavailableError, MemoryStorage, entryBytes } from '../../src/raft/index.ts';
import type { Entry } from '../../src/raft/index.ts';
import { isStreamBusError } from '../../src/util/errors.ts';

const conf = { voters: [1, 2, 3], learners: [] };
const entry = (index: number, term: number, size = 0): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array(size) });
const indexes = (entries: readonly Entry[]) => entries.map((e) => e.index);

function storageWith(last: number, term = 1): MemoryStorage {
  const s = new MemoryStorage(conf);
  s.append(Array.from({ length: last }, (_, i) => entry(i + 1, term, 10)));
  return s;
}

test('an empty log starts after the bootstrap snapshot', () => {
  const s = new MemoryStorage(conf);
  assert.equal(s.firstIndex(), 1);
  assert.equal(s.lastIndex(), 0);
  assert.equal(s.term(0), 0);
  assert.deepEqual(s.initialState().confState, conf);
  assert.deepEqual(s.entries(1, 1, 100), []);
});

test('entries are a half-open range, limited by bytes but never empty', () => {
  const s = storageWith(5);
  assert.deepEqual(indexes(s.entries(2, 5, 1e9)), [2, 3, 4]);
  const one = entryBytes(entry(1, 1, 10));
  assert.deepEqual(indexes(s.entries(2, 6, 2 * one)), [2, 3]);
  assert.deepEqual(indexes(s.entries(2, 6, 1)), [2], 'at least one entry');
});

test('reads outside the range throw typed errors', () => {
  const s = storageWith(5);
  assert.throws(() => s.entries(4, 7, 100), (e) => e instanceof LogUnavailableError && isStreamBusError(e, 'SB_ERR_RAFT_LOG_UNAVAILABLE'));
  assert.throws(() => s.term(6), LogUnavailableError);
  s.createSnapshot(3, conf, new Uint8Array([1]));
  s.compact(4);
  assert.equal(s.firstIndex(), 4);
  assert.equal(s.term(3), 1, 'the term before the first entry is kept');
  assert.throws(() => s.term(2), (e) => e instanceof LogCompactedError && isStreamBusError(e, 'SB_ERR_RAFT_LOG_COMPACTED'));
  assert.throws(() => s.entries(3, 5, 100), LogCompactedError);
});

test('an append truncates the tail it overlaps and skips what is compacted', () => {
  const s = storageWith(5);
  s.append([entry(4, 2), entry(5, 2), entry(6, 2)]);
  assert.deepEqual(s.entries(1, 7, 1e9).map((e) => e.term), [1, 1, 1, 2, 2, 2]);
  s.append([entry(3, 3)]);
  assert.equal(s.lastIndex(), 3);
  s.createSnapshot(3, conf, new Uint8Array(0));
  s.compact(4);
  s.append([entry(2, 3), entry(3, 3), entry(4, 3)]);
  assert.equal(s.firstIndex(), 4);
  assert.equal(s.lastIndex(), 4);
  assert.throws(() => s.append([entry(9, 3)]), /gap/);
});

test('compaction may not pass the snapshot; a snapshot replaces the log', () => {
  const s = storageWith(6);
  s.createSnapshot(4, conf, new Uint8Array(0));
  assert.throws(() => s.compact(6));
  s.compact(3);
  assert.equal(s.firstIndex(), 3);
  assert.equal(s.snapshot().metadata.index, 4);
  s.applySnapshot({ metadata: { index: 10, term: 5, confState: conf }, data: new Uint8Array([7]) });
  assert.equal(s.firstIndex(), 11);
  assert.equal(s.lastIndex(), 10);
  assert.equal(s.term(10), 5);
  assert.throws(() => s.applySnapshot({ metadata: { index: 9, term: 5, confState: conf }, data: new Uint8Array(0) }));
});

test('the hard state never goes back in term', () => {
  const s = new MemoryStorage(conf);
  s.setHardState({ term: 3, vote: 1, commit: 0 });
  assert.throws(() => s.setHardState({ term: 2, vote: 1, commit: 0 }));
  assert.deepEqual(s.initialState().hardState, { term: 3, vote: 1, commit: 0 });
});
