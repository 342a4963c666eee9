// Goal: a group's offsets partition follows Kafka's rule (Java String.hashCode, Utils.abs, modulo), so
// every broker agrees and a group sits where a Kafka operator would look for it.
// Method: hash values known from Java, including the one whose hash is Integer.MIN_VALUE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { offsetsPartitionFor } from '../../src/metadata/offsets-partition.ts';

test("Java's String.hashCode, made non-negative, modulo the partition count", () => {
  assert.equal(offsetsPartitionFor('', 50), 0);
  assert.equal(offsetsPartitionFor('a', 50), 97 % 50);
  assert.equal(offsetsPartitionFor('hello', 50), 99162322 % 50);
  // "Aa".hashCode() == "BB".hashCode() == 2112
  assert.equal(offsetsPartitionFor('Aa', 50), offsetsPartitionFor('BB', 50));
  assert.equal(offsetsPartitionFor('Aa', 50), 2112 % 50);
  // A negative hash takes its absolute value.
  const java = (s: string) => [...s].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 0);
  assert.ok(java('zzzzzzzzzz') < 0);
  assert.equal(offsetsPartitionFor('zzzzzzzzzz', 50), Math.abs(java('zzzzzzzzzz')) % 50);
  // "polygenelubricants".hashCode() == Integer.MIN_VALUE, which Kafka's Utils.abs maps to 0.
  assert.equal(java('polygenelubricants'), -2147483648);
  assert.equal(offsetsPartitionFor('polygenelubricants', 50), 0);
  assert.equal(offsetsPartitionFor('any', 1), 0);
});
