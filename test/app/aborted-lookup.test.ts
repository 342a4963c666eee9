// Goal: compaction's aborted-transaction lookup answers true exactly for a producer's batches inside
// one of its aborted ranges [firstOffset, marker), never for other producers or outside the ranges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abortedLookup } from '../../src/app/log-maintenance.ts';

test('a batch is aborted only inside its own producer\'s aborted ranges', () => {
  const isAborted = abortedLookup([
    { producerId: 7n, firstOffset: 10, lastOffset: 20 },
    { producerId: 8n, firstOffset: 12, lastOffset: 14 },
    { producerId: 7n, firstOffset: 30, lastOffset: 31 },
  ]);
  assert.deepEqual([9, 10, 19, 20, 30, 31].map((o) => isAborted(7n, o)), [false, true, true, false, true, false]);
  assert.deepEqual([11, 12, 13, 14].map((o) => isAborted(8n, o)), [false, true, true, false]);
  assert.equal(isAborted(9n, 15), false);
  assert.equal(abortedLookup([])(7n, 15), false);
});
