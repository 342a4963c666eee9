// Goal: after a crash at any point of a write, reopening a partition Raft log gives a consistent
// pair of index and segment log: never an index record without its batch, never a batch without
// its record, a torn index tail cut at every possible byte, a leader's snapshot whose installation
// was cut short finished, a torn hard state record dropped, and the repaired log accepts appends.
// Method: one partition written and closed, copied per case into a fresh temp folder, its files
// damaged the way a crash leaves them (cut, garbled, a batch appended or removed behind the
// index's back), then reopened and compared with what the writes before the crash acknowledged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeSnapshot } from '../../src/replication/raft-log-records.ts';
import { encodePartitionSnapshotData } from '../../src/replication/partition-raft-files.ts';
import { tempDir } from '../storage/helpers.ts';
import { persistNow, write } from './raft-log-store-helpers.ts';
import { batch, confEntry, dataEntry, logContent, noop, openPartition, partitionTestDisk, readAll, withSegmentLog } from './partition-raft-log-helpers.ts';
import type { Partition } from './partition-raft-log-helpers.ts';

const conf = { voters: [1, 2, 3], learners: [] };
const hardState = { term: 2, vote: 1, commit: 3 };

/** A closed partition: 1 data@0 (t1), 2 no-op (t2), 3 data@1-2 (t2), 4 conf change (t2), 5 data@3 (t2). */
async function template(): Promise<{ path: string; remove(): void }> {
  const dir = tempDir('sb-partraft-tpl-');
  const p = await openPartition({}, conf, dir);
  await persistNow(p.store, write({ entries: [dataEntry(1, 1, 0, ['a']), noop(2, 2), dataEntry(3, 2, 1, ['b', 'c']), confEntry(4, 2), dataEntry(5, 2, 3, ['d'])], hardState }));
  await p.close();
  return dir;
}

async function reopenCopy(source: string, damage: (dir: string) => Promise<void> | void): Promise<Partition> {
  const dir = tempDir('sb-partraft-crash-');
  cpSync(source, dir.path, { recursive: true });
  await damage(dir.path);
  return openPartition({}, conf, dir);
}

/** Every index record has its batch and every batch its record. */
async function assertConsistent(p: Partition): Promise<void> {
  const s = p.store;
  const entries = await readAll(s, s.firstIndex(), s.lastIndex() + 1);
  const dataOffsets = entries.filter((e) => e.type === 0 && e.data.length > 0).map((e) => s.startOffset(e.index));
  assert.deepEqual((await logContent(p.log)).map((b) => b.offset), dataOffsets, 'the log holds exactly the indexed batches');
  assert.equal(p.log.endOffset, s.endOffsetAt(s.lastIndex()), 'the log ends where the last entry ends');
}

test('an index torn at every byte of its last record loses that entry and its batch, nothing else', async () => {
  const tpl = await template();
  try {
    const indexPath = join(tpl.path, 'raft.index');
    const full = statSync(indexPath).size;
    for (let cut = 0; cut <= 32; cut++) {
      const p = await reopenCopy(tpl.path, (dir) => {
        const path = join(dir, 'raft.index');
        if (cut < 32) {
          truncateSync(path, full - 32 + cut);
        } else {
          // The whole record is there but garbled (a torn page).
          const bytes = readFileSync(path);
          bytes[full - 10] = bytes[full - 10]! ^ 0xff;
          writeFileSync(path, bytes);
        }
      });
      try {
        assert.equal(p.store.lastIndex(), 4, `cut ${cut}`);
        assert.equal(p.log.endOffset, 3, `cut ${cut}: the unindexed batch is cut from the log`);
        assert.equal(p.store.recovery.truncatedLogOffsets, 1);
        await assertConsistent(p);
        assert.deepEqual(p.store.initialState().hardState, hardState);
        await persistNow(p.store, write({ entries: [dataEntry(5, 3, 3, ['z'])] }));
        assert.deepEqual((await logContent(p.log)).at(-1), { offset: 3, epoch: 3, values: ['z'] });
      } finally {
        await p.close();
        p.remove();
      }
    }
  } finally {
    tpl.remove();
  }
});

