// Goal: the transactions checkpoint round-trips the tracker's state, and any damage (a flipped bit, a
// cut, another version, entries past its own offset) reads as "no checkpoint", never as wrong state.
// Method: a state from a tracker fed by hand, encoded and decoded; every single-byte change and every
// truncation of the encoding checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PartitionTransactions } from '../../src/replication/partition-transactions.ts';
import { decodeTransactionsCheckpoint, encodeTransactionsCheckpoint } from '../../src/replication/transactions-checkpoint.ts';

function sample(): PartitionTransactions {
  const t = new PartitionTransactions();
  t.observe({ producerId: 1n, baseOffset: 0, lastOffset: 1, transactional: true, commit: null });
  t.observe({ producerId: 2n ** 40n, baseOffset: 2, lastOffset: 2, transactional: true, commit: null });
  t.observe({ producerId: 1n, baseOffset: 3, lastOffset: 3, transactional: true, commit: false });
  t.observe({ producerId: 3n, baseOffset: 2 ** 33, lastOffset: 2 ** 33 + 4, transactional: true, commit: null });
  return t;
}

test('a checkpoint round-trips the whole state', () => {
  const state = sample().toState();
  assert.deepEqual(decodeTransactionsCheckpoint(encodeTransactionsCheckpoint(state)), state);
  const restored = PartitionTransactions.fromState(decodeTransactionsCheckpoint(encodeTransactionsCheckpoint(state))!);
  assert.equal(restored.observedEnd, 2 ** 33 + 5);
  assert.equal(restored.lastStableOffset(3), 0, 'the abort marker at 3 is not visible below 4: its transaction holds the LSO');
  assert.equal(restored.lastStableOffset(2 ** 34), 2);
  assert.deepEqual(restored.abortedIn(0, 10), [{ producerId: 1n, firstOffset: 0, lastOffset: 3 }]);
  const empty = new PartitionTransactions().toState();
  assert.deepEqual(decodeTransactionsCheckpoint(encodeTransactionsCheckpoint(empty)), empty);
});

test('damaged checkpoints read as none', () => {
  const bytes = encodeTransactionsCheckpoint(sample().toState());
  for (let i = 0; i < bytes.length; i++) {
    const changed = Uint8Array.from(bytes);
    changed[i]! ^= 0x10;
    assert.equal(decodeTransactionsCheckpoint(changed), null, `byte ${i} changed`);
  }
  for (let n = 0; n < bytes.length; n++) assert.equal(decodeTransactionsCheckpoint(bytes.subarray(0, n)), null, `cut at ${n}`);
  const inconsistent = encodeTransactionsCheckpoint({ observedEnd: 2, open: [{ producerId: 1n, firstOffset: 5 }], closed: [], aborted: [] });
  assert.equal(decodeTransactionsCheckpoint(inconsistent), null, 'an open transaction past the offset it was taken at');
});
