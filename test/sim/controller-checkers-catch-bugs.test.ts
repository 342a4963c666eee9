// Goal: the controller-cluster simulation's checkers can fail. Each deliberately broken controller
// (controller-bugs.ts) must be reported as a violation of the invariant it breaks, naming its seed,
// and replaying that seed must reproduce it exactly, while the same seed without the bug is clean.
// Method: for each bug switch, scan seeds (bounded) until the first violation, match the invariant
// in its message, replay the seed with and without the bug. Runs are shortened (fewer events)
// where the bug shows early, to keep the file fast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runControllerSimulation } from './controller-sim.ts';
import type { ControllerSimBugs, ControllerSimResult } from './controller-sim.ts';

const MAX_SEEDS = 60;
const STEPS = 3000;

async function firstViolation(bugs: ControllerSimBugs, brokers: 3 | 5): Promise<ControllerSimResult> {
  for (let seed = 0; seed < MAX_SEEDS; seed++) {
    const result = await runControllerSimulation({ seed, brokers, steps: STEPS, bugs });
    if (result.violation !== null) return result;
  }
  assert.fail(`no violation found in ${MAX_SEEDS} seeds with ${JSON.stringify(bugs)}`);
}

async function caught(bugs: ControllerSimBugs, brokers: 3 | 5, invariant: RegExp): Promise<void> {
  const found = await firstViolation(bugs, brokers);
  assert.match(found.violation!, new RegExp(`^seed ${found.seed} brokers ${brokers}: (${invariant.source}): `));
  assert.deepEqual(await runControllerSimulation({ seed: found.seed, brokers, steps: STEPS, bugs }), found);
  const clean = await runControllerSimulation({ seed: found.seed, brokers, steps: STEPS });
  assert.equal(clean.violation, null, 'without the bug the same seed is clean');
}

test('a broker that applies a producer-id allocation twice diverges, and state-machine safety says so', async () => {
  await caught({ doubleApply: true }, 3, /state-machine safety/);
});

test('a broker that skips alter-configs entries diverges, and state-machine safety says so', async () => {
  await caught({ skipApply: true }, 5, /state-machine safety/);
});

test('reporting a command of unknown fate as applied is caught as an acknowledgement without an entry', async () => {
  await caught({ unknownAsSuccess: true }, 3, /acknowledged means applied/);
});

test('producer ids read from the applied state instead of allocated through the log are handed out twice', async () => {
  await caught({ localProducerIds: true }, 5, /unique producer ids/);
});

test('a controller that renames the cluster when leadership changes is caught by the one-cluster-id check', async () => {
  await caught({ renaming: true }, 3, /one cluster id/);
});
