// Goal: reading a segment file returns whole batches within the byte budget from the batch holding
// an offset, finds batches by offset and time, and the scan stops at the first bad batch with a reason,
// through a mapping and through pread alike.
// Method: a file of known batches written directly, read with both backends (mapped and not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stampBatch } from '../../src/protocol/kafka/record-batch/header.ts';
import { findBatch, findTimestamp, readSlice, scanBatches, type ScannedBatch } from '../../src/storage/segment-reader.ts';
import { crc32c } from '../../src/util/crc32c.ts';
import { backends, sizedBatch, tempDir } from './helpers.ts';

/** 20 batches of 3 records each (offsets 100..159), timestamps 1000 + 10 i. */
function segmentBytes(): { bytes: Buffer; batches: Buffer[] } {
  const batches = Array.from({ length: 20 }, (_, i) => {
    const b = sizedBatch(3, 300 + i * 50, i, 1000 + i * 10);
    stampBatch(b, 0, 100 + i * 3, 1);
    return b;
  });
  return { bytes: Buffer.concat(batches), batches };
}

for (const { name, disk } of backends()) {
  for (const map of [true, false]) {
    test(`${name}/${map ? 'mapped' : 'pread'}: readSlice, findBatch, findTimestamp`, async () => {
      const dir = tempDir('sb-reader-');
      const path = join(dir.path, 'seg.log');
      const { bytes, batches } = segmentBytes();
      writeFileSync(path, bytes);
      const file = await disk.openRead(path, { map });
      try {
        // From inside batch 4 (offsets 112..114), budget for two batches: batches 4 and 5.
        const budget = batches[4]!.length + batches[5]!.length;
        const s = await readSlice(file, 0, bytes.length, 113, budget, Number.MAX_SAFE_INTEGER);
        assert.ok(s);
        assert.equal(s.firstOffset, 112);
        assert.equal(s.nextOffset, 118);
        assert.ok(s.bytes.equals(Buffer.concat([batches[4]!, batches[5]!])));
        // A budget smaller than one batch still returns that batch.
        const one = await readSlice(file, 0, bytes.length, 100, 1, Number.MAX_SAFE_INTEGER);
        assert.ok(one!.bytes.equals(batches[0]!));
        // maxOffset stops before a batch that starts at or past it.
        const capped = await readSlice(file, 0, bytes.length, 100, 1 << 20, 106);
        assert.equal(capped!.nextOffset, 106);
        assert.equal(await readSlice(file, 0, bytes.length, 160, 1000, Number.MAX_SAFE_INTEGER), undefined);
        const found = await findBatch(file, 0, bytes.length, 131);
        assert.deepEqual(found, { position: batches.slice(0, 10).reduce((n, b) => n + b.length, 0), baseOffset: 130, previousLastOffset: 129, previousBaseOffset: 127 });
        assert.equal(await findTimestamp(file, 0, bytes.length, 1055), 118);
        assert.equal(await findTimestamp(file, 0, bytes.length, 5000), undefined);
      } finally {
        await file.close();
        dir.remove();
      }
    });

    test(`${name}/${map ? 'mapped' : 'pread'}: scanBatches reports the first bad batch`, async () => {
      const dir = tempDir('sb-reader-');
      const path = join(dir.path, 'seg.log');
      const { bytes, batches } = segmentBytes();
      const damagedAt = batches.slice(0, 7).reduce((n, b) => n + b.length, 0);
      bytes[damagedAt + 70] ^= 0x01;
      writeFileSync(path, Buffer.concat([bytes, Buffer.alloc(5000)]));
      const file = await disk.openRead(path, { map });
      try {
        const seen: ScannedBatch[] = [];
        const r = await scanBatches(file, 0, bytes.length + 5000, 99, crc32c, 1 << 20, (b) => seen.push({ ...b }));
        assert.equal(seen.length, 7);
        assert.equal(r.validEnd, damagedAt);
        assert.match(r.problem!.reason, /CRC32C mismatch/);
        // Without CRC checks (a trusted clean restart) the walk goes on to the zero tail.
        const trusted = await scanBatches(file, 0, bytes.length + 5000, 99, undefined, 1 << 20, () => undefined);
        assert.equal(trusted.validEnd, bytes.length);
        assert.match(trusted.problem!.reason, /below the minimum/);
        // Offsets must rise above what came before.
        const order = await scanBatches(file, 0, bytes.length, 150, crc32c, 1 << 20, () => undefined);
        assert.match(order.problem!.reason, /not above the previous last offset 150/);
      } finally {
        await file.close();
        dir.remove();
      }
    });
  }
}
