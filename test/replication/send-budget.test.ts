// Goal: the learners' byte budget allows a second's worth at most, refills with time, lets one message
// go into debt (so a large one is never starved), and counts what it let through and refused.
// Method: ByteRateBudget on a hand-driven clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteRateBudget } from '../../src/replication/send-budget.ts';

test('a second of allowance, refilled with time, with one message of debt', () => {
  let now = 0;
  const budget = new ByteRateBudget(1_000, () => now);
  assert.equal(budget.take(600), true);
  assert.equal(budget.take(600), true, 'into debt by one message');
  assert.equal(budget.take(1), false);
  now = 100; // +100 bytes: still in debt (-100)
  assert.equal(budget.take(1), false);
  now = 200; // back to 0: nothing left
  assert.equal(budget.take(1), false);
  now = 201;
  assert.equal(budget.take(5_000), true, 'a message larger than a second still goes');
  now = 100_000; // idle for long: no burst beyond a second's worth
  assert.equal(budget.take(1_000), true);
  assert.equal(budget.take(1), false);
  assert.equal(budget.taken, 600 + 600 + 5_000 + 1_000);
  assert.equal(budget.refused, 4);
});
