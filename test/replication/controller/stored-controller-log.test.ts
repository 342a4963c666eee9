// Goal: the cluster id a broker presents in its first handshakes is one its controller log holds as
// committed (in a snapshot, or in the naming entry at or below the stored commit index); an id only
// appended, an unnamed log and an empty log give none.
// Method: MemoryStorage filled with controller entries and snapshots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntryType, MemoryStorage, type Entry } from '../../../src/raft/index.ts';
import { ClusterState } from '../../../src/metadata/cluster-state.ts';
import { encodeControllerEntry, encodeControllerSnapshot } from '../../../src/replication/controller/controller-entry.ts';
import { storedClusterId } from '../../../src/replication/controller/stored-controller-log.ts';

const conf = { voters: [1, 2, 3], learners: [] };
const noop = (index: number): Entry => ({ term: 1, index, type: EntryType.Normal, data: new Uint8Array(0) });
const named = (index: number, id: string): Entry => ({ term: 1, index, type: EntryType.Normal, data: encodeControllerEntry({ kind: 'init', clusterId: id }) });
const command = (index: number): Entry => ({ term: 1, index, type: EntryType.Normal, data: encodeControllerEntry({ kind: 'command', cmd: { type: 'drain-broker', id: 1, draining: true } }) });

const id = (s: MemoryStorage): string | null => storedClusterId(s, s.hardStateNow().commit);

function store(entries: Entry[], commit: number): MemoryStorage {
  const s = new MemoryStorage(conf);
  s.append(entries);
  s.setHardState({ term: 1, vote: 1, commit });
  return s;
}

test('the naming entry counts once committed, never before', () => {
  assert.equal(id(store([], 0)), null, 'empty log');
  assert.equal(id(store([noop(1), named(2, 'c-1'), command(3)], 3)), 'c-1');
  assert.equal(id(store([noop(1), named(2, 'c-1')], 2)), 'c-1');
  assert.equal(id(store([noop(1), named(2, 'c-1')], 1)), null, 'appended but not known committed');
  assert.equal(id(store([noop(1), noop(2)], 2)), null, 'no-ops only: not named yet');
});

test('a snapshot names the cluster when it holds the state; one taken before the name leaves it to the log', () => {
  const s = store([noop(1), named(2, 'c-1'), command(3)], 3);
  s.createSnapshot(3, conf, encodeControllerSnapshot(new ClusterState('c-9', null).snapshot()));
  s.compact(3);
  assert.equal(id(s), 'c-9', 'the snapshot is read, not what the log held before it');
  const early = store([noop(1), named(2, 'c-2')], 2);
  early.createSnapshot(1, conf, encodeControllerSnapshot(null));
  early.compact(1);
  assert.equal(id(early), 'c-2');
});
