// Goal: majority arithmetic is right for every voter count: the commit index is what a majority
// stored, elections are won, lost or pending exactly when they should be.
// Method: hand-picked cases plus a fast-check property comparing committedIndex with a reference
// (the largest index that at least a majority of match indexes reach).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { committedIndex, majority, quorumActive, voteResult } from '../../src/raft/quorum.ts';

test('majority of n voters', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(majority), [1, 2, 2, 3, 3, 4, 4]);
});

test('committed index is the median-like order statistic', () => {
  const match = new Map([[1, 5], [2, 3], [3, 9]]);
  assert.equal(committedIndex([1, 2, 3], (id) => match.get(id)!, []), 5);
  assert.equal(committedIndex([1], () => 7, []), 7);
  const four = new Map([[1, 10], [2, 8], [3, 2], [4, 1]]);
  assert.equal(committedIndex([1, 2, 3, 4], (id) => four.get(id)!, []), 2);
});

test('committed index matches a reference for random match indexes', () => {
  fc.assert(
    fc.property(fc.array(fc.nat(1000), { minLength: 1, maxLength: 9 }), (matches) => {
      const voters = matches.map((_, i) => i + 1);
      const got = committedIndex(voters, (id) => matches[id - 1]!, []);
      const needed = Math.floor(matches.length / 2) + 1;
      const reference = Math.max(...matches.filter((m) => matches.filter((x) => x >= m).length >= needed));
      assert.equal(got, reference);
    }),
  );
});

test('vote results', () => {
  const votes = (entries: [number, boolean][]) => new Map(entries);
  assert.equal(voteResult([1, 2, 3], votes([[1, true]])), 'pending');
  assert.equal(voteResult([1, 2, 3], votes([[1, true], [2, true]])), 'won');
  assert.equal(voteResult([1, 2, 3], votes([[1, true], [2, false], [3, false]])), 'lost');
  assert.equal(voteResult([1, 2, 3, 4], votes([[1, true], [2, true], [3, false]])), 'pending');
  assert.equal(voteResult([1, 2, 3, 4], votes([[1, true], [2, false], [3, false]])), 'lost');
  // Votes from non-voters do not count.
  assert.equal(voteResult([1, 2, 3], votes([[1, true], [7, true], [8, true]])), 'pending');
});

test('quorum activity', () => {
  assert.equal(quorumActive([1, 2, 3], (id) => id === 1), false);
  assert.equal(quorumActive([1, 2, 3], (id) => id !== 3), true);
  assert.equal(quorumActive([1], () => true), true);
});
