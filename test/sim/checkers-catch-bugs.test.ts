// Goal: the simulator's checkers can fail. A broken driver or storage must be reported as a
// violation that names its seed, and replaying that seed must reproduce it exactly.
// Method: inject a deliberate bug through the simulator's bug switches (a node that forgets its
// vote on restart; disks whose fsync reports success before the data is durable, so that the
// production driver sends and applies a Ready too early; a node whose disk was replaced that
// votes at once with its empty log instead of joining first), scan
// seeds until the first violation (bounded), check which invariant broke, replay the seed with
// and without the bug.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation } from './simulation.ts';
import type { SimBugs, SimResult } from './simulation.ts';

const MAX_SEEDS = 400;

function firstViolation(bugs: SimBugs): SimResult {
  for (let seed = 0; seed < MAX_SEEDS; seed++) {
    const result = runSimulation({ seed, bugs });
    if (result.violation !== null) return result;
  }
  assert.fail(`no violation found in ${MAX_SEEDS} seeds with ${JSON.stringify(bugs)}`);
}

test('a node that forgets its vote across a restart breaks election safety, and the seed replays it', () => {
  const bugs = { forgetVote: true };
  const found = firstViolation(bugs);
  assert.match(found.violation!, new RegExp(`^seed ${found.seed}: election safety: nodes \\d and \\d are both leader in term \\d+$`));
  assert.deepEqual(runSimulation({ seed: found.seed, bugs }), found);
  assert.equal(runSimulation({ seed: found.seed }).violation, null, 'without the bug the same seed is clean');
});

test('an fsync that returns before the data is durable breaks safety, and the seed replays it', () => {
  const bugs = { lyingFsync: true };
  const found = firstViolation(bugs);
  assert.match(found.violation!, new RegExp(`^seed ${found.seed}: (committed entries never (change|vanish)|election safety|no crash|state-machine safety|exactly once|liveness): `));
  assert.deepEqual(runSimulation({ seed: found.seed, bugs }), found);
  assert.equal(runSimulation({ seed: found.seed }).violation, null, 'without the bug the same seed is clean');
});

test('a node whose disk was replaced and that votes at once with its empty log breaks safety, and the seed replays it', () => {
  // It may have helped commit entries it no longer holds: its vote can elect a leader without them,
  // and a leader that has not yet heard of the restart tells it to commit entries it lacks (the
  // core stops on that, hence 'no crash').
  const bugs = { wipeNotJoining: true };
  const found = firstViolation(bugs);
  assert.match(found.violation!, new RegExp(`^seed ${found.seed}: (committed entries never (change|vanish)|state-machine safety|election safety|exactly once|no crash): `));
  assert.ok(found.wipes > 0);
  assert.deepEqual(runSimulation({ seed: found.seed, bugs }), found);
  assert.equal(runSimulation({ seed: found.seed }).violation, null, 'without the bug the same seed is clean');
});
