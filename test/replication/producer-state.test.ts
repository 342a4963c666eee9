// Goal: the idempotent-producer rules of Kafka 3.9 (COMPAT.md section 4), one test per rule.
// Method: drive ProducerStateTable directly with batch identities and offsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProducerStateTable, lastSequenceOf, PRODUCER_BATCHES_KEPT } from '../../src/replication/producer-state.ts';

const pid = 7n;
const batch = (epoch: number, base: number, count: number) => ({
  producerId: pid,
  producerEpoch: epoch,
  baseSequence: base,
  lastSequence: lastSequenceOf(base, count - 1),
});

test('unknown producer: any sequence is accepted', () => {
  const t = new ProducerStateTable();
  assert.deepEqual(t.check(batch(0, 42, 3)), { kind: 'append' });
});

test('same epoch: next sequence appends, a gap is out of order', () => {
  const t = new ProducerStateTable();
  t.record(batch(0, 0, 3), 0, 2, 1);
  assert.deepEqual(t.check(batch(0, 3, 2)), { kind: 'append' });
  assert.deepEqual(t.check(batch(0, 4, 2)), { kind: 'out-of-order' });
  assert.deepEqual(t.check(batch(0, 2, 2)), { kind: 'out-of-order' });
});

test('a duplicate of any of the last five batches returns its original offset', () => {
  const t = new ProducerStateTable();
  for (let i = 0; i < 7; i++) t.record(batch(0, i * 2, 2), 100 + i * 2, 101 + i * 2, i);
  assert.deepEqual(t.check(batch(0, 12, 2)), { kind: 'duplicate', baseOffset: 112 });
  assert.deepEqual(t.check(batch(0, 4, 2)), { kind: 'duplicate', baseOffset: 104 });
  // Older than the five kept: no longer recognised, and out of order.
  assert.equal(PRODUCER_BATCHES_KEPT, 5);
  assert.deepEqual(t.check(batch(0, 2, 2)), { kind: 'out-of-order' });
});

test('lower epoch is fenced; higher epoch must restart at sequence 0', () => {
  const t = new ProducerStateTable();
  t.record(batch(3, 0, 1), 0, 0, 1);
  assert.deepEqual(t.check(batch(2, 1, 1)), { kind: 'invalid-epoch' });
  assert.deepEqual(t.check(batch(4, 5, 1)), { kind: 'out-of-order' });
  assert.deepEqual(t.check(batch(4, 0, 1)), { kind: 'append' });
  t.record(batch(4, 0, 1), 1, 1, 2);
  assert.deepEqual(t.check(batch(3, 1, 1)), { kind: 'invalid-epoch' });
});

test('sequences wrap from 2^31-1 to 0', () => {
  const t = new ProducerStateTable();
  t.record(batch(0, 0x7ffffffe, 2), 0, 1, 1);
  assert.equal(lastSequenceOf(0x7ffffffe, 1), 0x7fffffff);
  assert.deepEqual(t.check(batch(0, 0, 1)), { kind: 'append' });
  assert.equal(lastSequenceOf(0x7fffffff, 2), 1);
});

test('idle producers expire and then any sequence is accepted again', () => {
  const t = new ProducerStateTable();
  t.record(batch(0, 0, 1), 0, 0, 1_000);
  assert.equal(t.expire(1_000 + 500, 1_000), 0);
  assert.equal(t.expire(1_000 + 1_001, 1_000), 1);
  assert.deepEqual(t.check(batch(0, 99, 1)), { kind: 'append' });
});

test('truncation forgets batches beyond the new end', () => {
  const t = new ProducerStateTable();
  t.record(batch(0, 0, 1), 0, 0, 1);
  t.record(batch(0, 1, 1), 1, 1, 1);
  t.truncateFrom(1);
  assert.deepEqual(t.check(batch(0, 1, 1)), { kind: 'append' });
});
