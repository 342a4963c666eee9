// Runs the deterministic Raft cluster simulator (test/sim) over one seed or a range of seeds.
//
//   npm run sim -- --seed N [--steps S] [--verbose]        replay one seed (--verbose traces every event)
//   npm run sim -- --seed-start N --seeds K [--steps S]    run seeds N .. N+K-1
//
// Options: --steps S (events in the fault phase, default 3000), --liveness-ticks T (default 3000).
// Prints the seed and first broken invariant of every failing seed, then one summary line
// "seeds K, events E, violations V". Exits 0 only when V is 0.
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

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const steps = integer(args, 'steps', 3000);
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
  let events = 0;
  let violations = 0;
  const began = performance.now();
  for (let seed = start; seed < start + count; seed++) {
    const trace = verbose ? (line: string) => console.log(line) : undefined;
    const result = runSimulation({ seed, steps, livenessTicks, trace, notLoadedChance });
    events += result.events;
    if (count === 1) {
      console.log(`seed ${seed}: ${result.settings}`);
      console.log(
        `seed ${seed}: ${result.events} events, ${result.simulatedMs} simulated ms, ${result.proposed} proposed, ` +
          `${result.acknowledged} acknowledged, ${result.leaderTerms} terms with a leader`,
      );
    }
    if (result.violation !== null) {
      violations++;
      console.log(`VIOLATION ${result.violation}`);
      const liveness = livenessTicks === 3000 ? '' : ` --liveness-ticks ${livenessTicks}`;
      const notLoaded = notLoadedChance === 0 ? '' : ` --not-loaded-percent ${notLoadedChance * 100}`;
      console.log(`  replay: npm run sim -- --seed ${seed} --steps ${steps}${liveness}${notLoaded} --verbose`);
    }
  }
  const seconds = (performance.now() - began) / 1000;
  console.log(`time ${seconds.toFixed(1)} s`);
  console.log(`seeds ${count}, events ${events}, violations ${violations}`);
  return violations === 0 ? 0 : 1;
}

process.exitCode = main();
