// Goal: replicated partition data (the production segment Log, PartitionRaftLog, PartitionReplica
// and MultiRaft on every broker, over MemDisk) keeps its invariants under crashes, power loss and
// network faults and converges once they heal, for 3 and 5 brokers, on a few seeds that run on every
// commit; with 5 brokers partitions also move between brokers (membership changes) amid the faults;
// transactions commit and abort amid it all, through the production transaction coordinator on a
// replicated `__transaction_state` partition that fails over with its leader, and read_committed
// consumers see exactly the committed ones; and a run is a pure function of its seed.
// Method: run the partition simulation (partition-sim.ts) over a small seed range per cluster size,
// kept to a few seconds (larger sweeps: `npm run sim -- --partitions --brokers N --seed-start S
// --seeds K`). Any violation fails with its seed and the first broken invariant. Replay one seed
// twice and compare full event traces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPartitionSimulation } from './partition-sim.ts';

const SEEDS: Record<3 | 5, number> = { 3: 3, 5: 3 };
const STEPS = 5000;

for (const brokers of [3, 5] as const) {
  test(`${brokers} brokers, seeds 0..${SEEDS[brokers] - 1}: no acknowledged batch is lost or duplicated, and the replicas converge`, async () => {
    const violations: string[] = [];
    let committed = 0;
    let crashes = 0;
    let appended = 0;
    let moved = 0;
    let commits = 0;
    let aborts = 0;
    let answered = 0;
    let coordinatorLoads = 0;
    let transactionRecordsRead = 0;
    for (let seed = 0; seed < SEEDS[brokers]; seed++) {
      const result = await runPartitionSimulation({ seed, brokers, steps: STEPS });
      committed += result.committedOffsets;
      crashes += result.crashes;
      appended += result.outcomes['produce appended'] ?? 0;
      moved += result.outcomes['move completed'] ?? 0;
      commits += result.coordinator?.committed ?? 0;
      aborts += result.coordinator?.aborted ?? 0;
      answered += result.coordinator?.answered ?? 0;
      coordinatorLoads += result.coordinator?.loads ?? 0;
      transactionRecordsRead += result.transactionRecordsRead;
      if (result.violation !== null) violations.push(result.violation);
    }
    assert.deepEqual(violations, []);
    // The runs must write under faults, not idle through their events.
    assert.ok(committed > SEEDS[brokers] * 100, `only ${committed} offsets committed`);
    assert.ok(appended > SEEDS[brokers] * 50, `only ${appended} produces acknowledged`);
    assert.ok(crashes >= SEEDS[brokers], `only ${crashes} crashes`);
    if (brokers === 5) assert.ok(moved >= SEEDS[brokers], `only ${moved} partition moves completed`);
    assert.ok(commits >= SEEDS[brokers] && aborts >= SEEDS[brokers], `only ${commits} transactions committed and ${aborts} aborted by the coordinators`);
    assert.ok(answered > 0, 'no EndTxn answered');
    // The coordinator must move amid the faults, not stay put on its first broker.
    assert.ok(coordinatorLoads > SEEDS[brokers], `only ${coordinatorLoads} coordinator loads`);
    assert.ok(transactionRecordsRead > 0, 'no read_committed consumer read a committed transaction');
  });
}

test('seeds that found defects stay clean', async () => {
  // Without transactional clients, as these seeds ran when they found their defects.
  const clients = { transactional: 0, readCommitted: 0 };
  // Seed 0: a retry of a batch whose first write was not committed yet was acknowledged at once.
  // Seed 5: retention deleted segments before the snapshot past them was durable; a power loss then
  // left committed entries that could never be applied.
  // Seeds 365 and 379: a restart after a kill adopted segment bytes the dead process never fsynced;
  // a later power loss tore them below the recovery point (365) or lost committed entries (379).
  for (const seed of [0, 5, 365, 379]) assert.equal((await runPartitionSimulation({ seed, brokers: 3, clients })).violation, null);
  // Five brokers, seed 4: retention's snapshot carried the configuration of the moment, not of its
  // index; a new replica installing it then replayed a learner's addition it already held.
  assert.equal((await runPartitionSimulation({ seed: 4, brokers: 5, clients })).violation, null);
  // Five brokers, seed 5114: retention of a replica being removed (moved away) failed on its closed log.
  assert.equal((await runPartitionSimulation({ seed: 5114, brokers: 5, clients })).violation, null);
  // Five brokers, seed 10343: a move recorded before any replica of a new partition existed made every
  // first voter join without voting, so the group never elected a leader.
  assert.equal((await runPartitionSimulation({ seed: 10343, brokers: 5, clients })).violation, null);
  // With the transaction coordinator, seed 79: a coordinator closed while it waited for a producer id
  // still stored the change once its broker led `__transaction_state` again, behind the records of
  // the coordinator loaded since (an id back to Empty while its transaction was open).
  assert.equal((await runPartitionSimulation({ seed: 79, brokers: 3 })).violation, null);
  // Seed 20811 (a checker defect): both replicas holding a batch stored the commit index covering it
  // and lost power before applying it; restarted, each counts its log up to that index as applied, so
  // no replica ever reported the batch and its producer's retry, rightly answered as a duplicate, was
  // taken for an acknowledgement of something never committed.
  assert.equal((await runPartitionSimulation({ seed: 20811, brokers: 3 })).violation, null);
});

test('without the coordinator, producers that decide and write their markers themselves stay clean', async () => {
  const result = await runPartitionSimulation({ seed: 1, brokers: 3, steps: 3000, coordinator: false });
  assert.equal(result.violation, null);
  assert.equal(result.coordinator, null);
  assert.ok((result.outcomes['transaction decided commit'] ?? 0) > 0, 'no transaction committed');
});

test('a partition seed replays event for event', async () => {
  const first: string[] = [];
  const second: string[] = [];
  const a = await runPartitionSimulation({ seed: 4, brokers: 3, steps: 3000, trace: (line) => first.push(line) });
  const b = await runPartitionSimulation({ seed: 4, brokers: 3, steps: 3000, trace: (line) => second.push(line) });
  assert.ok(first.length > 500, 'the trace is too short to mean anything');
  assert.deepEqual(second, first);
  assert.deepEqual(b, a);
});
