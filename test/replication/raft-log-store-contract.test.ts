// Goal: every RaftLogStore honours the LogStorage contract (src/raft/storage.ts) when written
// through its writer API: half-open ranges, byte limits that still return one entry, typed
// compacted/unavailable errors, appends that truncate the overlapped tail and skip what is
// compacted, compaction that keeps the boundary term and never passes the snapshot, and snapshots
// from the leader that replace the log.
// Method: the same cases against the MemoryStorage-based store the driver tests use (HandDisk,
// syncing at once) and the file-backed store, written only through persist/createSnapshot/compact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogCompactedError, LogUnavailableError, entryBytes } from '../../src/raft/index.ts';
import type { Entry } from '../../src/raft/index.ts';
import { isStreamBusError } from '../../src/util/errors.ts';
import { conf, entries, entry, persistNow, storeFactories, write } from './raft-log-store-helpers.ts';

const indexes = (list: readonly Entry[]) => list.map((e) => e.index);

for (const factory of storeFactories) {
  const withStore = (name: string, body: (s: Awaited<ReturnType<typeof factory.create>>['store']) => Promise<void>) =>
    test(`${factory.name}: ${name}`, async () => {
      const under = await factory.create(conf);
      try {
        await body(under.store);
      } finally {
        await under.close();
      }
    });

  withStore('an empty log starts after the bootstrap snapshot', async (s) => {
    assert.equal(s.firstIndex(), 1);
    assert.equal(s.lastIndex(), 0);
    assert.equal(s.term(0), 0);
    assert.deepEqual(s.initialState(), { hardState: { term: 0, vote: 0, commit: 0 }, confState: conf });
    assert.deepEqual(s.entries(1, 1, 100), []);
    assert.equal(s.snapshot().metadata.index, 0);
  });

  withStore('entries are a half-open range, limited by bytes but never empty', async (s) => {
    await persistNow(s, write({ entries: entries(1, 5, 1) }));
    assert.deepEqual(indexes(s.entries(2, 5, 1e9)), [2, 3, 4]);
    const one = entryBytes(entry(2, 1));
    assert.deepEqual(indexes(s.entries(2, 6, 2 * one)), [2, 3]);
    assert.deepEqual(indexes(s.entries(2, 6, 1)), [2], 'at least one entry');
  });

  withStore('reads outside the range throw typed errors', async (s) => {
    await persistNow(s, write({ entries: entries(1, 5, 1) }));
    assert.throws(() => s.entries(4, 7, 100), (e) => e instanceof LogUnavailableError && isStreamBusError(e, 'SB_ERR_RAFT_LOG_UNAVAILABLE'));
    assert.throws(() => s.term(6), LogUnavailableError);
    s.createSnapshot(3, conf, new Uint8Array([1]));
    s.compact(4);
    assert.equal(s.firstIndex(), 4);
    assert.equal(s.term(3), 1, 'the term before the first entry is kept');
    assert.throws(() => s.term(2), (e) => e instanceof LogCompactedError && isStreamBusError(e, 'SB_ERR_RAFT_LOG_COMPACTED'));
    assert.throws(() => s.entries(3, 5, 100), LogCompactedError);
  });

  withStore('an append truncates the tail it overlaps and skips what is compacted', async (s) => {
    await persistNow(s, write({ entries: entries(1, 5, 1) }));
    await persistNow(s, write({ entries: entries(4, 6, 2) }));
    assert.deepEqual(s.entries(1, 7, 1e9).map((e) => e.term), [1, 1, 1, 2, 2, 2]);
    await persistNow(s, write({ entries: [entry(3, 3)] }));
    assert.equal(s.lastIndex(), 3);
    s.createSnapshot(3, conf, new Uint8Array(0));
    s.compact(4);
    await persistNow(s, write({ entries: entries(2, 4, 3) }));
    assert.equal(s.firstIndex(), 4);
    assert.equal(s.lastIndex(), 4);
  });

  withStore('compaction may not pass the snapshot; a snapshot from the leader replaces the log', async (s) => {
    await persistNow(s, write({ entries: entries(1, 6, 1) }));
    s.createSnapshot(4, conf, new Uint8Array(0));
    assert.throws(() => s.compact(6));
    s.compact(3);
    assert.equal(s.firstIndex(), 3);
    assert.equal(s.snapshot().metadata.index, 4);
    const snapshot = { metadata: { index: 10, term: 5, confState: conf }, data: new Uint8Array([7]) };
    await persistNow(s, write({ snapshot, hardState: { term: 5, vote: 0, commit: 10 } }));
    assert.equal(s.firstIndex(), 11);
    assert.equal(s.lastIndex(), 10);
    assert.equal(s.term(10), 5);
    assert.deepEqual(s.snapshot(), snapshot);
    assert.deepEqual(s.initialState().hardState, { term: 5, vote: 0, commit: 10 });
  });

  withStore('the hard state is stored after the entries of the same write', async (s) => {
    await persistNow(s, write({ entries: entries(1, 2, 3), hardState: { term: 3, vote: 2, commit: 2 } }));
    assert.deepEqual(s.initialState().hardState, { term: 3, vote: 2, commit: 2 });
    await persistNow(s, write({ hardState: { term: 3, vote: 2, commit: 1 }, mustSync: false }));
    assert.deepEqual(s.initialState().hardState, { term: 3, vote: 2, commit: 1 });
  });
}
