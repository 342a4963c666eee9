// Goal: the replicated controller (production RaftDriver + ControllerStateMachine +
// ReplicatedMetadata on every broker) keeps its invariants under random faults and converges once
// they heal, for 3 and 5 brokers, on a fixed set of seeds that runs on every commit; and a run is a
// pure function of its seed.
// Method: run the controller-cluster simulation (controller-sim.ts) over a bounded seed range per
// cluster size (kept small so the file stays well under 20 s on slow machines; larger sweeps run
// with `npm run sim -- --cluster --brokers N --seed-start S --seeds K`). Any violation fails with
// its seed and the first broken invariant. Replay one seed twice and compare full event traces.
// Every check is on, read-your-writes included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runControllerSimulation } from './controller-sim.ts';

const SEEDS: Record<3 | 5, number> = { 3: 40, 5: 30 };

for (const brokers of [3, 5] as const) {
  test(`${brokers} brokers, seeds 0..${SEEDS[brokers] - 1}: every controller invariant holds and the cluster converges`, async () => {
    const violations: string[] = [];
    let acknowledged = 0;
    let producerIds = 0;
    let crashes = 0;
    let events = 0;
    for (let seed = 0; seed < SEEDS[brokers]; seed++) {
      const result = await runControllerSimulation({ seed, brokers });
      events += result.events;
      acknowledged += result.acknowledged;
      producerIds += result.producerIds;
      crashes += result.crashes;
      if (result.violation !== null) violations.push(result.violation);
    }
    assert.deepEqual(violations, []);
    // The runs must do real work under real faults, not idle through their events.
    assert.ok(acknowledged > SEEDS[brokers] * 30, `only ${acknowledged} submits acknowledged over ${events} events`);
    assert.ok(producerIds > SEEDS[brokers] * 10, `only ${producerIds} producer ids handed out`);
    assert.ok(crashes > SEEDS[brokers], `only ${crashes} crashes`);
  });
}

test('a controller seed replays event for event', async () => {
  const first: string[] = [];
  const second: string[] = [];
  const a = await runControllerSimulation({ seed: 7, brokers: 5, trace: (line) => first.push(line) });
  const b = await runControllerSimulation({ seed: 7, brokers: 5, trace: (line) => second.push(line) });
  assert.ok(first.length > 500, 'the trace is too short to mean anything');
  assert.deepEqual(second, first);
  assert.deepEqual(b, a);
});

test('different controller seeds explore different runs', async () => {
  const a = await runControllerSimulation({ seed: 1, brokers: 3 });
  const b = await runControllerSimulation({ seed: 2, brokers: 3 });
  assert.notDeepEqual([a.events, a.submitted, a.acknowledged, a.settings], [b.events, b.submitted, b.acknowledged, b.settings]);
});
