// Goal: the Raft core keeps every safety invariant under random faults and converges once they
// heal, on a fixed set of seeds (a regression corpus that runs on every commit), and a run is a
// pure function of its seed.
// Method: run the deterministic cluster simulator (simulation.ts) over seeds 0..N-1 with the
// default fault mix, plus a few long runs; any violation fails with its seed and the first broken
// invariant (replay it with `npm run sim -- --seed N --verbose`). Replay one seed twice and
// compare full event traces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation } from './simulation.ts';

const SHORT_SEEDS = 1800;
const LONG_SEEDS = 24;
const LONG_STEPS = 25_000;

test(`seeds 0..${SHORT_SEEDS - 1} (3000 events each) hold every invariant and converge`, () => {
  const violations: string[] = [];
  let events = 0;
  let acknowledged = 0;
  for (let seed = 0; seed < SHORT_SEEDS; seed++) {
    const result = runSimulation({ seed });
    events += result.events;
    acknowledged += result.acknowledged;
    if (result.violation !== null) violations.push(result.violation);
  }
  assert.deepEqual(violations, []);
  // The runs must do real work, not idle through their steps.
  assert.ok(acknowledged > SHORT_SEEDS * 20, `only ${acknowledged} proposals acknowledged over ${events} events`);
});

test(`${LONG_SEEDS} long runs (${LONG_STEPS} events each) hold every invariant and converge`, () => {
  const violations: string[] = [];
  for (let seed = 1_000_000; seed < 1_000_000 + LONG_SEEDS; seed++) {
    const result = runSimulation({ seed, steps: LONG_STEPS });
    if (result.violation !== null) violations.push(result.violation);
  }
  assert.deepEqual(violations, []);
});

test('seeds 0..299 hold every invariant and converge when a third of log reads answer "not loaded"', () => {
  // A partition's Raft log serves only recent entries from memory: the core must treat
  // LogNotLoadedError (and shorter answers) as "not now", never crash or send a snapshot for it.
  const violations: string[] = [];
  let acknowledged = 0;
  for (let seed = 0; seed < 300; seed++) {
    const result = runSimulation({ seed, notLoadedChance: 0.3 });
    acknowledged += result.acknowledged;
    if (result.violation !== null) violations.push(result.violation);
  }
  assert.deepEqual(violations, []);
  assert.ok(acknowledged > 300 * 20, `only ${acknowledged} proposals acknowledged`);
});

test('a seed replays event for event', () => {
  const first: string[] = [];
  const second: string[] = [];
  const a = runSimulation({ seed: 42, trace: (line) => first.push(line) });
  const b = runSimulation({ seed: 42, trace: (line) => second.push(line) });
  assert.ok(first.length > 1000, 'the trace is too short to mean anything');
  assert.deepEqual(second, first);
  assert.deepEqual(b, a);
});

test('different seeds explore different runs', () => {
  const a = runSimulation({ seed: 1 });
  const b = runSimulation({ seed: 2 });
  assert.notDeepEqual([a.events, a.proposed, a.acknowledged, a.settings], [b.events, b.proposed, b.acknowledged, b.settings]);
});
