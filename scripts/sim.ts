// Runs the deterministic Raft cluster simulator (test/sim) over one seed or a range of seeds.
//
//   npm run sim -- --seed N [--steps S] [--verbose]        replay one seed (--verbose traces every event)
//   npm run sim -- --seed-start N --seeds K [--steps S]    run seeds N .. N+K-1
//
// Options: --steps S (events in the fault phase, default 3000; 6000 with --cluster, 10000 with
// --partitions),
// --liveness-ticks T (default 3000), --no-wipes (the Raft simulation without replaced disks).
//
// With --cluster [--brokers 3|5] (default 3) it runs the controller-cluster simulation instead
// (test/sim/controller-sim.ts): every broker runs the production RaftDriver, ControllerStateMachine
// and ReplicatedMetadata, brokers submit metadata commands under faults, and the controller's
// invariants (identical cluster state per applied index, acknowledged commands applied, unique
// producer ids, one cluster id, liveness after healing) are checked after every event.
//
//   npm run sim -- --cluster --brokers 5 --seed-start 0 --seeds 100
//   npm run sim -- --cluster --brokers 5 --seed 17 --verbose
//
// The controller checks include "read your writes": an acknowledged submit's own broker has applied
// it when the submit resolves (ReplicatedMetadata's contract); --no-read-your-writes leaves it out.
//
// With --partitions [--brokers 3|5] it runs the partition-data simulation instead
// (test/sim/partition-sim.ts): every broker runs the production replica path (segment Log,
// PartitionRaftLog, PartitionReplica, MultiRaft) over an in-memory disk with crash semantics,
// idempotent, plain and transactional producers retry as Kafka clients do, consumers fetch from the
// leader (read_uncommitted and read_committed), and the data's invariants (acknowledged batches never
// lost, committed prefixes agree, high watermarks never go down, idempotent batches stored once,
// read_committed never reads an aborted or undecided transaction and reads every committed one,
// liveness after healing) are checked after every event. --transactional N and --read-committed N set
// the transactional producers and read_committed consumers per partition (default 1 each; with 0 and
// 0 a seed runs as it did before they existed). Transactional producers go through the production
// transaction coordinator, on the leader of a replicated `__transaction_state` partition, and the
// checks follow its decisions across coordinator failovers; --no-coordinator has each producer decide
// its transactions and write the markers itself, as before the coordinator was simulated.
//
//   npm run sim -- --partitions --brokers 3 --seed-start 0 --seeds 200
//   npm run sim -- --partitions --seed 17 --verbose
//
// Prints the seed and first broken invariant of every failing seed, then one summary line
// "seeds K, events E, violations V". Exits 0 only when V is 0.
import { runControllerSimulation } from '../test/sim/controller-sim.ts';
import { DEFAULT_CLIENTS, runPartitionSimulation } from '../test/sim/partition-sim.ts';
import { runSimulation } from '../test/sim/simulation.ts';

function parseArgs(argv: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) args.set(arg.slice(2), 'true');
    else {
      args.set(arg.slice(2), next);
      i++;
    }
  }
  return args;
}

