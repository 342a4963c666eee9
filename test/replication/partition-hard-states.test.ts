// Goal: the broker's shared hard-state file (PartitionHardStates) keeps every partition group's term,
// vote and commit index as a raft.state per partition did, with far fewer fsyncs: the term and vote
// changes of many groups made in one turn share one append and one fdatasync; a term or vote change
// is never reported stored before its fdatasync returned; a reopen reads back the last state of every
// group, cuts a torn tail and refuses damage in the middle; the file is rewritten when mostly dead;
// and a raft.state left by an older version is still read (the newer of the two wins).
// Method: a real folder through the portable disk, wrapped to count and hold back fdatasyncs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppendFile, AppendFileOptions, Disk } from '../../src/io/disk.ts';
import { PortableDisk } from '../../src/io/real/portable-disk.ts';
import type { HardState } from '../../src/raft/index.ts';
import { HARD_STATES_FILE_NAME, HARD_STATE_RECORD_SIZE, PartitionHardStates, newerHardState } from '../../src/replication/partition-hard-states.ts';
import { HardStateFile } from '../../src/replication/partition-raft-files.ts';
import { tempDir } from '../storage/helpers.ts';
import { openPartition } from './partition-raft-log-helpers.ts';

const portable = new PortableDisk('tests');

/** The portable disk, with fdatasyncs counted and, while `hold` is set, held until released. */
class SyncGate {
  syncs = 0;
  hold = false;
  private held: (() => void)[] = [];
  readonly disk: Disk;

  constructor() {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const gate = this;
    this.disk = new Proxy(portable, {
      get(target, key) {
        if (key !== 'openAppend') {
          const v = Reflect.get(target, key, target);
          return typeof v === 'function' ? v.bind(target) : v;
        }
        return async (path: string, options: AppendFileOptions): Promise<AppendFile> => {
          const file = await target.openAppend(path, options);
          return new Proxy(file, {
            get(f, k) {
              if (k !== 'sync') {
                const v = Reflect.get(f, k, f);
                return typeof v === 'function' ? v.bind(f) : v;
              }
              return async (full?: boolean) => {
                gate.syncs++;
                if (gate.hold) await new Promise<void>((resolve) => gate.held.push(resolve));
                return f.sync(full);
              };
            },
          });
        };
      },
    });
  }

  release(): void {
    const held = this.held;
    this.held = [];
    for (const r of held) r();
  }

  get waiting(): number {
    return this.held.length;
  }
}

const hs = (term: number, vote: number, commit: number): HardState => ({ term, vote, commit });
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Waits (up to 10 s: the append before it runs on the thread pool, slow on a loaded machine) until an fdatasync is held. */
async function whenHeld(gate: SyncGate): Promise<void> {
  for (const deadline = Date.now() + 10_000; gate.waiting === 0 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 1));
}

test('the term and vote changes of many groups in one turn cost one append and one fdatasync, and read back per group', async () => {
  const dir = tempDir('sb-hardstates-');
  try {
    const gate = new SyncGate();
    const journal = await PartitionHardStates.open(dir.path, gate.disk);
    const before = gate.syncs;
    await Promise.all(Array.from({ length: 1000 }, (_, g) => journal.write(g + 1, hs(3 + (g % 5), 1 + (g % 3), 0))));
    assert.equal(journal.counters.batches, 1);
    assert.equal(gate.syncs - before, 1, 'one fdatasync for a thousand votes');
    await journal.write(7, hs(9, 2, 4));
    await journal.close();
    const again = await PartitionHardStates.open(dir.path, portable);
    assert.equal(again.size, 1000);
    for (let g = 0; g < 1000; g++) {
      if (g + 1 === 7) continue;
      assert.deepEqual(again.hardState(g + 1), hs(3 + (g % 5), 1 + (g % 3), 0), `group ${g + 1}`);
    }
    assert.deepEqual(again.hardState(7), hs(9, 2, 4));
    assert.deepEqual(again.hardState(5000), hs(0, 0, 0), 'a group without a record starts empty');
    await again.close();
  } finally {
    dir.remove();
  }
});

test('a term or vote change resolves only after its fdatasync; a commit-only change does not wait for one', async () => {
  const dir = tempDir('sb-hardstates-');
  try {
    const gate = new SyncGate();
    const journal = await PartitionHardStates.open(dir.path, gate.disk);
    gate.hold = true;
    let voted = false;
    const vote = journal.write(1, hs(2, 3, 0)).then(() => (voted = true));
    await whenHeld(gate);
    assert.equal(gate.waiting, 1, 'the fdatasync is in flight');
    assert.equal(voted, false, 'not stored before the fdatasync returned');
    // Meanwhile other groups' changes queue behind it and share the next fdatasync.
    let others = 0;
    const next = [2, 3, 4].map((g) => journal.write(g, hs(1, g, 0)).then(() => others++));
    await tick();
    assert.equal(others, 0);
    gate.release();
    await vote;
    await whenHeld(gate);
    assert.equal(gate.waiting, 1, 'the three queued changes share one fdatasync');
    assert.equal(others as number, 0);
    gate.release();
    await Promise.all(next);
    // Same term and vote, a new commit index: written, no fdatasync.
    const syncs = gate.syncs;
    await journal.write(1, hs(2, 3, 10));
    assert.equal(gate.syncs, syncs);
    gate.hold = false;
    await journal.close();
  } finally {
    dir.remove();
  }
});

