// Goal: retention deletes only leading closed segments, by age or by size, never the active one.
// Method: the pure decision function over hand-made segment lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { segmentsToDelete } from '../../src/storage/retention.ts';

const seg = (sizeBytes: number, maxTimestamp: number, sealed = true) => ({ sizeBytes, maxTimestamp, sealed });

test('by time: leading segments older than retention go, stopping at the first young one', () => {
  const now = 10_000;
  assert.equal(segmentsToDelete([seg(10, 1000), seg(10, 2000), seg(10, 9500), seg(10, 1000), seg(10, 9900, false)], now, 5000, -1), 2);
  assert.equal(segmentsToDelete([seg(10, 1000), seg(10, 1000, false)], now, -1, -1), 0, 'unlimited');
});

test('by size: delete while the rest still reaches the limit; never the active segment', () => {
  assert.equal(segmentsToDelete([seg(100, 0), seg(100, 0), seg(100, 0), seg(50, 0, false)], 0, -1, 150), 2);
  assert.equal(segmentsToDelete([seg(100, 0), seg(100, 0, false)], 0, -1, 0), 1);
  assert.equal(segmentsToDelete([seg(100, 0, false)], 0, 0, 0), 0, 'only the active segment');
  assert.equal(segmentsToDelete([seg(100, 0), seg(100, 0, false), seg(1, 0, false)], 0, -1, 0), 1, 'stops at an unsealed one');
});
