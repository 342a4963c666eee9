// Shared helpers of the RaftLogStore tests: builders for entries and writes, a promise around
// persist(), a full dump of what a store answers (to compare a store with its reopened self), and
// the two stores the contract suite runs against. Not a test file itself.
import assert from 'node:assert/strict';
import type { Disk } from '../../src/io/disk.ts';
import { EntryType } from '../../src/raft/index.ts';
import type { ConfState, Entry, HardState, Snapshot } from '../../src/raft/index.ts';
import { FileRaftLogStore } from '../../src/replication/file-raft-log-store.ts';
import type { RaftLogStore, RaftLogWrite } from '../../src/replication/raft-log-store.ts';
import { PortableDisk } from '../../src/io/real/portable-disk.ts';
import { tempDir } from '../storage/helpers.ts';
import { HandDisk } from './raft-group.ts';
import { PayloadAsBatchStore, openPartition } from './partition-raft-log-helpers.ts';

export const conf: ConfState = { voters: [1, 2, 3], learners: [] };

export function entry(index: number, term: number, payload = `e${index}t${term}`): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(payload) };
}

export function entries(from: number, to: number, term: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));
}

export function write(parts: { entries?: Entry[]; hardState?: HardState; snapshot?: Snapshot; mustSync?: boolean }): RaftLogWrite {
  return { entries: parts.entries ?? [], hardState: parts.hardState ?? null, snapshot: parts.snapshot ?? null, mustSync: parts.mustSync ?? true };
}

export function persistNow(store: RaftLogStore, w: RaftLogWrite): Promise<void> {
  return new Promise((resolve, reject) => store.persist(w, (error) => (error === null ? resolve() : reject(error))));
}

/** Everything a store answers, in plain data. */
export function dump(store: RaftLogStore) {
  const first = store.firstIndex();
  const last = store.lastIndex();
  const snap = store.snapshot();
  return {
    first,
    last,
    prevTerm: store.term(first - 1),
    entries: store.entries(first, last + 1, Number.POSITIVE_INFINITY).map((e) => ({ ...e, data: Buffer.from(e.data).toString('hex') })),
    initial: store.initialState(),
    snapshot: { metadata: snap.metadata, data: Buffer.from(snap.data).toString('hex') },
  };
}

export interface StoreUnderTest {
  readonly store: RaftLogStore;
  /** Waits for background file work (a snapshot file) and releases everything. */
  close(): Promise<void>;
}

export interface StoreFactory {
  readonly name: string;
  create(initial: ConfState): Promise<StoreUnderTest>;
}

export const portableDisk: Disk = new PortableDisk('tests');

export const storeFactories: StoreFactory[] = [
  {
    name: 'MemoryStorage store',
    create: async (initial) => {
      const store = new HandDisk(initial, [], 1);
      store.autoSync = true;
      return { store, close: async () => undefined };
    },
  },
  {
    name: 'FileRaftLogStore',
    create: async (initial) => {
      const dir = tempDir('sb-raftlog-');
      const store = await FileRaftLogStore.open(dir.path, portableDisk, { initialConfState: initial });
      return {
        store,
        close: async () => {
          await store.close();
          dir.remove();
        },
      };
    },
  },
  {
    name: 'PartitionRaftLog',
    create: async (initial) => {
      const partition = await openPartition({}, initial);
      return {
        store: new PayloadAsBatchStore(partition.store),
        close: async () => {
          await partition.close();
          partition.remove();
        },
      };
    },
  },
];

export function assertSameStore(actual: RaftLogStore, expected: RaftLogStore, message?: string): void {
  assert.deepEqual(dump(actual), dump(expected), message);
}
