// Goal: keyed records land on the same partitions as with Kafka's Java client. Method: murmur2 values
// that Apache Kafka's own tests pin for fixed strings, and the positive-modulo partition rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { murmur2, partitionForKey } from '../../src/client/partitioner.ts';

test('murmur2 matches the reference values (every tail length 0-3 covered)', () => {
  const cases: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [key, expected] of cases) assert.equal(murmur2(Buffer.from(key)), expected, key);
});

test('partition = (murmur2 & 0x7fffffff) % count, always within range', () => {
  assert.equal(partitionForKey(Buffer.from('foobar'), 7), (-790332482 & 0x7fffffff) % 7);
  for (let i = 0; i < 1000; i++) {
    const p = partitionForKey(Buffer.from(`key-${i}`), 13);
    assert.ok(Number.isInteger(p) && p >= 0 && p < 13);
  }
});
