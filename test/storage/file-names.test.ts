// Goal: segment and partition folder names sort numerically and parse back exactly.
// Method: round trips and rejections of look-alikes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLeftover, parsePartitionDirName, parseSegmentFileName, partitionDirName, segmentFileName } from '../../src/storage/file-names.ts';

test('segment names are 20 digits and round-trip', () => {
  assert.equal(segmentFileName(0, '.log'), '00000000000000000000.log');
  assert.equal(segmentFileName(1234, '.timeindex'), '00000000000000001234.timeindex');
  assert.deepEqual(parseSegmentFileName('00000000000000001234.index'), { baseOffset: 1234, suffix: '.index' });
  const names = [5, 40, 300, 2 ** 40].map((o) => segmentFileName(o, '.log'));
  assert.deepEqual([...names].sort(), names);
  for (const bad of ['0001.log', '00000000000000000000.log.deleted', 'x0000000000000000000.log', '00000000000000000000.txt']) {
    assert.equal(parseSegmentFileName(bad), undefined, bad);
  }
  assert.throws(() => segmentFileName(-1, '.log'));
});

test('partition folders split at the last dash', () => {
  assert.equal(partitionDirName('orders', 3), 'orders-3');
  assert.deepEqual(parsePartitionDirName('my-topic-12'), { topic: 'my-topic', partition: 12 });
  assert.deepEqual(parsePartitionDirName('__consumer_offsets-0'), { topic: '__consumer_offsets', partition: 0 });
  for (const bad of ['raft', 'topic-', 'topic-01', '-3x']) assert.equal(parsePartitionDirName(bad), undefined, bad);
  assert.throws(() => partitionDirName('a/b', 0));
});

test('leftovers of interrupted changes are recognised', () => {
  for (const name of ['00000000000000000000.log.deleted', '00000000000000000000.log.cleaned', '00000000000000000000.log.swap', 'log-start-offset.tmp']) {
    assert.equal(isLeftover(name), true, name);
  }
  assert.equal(isLeftover('00000000000000000000.log'), false);
});