test('a batch written to the segment log but never indexed is cut', async () => {
  const tpl = await template();
  try {
    const p = await reopenCopy(tpl.path, (dir) =>
      withSegmentLog(dir, async (log) => {
        log.append(batch(4, 2, ['ghost']), { leaderEpoch: 2 });
        await log.sync();
      }),
    );
    try {
      assert.equal(p.store.lastIndex(), 5);
      assert.equal(p.log.endOffset, 4);
      assert.equal(p.store.recovery.truncatedLogOffsets, 1);
      await assertConsistent(p);
    } finally {
      await p.close();
      p.remove();
    }
  } finally {
    tpl.remove();
  }
});

test('index records whose batches are missing (past the log end) are dropped with everything after them', async () => {
  const tpl = await template();
  try {
    const p = await reopenCopy(tpl.path, (dir) => withSegmentLog(dir, (log) => log.truncateTo(1)));
    try {
      assert.equal(p.store.lastIndex(), 2, 'the no-op at 2 starts at offset 1, inside the log');
      assert.equal(p.store.recovery.droppedIndexRecords, 3);
      assert.equal(p.log.endOffset, 1);
      await assertConsistent(p);
    } finally {
      await p.close();
      p.remove();
    }
  } finally {
    tpl.remove();
  }
});

test('a batch of another term at an indexed offset is not taken for the indexed one', async () => {
  const tpl = await template();
  try {
    const p = await reopenCopy(tpl.path, (dir) =>
      withSegmentLog(dir, async (log) => {
        await log.truncateTo(3);
        log.append(batch(3, 9, ['other']), { leaderEpoch: 9 });
        await log.sync();
      }),
    );
    try {
      assert.equal(p.store.lastIndex(), 4);
      assert.equal(p.log.endOffset, 3);
      await assertConsistent(p);
    } finally {
      await p.close();
      p.remove();
    }
  } finally {
    tpl.remove();
  }
});

test('a leader snapshot whose installation stopped after its file is finished on open', async () => {
  const tpl = await template();
  try {
    const p = await reopenCopy(tpl.path, (dir) => {
      const data = encodePartitionSnapshotData(40, new Uint8Array([1]));
      writeFileSync(join(dir, 'raft.snapshot'), encodeSnapshot(partitionTestDisk.crc32c.bind(partitionTestDisk), 10, 3, conf, data));
    });
    try {
      assert.equal(p.store.recovery.logReplacedBySnapshot, true);
      assert.equal(p.store.firstIndex(), 11);
      assert.equal(p.store.lastIndex(), 10);
      assert.equal(p.store.term(10), 3);
      assert.equal(p.log.logStartOffset, 40);
      assert.equal(p.log.endOffset, 40);
      await persistNow(p.store, write({ entries: [dataEntry(11, 4, 40, ['after'])] }));
      await assertConsistent(p);
    } finally {
      await p.close();
      p.remove();
    }
  } finally {
    tpl.remove();
  }
});

test('a torn hard state record is dropped; the previous one stays', async () => {
  const tpl = await template();
  try {
    const p = await reopenCopy(tpl.path, (dir) => appendFileSync(join(dir, 'raft.state'), Buffer.from([0, 0, 0, 25, 1, 2, 3])));
    try {
      assert.deepEqual(p.store.initialState().hardState, hardState);
      await persistNow(p.store, write({ hardState: { term: 5, vote: 2, commit: 3 } }));
      await p.reopen();
      assert.deepEqual(p.store.initialState().hardState, { term: 5, vote: 2, commit: 3 });
    } finally {
      await p.close();
      p.remove();
    }
  } finally {
    tpl.remove();
  }
});
