// Goal: the time index only records growing timestamps, points a search at a safe starting offset,
// and validates its file.
// Method: hand-built entries and a byte round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimeIndex } from '../../src/storage/time-index.ts';

test('entries grow; lookup gives the last offset whose timestamp is below the target', () => {
  const index = new TimeIndex(100);
  index.maybeAppend(1000, 110);
  index.maybeAppend(900, 120); // not larger: ignored
  index.maybeAppend(2000, 130);
  index.maybeAppend(3000, 150);
  assert.equal(index.count, 3);
  assert.equal(index.maxTimestamp, 3000);
  assert.equal(index.lookup(500), 100);
  assert.equal(index.lookup(1000), 100);
  assert.equal(index.lookup(1001), 110);
  assert.equal(index.lookup(2500), 130);
  assert.equal(index.lookup(9999), 150);
  index.truncateToOffset(130);
  assert.equal(index.maxTimestamp, 1000);
  const copy = TimeIndex.fromBytes(100, index.toBytes(), 200);
  assert.ok(copy);
  assert.equal(copy.lookup(1001), 110);
  assert.equal(TimeIndex.fromBytes(100, index.toBytes(), 110), undefined, 'entry at the end offset');
  assert.equal(TimeIndex.fromBytes(100, Buffer.alloc(13), 200), undefined, 'partial entry');
});
