// Goal: the pieces under PartitionRaftLog hold their contracts on their own: the in-memory table
// (terms as runs, start offsets, truncation, compaction, reset) answers like a plain per-index
// array whatever the sequence of operations; the index file format round-trips and tells a torn
// tail from damage in the middle; the hard state file survives its own rewrite.
// Method: seeded random operation sequences against a naive model (the seed is in the test name),
// and byte-level checks of encoded index files; the hard state file in a temp folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionRaftTable } from '../../src/replication/partition-raft-table.ts';
import { EntryKind, encodeIndexFile, scanIndexRecords, INDEX_HEADER_BYTES, INDEX_RECORD_BYTES, decodeIndexHeader } from '../../src/replication/partition-raft-index.ts';
import type { IndexRecord } from '../../src/replication/partition-raft-index.ts';
import { HardStateFile, HARD_STATE_FILE_BYTES_MAX } from '../../src/replication/partition-raft-files.ts';
import { isStreamBusError } from '../../src/util/errors.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { tempDir } from '../storage/helpers.ts';
import { partitionTestDisk } from './partition-raft-log-helpers.ts';

const crc = partitionTestDisk.crc32c.bind(partitionTestDisk);

interface ModelEntry {
  term: number;
  kind: EntryKind;
  start: number;
  end: number;
}

for (const seed of [1, 2, 3, 4, 5]) {
  test(`table answers like a per-index array under random push/truncate/compact/reset (seed ${seed})`, () => {
    const random = mulberry32(seed);
    const table = new PartitionRaftTable(1, 0, 0);
    let first = 1;
    let prevTerm = 0;
    let baseOffset = 0;
    let model: ModelEntry[] = [];
    let term = 1;
    const end = () => (model.length > 0 ? model[model.length - 1]!.end : baseOffset);
    for (let step = 0; step < 2000; step++) {
      const r = random();
      if (r < 0.6) {
        if (random() < 0.1) term++;
        const kind = random() < 0.7 ? EntryKind.Data : random() < 0.5 ? EntryKind.Noop : EntryKind.ConfChange;
        const start = end();
        const size = kind === EntryKind.Data ? 1 + Math.floor(random() * 4) : 0;
        table.push(term, kind, start, kind === EntryKind.ConfChange ? new Uint8Array([1, 0, 0, 0, 4]) : new Uint8Array(0));
        table.setEnd(start + size);
        model.push({ term, kind, start, end: start + size });
      } else if (r < 0.75 && model.length > 0) {
        const at = first + Math.floor(random() * model.length);
        table.truncateFrom(at);
        model = model.slice(0, at - first);
        term++;
      } else if (r < 0.9 && model.length > 0) {
        const at = first + Math.floor(random() * (model.length + 1));
        if (at > first) {
          prevTerm = model[at - first - 1]!.term;
          baseOffset = at - first < model.length ? model[at - first]!.start : end();
          model = model.slice(at - first);
          first = at;
          table.compactTo(at);
        }
      } else if (r < 0.92) {
        const index = first + model.length + Math.floor(random() * 5);
        term++;
        baseOffset = end() + Math.floor(random() * 10);
        table.reset(index, term, baseOffset);
        first = index + 1;
        prevTerm = term;
        model = [];
      }
      assert.equal(table.first, first);
      assert.equal(table.last, first + model.length - 1);
      assert.equal(table.term(first - 1), prevTerm, `step ${step}: prev term`);
      assert.equal(table.endOffset, end());
      if (step % 50 === 0 || step > 1990) {
        for (let i = 0; i < model.length; i++) {
          const m = model[i]!;
          assert.equal(table.term(first + i), m.term, `step ${step}: term of ${first + i}`);
          assert.equal(table.kind(first + i), m.kind);
          assert.equal(table.startOffset(first + i), m.start);
          assert.equal(table.endOffsetAt(first + i), i + 1 < model.length ? model[i + 1]!.start : end());
        }
      }
    }
  });
}

function records(n: number): IndexRecord[] {
  return Array.from({ length: n }, (_, i) => ({ startOffset: i * 3, term: 1 + Math.floor(i / 4), kind: i % 3 === 2 ? EntryKind.ConfChange : EntryKind.Data, payload: i % 3 === 2 ? new Uint8Array([2, 0, 0, 0, 7]) : new Uint8Array(0) }));
}

test('index files round-trip; a torn tail is reported, a bad record with a valid one after it is corruption', () => {
  const header = { baseIndex: 17, prevTerm: 3, baseOffset: 120 };
  const file = encodeIndexFile(crc, header, records(10));
  assert.deepEqual(decodeIndexHeader(crc, file, 'raft.index'), header);
  const scan = scanIndexRecords(crc, file, 'raft.index');
  assert.deepEqual(scan.records, records(10));
  assert.equal(scan.tornTail, null);
  const torn = scanIndexRecords(crc, file.subarray(0, file.length - 5), 'raft.index');
  assert.equal(torn.records.length, 9);
  assert.equal(torn.validBytes, INDEX_HEADER_BYTES + 9 * INDEX_RECORD_BYTES);
  assert.notEqual(torn.tornTail, null);
  const middle = new Uint8Array(file);
  middle[INDEX_HEADER_BYTES + 4 * INDEX_RECORD_BYTES + 3]! ^= 1;
  assert.throws(() => scanIndexRecords(crc, middle, 'raft.index'), (e) => isStreamBusError(e, 'SB_ERR_CORRUPT'));
  const badHeader = new Uint8Array(file);
  badHeader[9]! ^= 1;
  assert.throws(() => decodeIndexHeader(crc, badHeader, 'raft.index'), (e) => isStreamBusError(e, 'SB_ERR_CORRUPT'));
});

test('the hard state file keeps the last state across its own rewrite', async () => {
  const dir = tempDir('sb-partraft-hs-');
  try {
    let { file } = await HardStateFile.open(dir.path, partitionTestDisk, crc);
    const writes = Math.ceil(HARD_STATE_FILE_BYTES_MAX / 33) + 10;
    for (let i = 1; i <= writes; i++) await file.write({ term: 1 + Math.floor(i / 100), vote: 2, commit: i });
    await file.close();
    ({ file } = await HardStateFile.open(dir.path, partitionTestDisk, crc));
    assert.deepEqual(file.hardState, { term: 1 + Math.floor(writes / 100), vote: 2, commit: writes });
    await file.close();
  } finally {
    dir.remove();
  }
});
