// Goal: the unstable tail hands each entry out once, survives truncation by a new leader while a
// Ready is outstanding, and ignores acknowledgements for entries that were replaced.
// Method: drive an UnstableLog through appends, truncations, hand-outs and stableTo calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType } from '../../src/raft/messages.ts';
import type { Entry } from '../../src/raft/messages.ts';
import { UnstableLog } from '../../src/raft/unstable-log.ts';

const entry = (index: number, term: number): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array(0) });
const ids = (entries: readonly Entry[]) => entries.map((e) => `${e.term}/${e.index}`);

test('entries are handed out once and dropped when stable', () => {
  const u = new UnstableLog(5);
  u.truncateAndAppend([entry(5, 1), entry(6, 1)]);
  assert.deepEqual(ids(u.nextEntries()), ['1/5', '1/6']);
  u.acceptInProgress();
  assert.equal(u.hasNextEntries(), false);
  u.truncateAndAppend([entry(7, 1)]);
  assert.deepEqual(ids(u.nextEntries()), ['1/7']);
  u.stableTo(6, 1);
  assert.equal(u.offset, 7);
  assert.deepEqual(ids(u.entries), ['1/7']);
});

test('a truncation below the in-progress offset hands out the replacements again', () => {
  const u = new UnstableLog(5);
  u.truncateAndAppend([entry(5, 1), entry(6, 1), entry(7, 1)]);
  u.acceptInProgress();
  u.truncateAndAppend([entry(6, 2)]);
  assert.equal(u.offsetInProgress, 6);
  assert.deepEqual(ids(u.nextEntries()), ['2/6']);
  // The outstanding Ready (up to 1/7) comes back: that entry no longer exists, nothing changes.
  u.stableTo(7, 1);
  assert.equal(u.offset, 5);
  u.acceptInProgress();
  u.stableTo(6, 2);
  assert.equal(u.offset, 7);
  assert.deepEqual(u.entries, []);
});

test('a truncation into the stable log replaces the whole tail', () => {
  const u = new UnstableLog(10);
  u.truncateAndAppend([entry(10, 1)]);
  u.truncateAndAppend([entry(8, 3), entry(9, 3)]);
  assert.equal(u.offset, 8);
  assert.deepEqual(ids(u.entries), ['3/8', '3/9']);
  assert.equal(u.maybeTerm(10), -1);
});

test('a snapshot replaces everything and is handed out once', () => {
  const u = new UnstableLog(3);
  u.truncateAndAppend([entry(3, 1)]);
  u.restore({ metadata: { index: 20, term: 4, confState: { voters: [1], learners: [] } }, data: new Uint8Array(0) });
  assert.equal(u.maybeFirstIndex(), 21);
  assert.equal(u.maybeLastIndex(), 20);
  assert.equal(u.maybeTerm(20), 4);
  assert.equal(u.hasNextSnapshot(), true);
  u.acceptInProgress();
  assert.equal(u.hasNextSnapshot(), false);
  u.stableSnapshotTo(20);
  assert.equal(u.snapshot, null);
});