function integer(args: Map<string, string>, name: string, fallback?: number): number {
  const raw = args.get(name);
  if (raw === undefined) {
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer, got ${raw}`);
  return value;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const cluster = args.get('cluster') === 'true';
  const partitions = args.get('partitions') === 'true';
  const readYourWrites = args.get('no-read-your-writes') !== 'true';
  const brokers = integer(args, 'brokers', 3);
  if (brokers !== 3 && brokers !== 5) throw new Error(`--brokers must be 3 or 5, got ${brokers}`);
  const steps = integer(args, 'steps', cluster ? 6000 : partitions ? 10000 : 3000);
  const livenessTicks = integer(args, 'liveness-ticks', 3000);
  const verbose = args.get('verbose') === 'true';
  // Percent of log reads that answer "not loaded" (LogNotLoadedError or a prefix), as a partition's Raft log may.
  const notLoadedChance = integer(args, 'not-loaded-percent', 0) / 100;
  let start: number;
  let count: number;
  if (args.has('seed')) {
    start = integer(args, 'seed');
    count = 1;
  } else {
    start = integer(args, 'seed-start');
    count = integer(args, 'seeds');
  }
  const wipes = args.get('no-wipes') !== 'true';
  const transactional = integer(args, 'transactional', DEFAULT_CLIENTS.transactional);
  const readCommitted = integer(args, 'read-committed', DEFAULT_CLIENTS.readCommitted);
  const coordinator = args.get('no-coordinator') !== 'true';
  let events = 0;
  let violations = 0;
  let wiped = 0;
  let wipesRecovered = 0;
  const txns = { commits: 0, aborts: 0, repeatedMarkers: 0, recordsRead: 0 };
  const coordinated = { committed: 0, aborted: 0, answered: 0, loads: 0, failovers: 0, resumed: 0, lateMarkers: 0, killed: 0 };
  let quiesceNotices = 0;
  let quiescingSeeds = 0;
  const failovers = { 'after-notice': 0, plain: 0 };
  const began = performance.now();
  for (let seed = start; seed < start + count; seed++) {
    const trace = verbose ? (line: string) => console.log(line) : undefined;
    if (partitions) {
      const result = await runPartitionSimulation({ seed, brokers, steps, livenessTicks, trace, clients: { transactional, readCommitted }, coordinator });
      events += result.events;
      txns.commits += (result.outcomes['transaction decided commit'] ?? 0) + (result.coordinator?.committed ?? 0);
      txns.aborts += (result.outcomes['transaction decided abort'] ?? 0) + (result.coordinator?.aborted ?? 0);
      if (result.coordinator !== null) {
        for (const k of ['committed', 'aborted', 'answered', 'loads', 'failovers', 'resumed', 'lateMarkers'] as const) coordinated[k] += result.coordinator[k];
        if (result.failover !== 'none' && result.failoverOf === 'coordinator') coordinated.killed++;
      }
      txns.repeatedMarkers += result.repeatedMarkers;
      txns.recordsRead += result.transactionRecordsRead;
      quiesceNotices += result.quiesceNotices;
      if (result.quiesceNotices > 0) quiescingSeeds++;
      if (result.failover !== 'none') failovers[result.failover]++;
      if (count === 1) {
        console.log(`seed ${seed}: ${result.settings}`);
        console.log(
          `seed ${seed}: ${result.events} events, ${result.simulatedMs - 1_700_000_000_000} simulated ms, ${result.committedOffsets} offsets committed, ` +
            `${result.crashes} crashes (${result.powerLosses} power losses), ${result.comparisons} batches compared, ` +
            `${result.snapshotsRestored} snapshots restored, ${result.forgottenProducers} idempotent batches stored again after retention, ` +
            `${result.transactionRecordsRead} committed transactional records read (read_committed), ${result.repeatedMarkers} repeated markers`,
        );
        if (result.coordinator !== null) console.log(`seed ${seed}: coordinator: ${JSON.stringify(result.coordinator)}${result.failover === 'none' ? '' : `; the failover killed the ${result.failoverOf === 'coordinator' ? 'coordinator' : 'leader of data-0'}`}`);
        printOutcomes(seed, result.outcomes);
      }
      if (result.violation !== null) {
        violations++;
        console.log(`VIOLATION ${result.violation}`);
        const liveness = livenessTicks === 3000 ? '' : ` --liveness-ticks ${livenessTicks}`;
        const clients =
          (transactional === DEFAULT_CLIENTS.transactional ? '' : ` --transactional ${transactional}`) +
          (readCommitted === DEFAULT_CLIENTS.readCommitted ? '' : ` --read-committed ${readCommitted}`) +
          (coordinator ? '' : ' --no-coordinator');
        console.log(`  replay: npm run sim -- --partitions --brokers ${brokers} --seed ${seed} --steps ${steps}${liveness}${clients} --verbose`);
      }
      continue;
    }
    if (cluster) {
      const result = await runControllerSimulation({ seed, brokers, steps, livenessTicks, readYourWrites, trace });
      events += result.events;
      if (count === 1) {
        console.log(`seed ${seed}: ${result.settings}`);
        console.log(
          `seed ${seed}: ${result.events} events, ${result.simulatedMs} simulated ms, ${result.submitted} submitted, ` +
            `${result.acknowledged} acknowledged, ${result.refused} refused, ${result.abandoned} abandoned, ` +
            `${result.producerIds} producer ids, ${result.crashes} crashes, ${result.leaderTerms} terms with a leader, ` +
            `${result.comparisons} applied states compared`,
        );
        printOutcomes(seed, result.outcomes);
      }
      if (result.violation !== null) {
        violations++;
        console.log(`VIOLATION ${result.violation}`);
        const liveness = livenessTicks === 3000 ? '' : ` --liveness-ticks ${livenessTicks}`;
        const ryw = readYourWrites ? '' : ' --no-read-your-writes';
        console.log(`  replay: npm run sim -- --cluster --brokers ${brokers}${ryw} --seed ${seed} --steps ${steps}${liveness} --verbose`);
      }
      continue;
    }
    const result = runSimulation({ seed, steps, livenessTicks, trace, notLoadedChance, wipes });
    events += result.events;
    wiped += result.wipes;
    wipesRecovered += result.wipesRecovered;
    if (count === 1) {
      console.log(`seed ${seed}: ${result.settings}`);
      console.log(
        `seed ${seed}: ${result.events} events, ${result.simulatedMs} simulated ms, ${result.proposed} proposed, ` +
          `${result.acknowledged} acknowledged, ${result.leaderTerms} terms with a leader, ${result.wipes} disks replaced (${result.wipesRecovered} caught up)`,
      );
    }
    if (result.violation !== null) {
      violations++;
      console.log(`VIOLATION ${result.violation}`);
      const liveness = livenessTicks === 3000 ? '' : ` --liveness-ticks ${livenessTicks}`;
      const notLoaded = notLoadedChance === 0 ? '' : ` --not-loaded-percent ${notLoadedChance * 100}`;
      const noWipes = wipes ? '' : ' --no-wipes';
      console.log(`  replay: npm run sim -- --seed ${seed} --steps ${steps}${liveness}${notLoaded}${noWipes} --verbose`);
    }
  }
  const seconds = (performance.now() - began) / 1000;
  console.log(`time ${seconds.toFixed(1)} s`);
  if (!partitions && !cluster) console.log(`disks replaced ${wiped}, caught up again ${wipesRecovered}`);
  if (partitions) console.log(`transactions committed ${txns.commits}, aborted ${txns.aborts}, repeated markers ${txns.repeatedMarkers}, committed records read ${txns.recordsRead}`);
  if (partitions && coordinator) {
    console.log(
      `through the transaction coordinator: ${coordinated.committed + coordinated.aborted} transactions (${coordinated.committed} committed, ${coordinated.aborted} aborted, ` +
        `${coordinated.answered} with EndTxn answered); coordinator failovers ${coordinated.failovers} (${coordinated.loads} loads; the one-broker-down phase killed the coordinator in ${coordinated.killed} seeds), ` +
        `${coordinated.resumed} transactions finished by a takeover, ${coordinated.lateMarkers} late markers of deposed coordinators`,
    );
  }
  if (partitions) console.log(`quiesce notices ${quiesceNotices} in ${quiescingSeeds} seeds; one-broker-down failovers ${failovers['after-notice'] + failovers.plain} (${failovers['after-notice']} right after quiesce notices)`);
  console.log(`seeds ${count}, events ${events}, violations ${violations}`);
  return violations === 0 ? 0 : 1;
}

process.exitCode = await main();

/** The per-outcome counts of one seed's submits or produces, sorted by name. */
function printOutcomes(seed: number, outcomes: Record<string, number>): void {
  const sorted = Object.entries(outcomes).sort(([a], [b]) => a.localeCompare(b));
  console.log(`seed ${seed}: outcomes ${sorted.map(([k, n]) => `${k}=${n}`).join(', ')}`);
}