test('a torn tail is cut at the last whole record; a valid record behind an invalid one is damage', async () => {
  const dir = tempDir('sb-hardstates-');
  try {
    const journal = await PartitionHardStates.open(dir.path, portable);
    await journal.write(1, hs(1, 1, 0));
    await journal.write(2, hs(1, 2, 0));
    await journal.write(1, hs(2, 2, 0));
    await journal.close();
    const path = join(dir.path, HARD_STATES_FILE_NAME);
    const good = readFileSync(path);
    assert.equal(good.length, 3 * HARD_STATE_RECORD_SIZE);
    // A partial record, then a whole garbled one: both the unsynced tail of an append.
    appendFileSync(path, Buffer.alloc(HARD_STATE_RECORD_SIZE, 7));
    appendFileSync(path, Buffer.from([1, 2, 3]));
    const torn = await PartitionHardStates.open(dir.path, portable);
    assert.deepEqual(torn.hardState(1), hs(2, 2, 0));
    assert.deepEqual(torn.hardState(2), hs(1, 2, 0));
    assert.equal(statSync(path).size, good.length, 'the tail is cut');
    await torn.write(3, hs(4, 3, 0));
    await torn.close();
    // A garbled record in the middle, with valid ones after it.
    const bytes = readFileSync(path);
    bytes[HARD_STATE_RECORD_SIZE + 10]! ^= 0xff;
    writeFileSync(path, bytes);
    await assert.rejects(PartitionHardStates.open(dir.path, portable), (e: Error & { code?: string }) => e.code === 'SB_ERR_CORRUPT' && e.message.includes(HARD_STATES_FILE_NAME));
  } finally {
    dir.remove();
  }
});

test('a file mostly made of old records is rewritten with the last one of every group', async () => {
  const dir = tempDir('sb-hardstates-');
  try {
    const journal = await PartitionHardStates.open(dir.path, portable, { rewriteBytesMin: 4096 });
    for (let round = 1; round <= 60; round++) await Promise.all([1, 2, 3, 4].map((g) => journal.write(g, hs(round, g, round * 10))));
    assert.ok(journal.counters.rewrites >= 1, `${journal.counters.rewrites} rewrites`);
    assert.ok(journal.sizeBytes <= 4096 + 4 * HARD_STATE_RECORD_SIZE, `file of ${journal.sizeBytes} bytes`);
    await journal.close();
    const again = await PartitionHardStates.open(dir.path, portable);
    for (const g of [1, 2, 3, 4]) assert.deepEqual(again.hardState(g), hs(60, g, 600));
    await again.close();
  } finally {
    dir.remove();
  }
});

test('newerHardState: the higher term wins; at the same term the vote stays; the larger commit index', () => {
  assert.deepEqual(newerHardState(hs(3, 1, 5), hs(4, 0, 2)), hs(4, 0, 5));
  assert.deepEqual(newerHardState(hs(4, 2, 1), hs(4, 0, 9)), hs(4, 2, 9));
  assert.deepEqual(newerHardState(hs(4, 0, 1), hs(4, 2, 0)), hs(4, 2, 1));
});

test("a partition Raft log over the shared file reads an older version's raft.state and writes only the shared file", async () => {
  const dir = tempDir('sb-partraft-');
  const shared = tempDir('sb-hardstates-');
  try {
    // An older version kept term 5 and a vote for broker 2 in the partition's own raft.state.
    const legacy = await HardStateFile.open(dir.path, portable, portable.crc32c.bind(portable));
    await legacy.file.write(hs(5, 2, 0));
    await legacy.file.close();
    const journal = await PartitionHardStates.open(shared.path, portable);
    const p = await openPartition({ hardStates: { journal, groupId: 42 } }, undefined, dir);
    assert.deepEqual(p.store.initialState().hardState, hs(5, 2, 0));
    assert.deepEqual(journal.hardState(42), hs(5, 2, 0), 'recorded in the shared file');
    await new Promise<void>((resolve, reject) => p.store.persist({ snapshot: null, entries: [], hardState: hs(6, 3, 0), mustSync: true }, (e) => (e === null ? resolve() : reject(e))));
    const legacyBytes = readFileSync(join(dir.path, 'raft.state'));
    await p.close();
    assert.deepEqual(readFileSync(join(dir.path, 'raft.state')), legacyBytes, 'raft.state is not written any more');
    await journal.close();
    // Reopened: the shared file's newer term wins over the stale raft.state.
    const journal2 = await PartitionHardStates.open(shared.path, portable);
    await p.reopen({ hardStates: { journal: journal2, groupId: 42 } });
    assert.deepEqual(p.store.initialState().hardState, hs(6, 3, 0));
    await p.close();
    await journal2.close();
    // A new partition over the shared file creates no raft.state at all.
    const fresh = tempDir('sb-partraft-');
    const journal3 = await PartitionHardStates.open(shared.path, portable);
    const q = await openPartition({ hardStates: { journal: journal3, groupId: 43 } }, undefined, fresh);
    await q.close();
    await journal3.close();
    assert.equal(existsSync(join(fresh.path, 'raft.state')), false);
    fresh.remove();
  } finally {
    dir.remove();
    shared.remove();
  }
});
