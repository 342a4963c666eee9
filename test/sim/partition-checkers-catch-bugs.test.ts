// Goal: the partition simulation's checkers can fail. Each deliberately broken replica path or
// transaction coordinator (partition-bugs.ts) must be reported as a violation of the invariant it breaks, naming its seed,
// and replaying that seed must reproduce it exactly, while the same seed without the bug is clean.
// Method: for each bug switch, scan seeds (bounded) until the first violation, match the invariant
// in its message, replay the seed with and without the bug. Runs are short: these bugs show early.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPartitionSimulation, type PartitionSimResult } from './partition-sim.ts';
import type { PartitionSimBugs } from './partition-bugs.ts';

const MAX_SEEDS = 20;
const STEPS = 4000;

async function firstViolation(bugs: PartitionSimBugs, brokers: 3 | 5): Promise<PartitionSimResult> {
  for (let seed = 0; seed < MAX_SEEDS; seed++) {
    const result = await runPartitionSimulation({ seed, brokers, steps: STEPS, bugs });
    if (result.violation !== null) return result;
  }
  assert.fail(`no violation found in ${MAX_SEEDS} seeds with ${JSON.stringify(bugs)}`);
}

async function caught(bugs: PartitionSimBugs, brokers: 3 | 5, invariant: RegExp): Promise<void> {
  const found = await firstViolation(bugs, brokers);
  assert.match(found.violation!, new RegExp(`^seed ${found.seed} brokers ${brokers}: (${invariant.source}): `));
  assert.deepEqual(await runPartitionSimulation({ seed: found.seed, brokers, steps: STEPS, bugs }), found);
  const clean = await runPartitionSimulation({ seed: found.seed, brokers, steps: STEPS });
  assert.equal(clean.violation, null, 'without the bug the same seed is clean');
}

test('acknowledging a produce when the leader proposed it, not once it is committed, is caught', async () => {
  await caught({ ackBeforeCommit: true }, 3, /acknowledged means committed/);
});

test('a new leader taking writes before its own first entry is applied is caught by its high watermark', async () => {
  await caught({ writableBeforeOwnEntry: true }, 3, /a new leader covers every acknowledged offset/);
});

test('a new leader that does not rebuild producer state stores a retried idempotent batch twice', async () => {
  await caught({ skipProducerRebuild: true }, 5, /exactly once/);
});

test('a disk whose fsync lies loses or tears what the brokers made durable, and a checker says so', async () => {
  await caught({ lyingFsync: true }, 3, /no crash|committed prefixes agree|no acknowledged batch lost|identical logs|acknowledged means committed|exactly once|a new leader covers every acknowledged offset|high watermark never decreases|markers carry the decision|read_committed reads only decided transactions|every replica computes the same LSO and aborted list|last stable offset never decreases/);
});

test('a last stable offset that is the high watermark lets read_committed read an undecided transaction, and it is caught', async () => {
  await caught({ lsoIsHighWatermark: true }, 3, /read_committed reads only decided transactions/);
});

test('a read_committed consumer that ignores the aborted transactions Fetch lists is caught reading aborted records', async () => {
  await caught({ consumerIgnoresAborted: true }, 3, /read_committed never reads aborted records/);
});

test('a replica that forgets the transactions of its log when it restarts is caught', async () => {
  await caught({ forgetTransactionsAtStart: true }, 3, /every replica computes the same LSO and aborted list|read_committed reads only decided transactions|read_committed never reads aborted records/);
});

test('a transaction coordinator that takes over without finishing the markers of the transactions it finds decided is caught', async () => {
  // The decided transaction stays PrepareCommit/PrepareAbort: its producer cannot go on, and healing does not help.
  await caught({ coordinatorSkipsResume: true }, 3, /liveness: not converged \d+ ticks after healing: transaction\(s\) not complete/);
});

test('a transaction coordinator that writes markers and answers EndTxn before its decision is stored is caught', async () => {
  await caught({ decisionNotAwaited: true }, 3, /markers carry the decision|an answered EndTxn is decided/);
});

test('a transaction coordinator that goes on writing markers after it was closed (deposed) is caught', async () => {
  // It finishes what its successor finished too: a second completion, or a late marker in a later transaction.
  await caught({ deposedCoordinatorWrites: true }, 5, /a transaction completes as decided|markers carry the decision/);
});
