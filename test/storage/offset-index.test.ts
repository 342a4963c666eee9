// Goal: the offset index finds the greatest entry at or below an offset, survives a byte round trip,
// and rejects files that are not valid indexes.
// Method: a fast-check property against a linear scan, plus hand-made bad files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OffsetIndex } from '../../src/storage/offset-index.ts';

test('lookup agrees with a linear scan (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 5000 })), { maxLength: 60 }), fc.integer({ min: 0, max: 4000 }), (steps, probe) => {
      const base = 1000;
      const index = new OffsetIndex(base);
      const entries: Array<[number, number]> = [];
      let offset = base;
      let position = 0;
      for (const [dOffset, dPosition] of steps) {
        offset += dOffset;
        position += dPosition;
        index.append(offset, position);
        entries.push([offset, position]);
      }
      let expected = { offset: base, position: 0 };
      for (const [o, p] of entries) if (o <= base + probe) expected = { offset: o, position: p };
      assert.deepEqual(index.lookup(base + probe), expected);
      const copy = OffsetIndex.fromBytes(base, index.toBytes(), position + 1);
      assert.ok(copy);
      assert.deepEqual(copy.lookup(base + probe), expected);
    }),
    { numRuns: 200 },
  );
});

test('truncation by position and invalid files', () => {
  const index = new OffsetIndex(0);
  index.append(10, 100);
  index.append(20, 200);
  index.append(30, 300);
  index.truncateToPosition(200);
  assert.deepEqual(index.last(), { offset: 10, position: 100 });
  const bytes = index.toBytes();
  assert.equal(OffsetIndex.fromBytes(0, bytes.subarray(0, 5), 1000), undefined, 'partial entry');
  assert.equal(OffsetIndex.fromBytes(0, bytes, 100), undefined, 'position past the log');
  const unordered = Buffer.alloc(16);
  unordered.writeUInt32BE(5, 0);
  unordered.writeUInt32BE(50, 4);
  unordered.writeUInt32BE(4, 8);
  unordered.writeUInt32BE(60, 12);
  assert.equal(OffsetIndex.fromBytes(0, unordered, 1000), undefined, 'offsets must increase');
  assert.throws(() => index.append(5, 500), /increase/);
});
