// Goal: a segment indexes its batches every indexIntervalBytes, forgets what a cut removes, seals by
// cutting its file to the logical size with fsync and index files, and adopts loaded indexes.
// Method: a segment over a real file on each backend, batches appended through its appender.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { OffsetIndex } from '../../src/storage/offset-index.ts';
import { Segment } from '../../src/storage/segment.ts';
import { TimeIndex } from '../../src/storage/time-index.ts';
import { backends, sizedBatch, tempDir } from './helpers.ts';

const events = { onWritten: () => undefined, onWriteError: () => assert.fail('no write error expected') };

for (const { name, disk } of backends()) {
  test(`${name}: indexing, cut, seal`, async () => {
    const dir = tempDir('sb-segment-');
    const segment = new Segment(dir.path, 50, 1000, 'sealed');
    try {
      const file = await disk.openAppend(segment.logPath, { direct: true, preallocateBytes: 1 << 16, size: 0 });
      segment.attachAppender(file, 0, events, 0);
      assert.equal(segment.state, 'active');
      let offset = 50;
      const positions: number[] = [];
      for (let i = 0; i < 12; i++) {
        const b = sizedBatch(2, 400, i, 1000 + i);
        positions.push(segment.append(b, offset, offset + 1, 1000 + i, 0));
        offset += 2;
      }
      assert.equal(segment.nextOffset, 74);
      assert.ok(segment.offsetIndex.count >= 3, 'an entry about every 1000 bytes');
      assert.equal(segment.maxTimestamp, 1011);
      const entry = segment.offsetIndex.lookup(61);
      assert.ok(entry.offset <= 61 && positions.includes(entry.position));
      // Cut after batch 8: offsets 66.. go.
      await segment.appender!.drained();
      segment.cut(positions[8]!, 66);
      await segment.appender!.truncate(positions[8]!);
      assert.equal(segment.sizeBytes, positions[8]);
      assert.ok(segment.offsetIndex.last()!.position < positions[8]!);
      await segment.seal(disk);
      assert.equal(segment.state, 'sealed');
      assert.equal(statSync(segment.logPath).size, positions[8], 'padding and reservation cut away');
      const index = OffsetIndex.fromBytes(50, readFileSync(segment.indexPath), positions[8]!);
      assert.ok(index && index.count === segment.offsetIndex.count);
      const time = TimeIndex.fromBytes(50, readFileSync(segment.timeIndexPath), 66);
      assert.equal(time!.maxTimestamp, segment.maxTimestamp);
      // A fresh segment object adopts the indexes and resumes at their last entry.
      const again = new Segment(dir.path, 50, 1000, 'sealed');
      const from = again.adoptIndexes(index, time!);
      assert.equal(from, index.last()!.position);
      assert.equal(again.nextOffset, index.last()!.offset);
    } finally {
      await segment.retire();
      dir.remove();
    }
  });
}
