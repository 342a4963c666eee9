// Goal: a follower's progress moves between probe, replicate and snapshot as the leader learns
// about it, and stale or duplicate answers never move it backwards.
// Method: drive a Progress through the transitions the leader makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress } from '../../src/raft/progress.ts';

test('probe sends one append at a time, replicate pipelines within the window', () => {
  const pr = new Progress(6, false, 2, 1000);
  assert.equal(pr.state, 'probe');
  assert.equal(pr.isPaused(), false);
  pr.sentEntries(3, 8, 30);
  assert.equal(pr.isPaused(), true, 'a probe waits for its answer');
  assert.equal(pr.next, 6, 'a probe does not move next');
  assert.equal(pr.maybeUpdate(8), true);
  pr.becomeReplicate();
  assert.equal(pr.next, 9);
  pr.sentEntries(2, 10, 20);
  pr.sentEntries(2, 12, 20);
  assert.equal(pr.next, 13);
  assert.equal(pr.isPaused(), true, 'the window of two is full');
  pr.maybeUpdate(10);
  pr.inflights.freeLE(10);
  assert.equal(pr.isPaused(), false);
});

test('stale answers do not move match back or change state', () => {
  const pr = new Progress(1, false, 4, 1000);
  pr.maybeUpdate(10);
  pr.becomeReplicate();
  assert.equal(pr.maybeUpdate(7), false);
  assert.equal(pr.match, 10);
  assert.equal(pr.maybeDecrTo(9, 0), false, 'a rejection at or below match is stale in replicate');
  assert.equal(pr.state, 'replicate');
});

test('a rejection in probe state uses the hint, never going below match + 1', () => {
  const pr = new Progress(21, false, 4, 1000);
  pr.match = 3;
  assert.equal(pr.maybeDecrTo(15, 5), false, 'only the answer to the last probe counts');
  assert.equal(pr.maybeDecrTo(20, 7), true);
  assert.equal(pr.next, 8);
  assert.equal(pr.maybeDecrTo(7, 1), true);
  assert.equal(pr.next, 4, 'never below match + 1');
});

test('snapshot state pauses until the snapshot is acknowledged, then probes after it', () => {
  const pr = new Progress(2, false, 4, 1000);
  pr.becomeSnapshot(50);
  assert.equal(pr.isPaused(), true);
  pr.maybeUpdate(50);
  pr.becomeProbe();
  assert.equal(pr.next, 51);
  const lost = new Progress(2, false, 4, 1000);
  lost.match = 4;
  lost.becomeSnapshot(50);
  lost.becomeProbe();
  assert.equal(lost.next, 51, 'probing resumes after the pending snapshot');
});
