// Raft core throughput: committed entries per second through three RaftNodes in one process
// (cluster-driver.ts), 1 KiB entries, batched proposals, a no-op network. Target: 500,000
// entries/s, so that consensus is never the broker's bottleneck. Runs several times and reports
// the median, both per wall-clock second (what the target is about) and per CPU second (what the
// core costs, independent of other load on a shared machine; the load average is recorded too).
// Writes bench/results/raft.json.
//
// Usage: npm run build && node lib/bench/raft/throughput.js [--runs N] [--entries N]
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join, resolve } from 'node:path';
import { measureThroughput } from './cluster-driver.ts';
import type { ThroughputResult } from './cluster-driver.ts';

const TARGET_ENTRIES_PER_SECOND = 500_000;

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const runs = argument('runs', 5);
const entries = argument('entries', 2_000_000);
const options = {
  entries,
  entryBytes: 1024,
  proposalBatch: 64,
  proposalsPerRound: 16,
  compactEvery: 10_000,
  maxMessageBytes: 1024 * 1024,
  now: () => performance.now(),
  cpuNow: () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  },
};

const loadBefore = loadavg();

// A short warm-up so the JIT has compiled the hot paths before the measured runs.
measureThroughput({ ...options, entries: 200_000 });
const results: ThroughputResult[] = [];
for (let run = 0; run < runs; run++) {
  const result = measureThroughput(options);
  results.push(result);
  console.log(
    `run ${run + 1}: ${Math.round(result.entriesPerSecond).toLocaleString('en')} entries/s, ` +
      `${Math.round(result.entriesPerCpuSecond).toLocaleString('en')} per CPU second ` +
      `(${result.entries} entries in ${result.seconds.toFixed(3)} s, ${result.readies} readies, ${result.messages} messages)`,
  );
}
const loadAfter = loadavg();
const medianOf = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const median = medianOf(results.map((r) => r.entriesPerSecond));
const medianCpu = medianOf(results.map((r) => r.entriesPerCpuSecond));
console.log(
  `median ${Math.round(median).toLocaleString('en')} entries/s, ${Math.round(medianCpu).toLocaleString('en')} per CPU second ` +
    `(target ${TARGET_ENTRIES_PER_SECOND.toLocaleString('en')}; load average ${loadBefore[0]!.toFixed(1)} before, ${loadAfter[0]!.toFixed(1)} after)`,
);

const root = resolve(new URL('.', import.meta.url).pathname, '../../..');
let commit = 'unknown';
try {
  commit = execSync('git rev-parse HEAD', { cwd: root, encoding: 'utf8' }).trim();
} catch {
  // not a git checkout
}
const report = {
  generatedAt: new Date().toISOString(),
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    kernel: release(),
    node: process.version,
    commit,
    loadAverage1mBefore: loadBefore[0],
    loadAverage1mAfter: loadAfter[0],
  },
  workload: {
    nodes: 3,
    entryBytes: options.entryBytes,
    entriesPerRun: entries,
    proposalBatch: options.proposalBatch,
    proposalsPerRound: options.proposalsPerRound,
    maxMessageBytes: options.maxMessageBytes,
    compactEvery: options.compactEvery,
    network: 'no-op (in-process delivery)',
    storage: 'MemoryStorage',
  },
  runs: results.map((r) => ({
    entries: r.entries,
    seconds: r.seconds,
    entriesPerSecond: r.entriesPerSecond,
    entriesPerCpuSecond: r.entriesPerCpuSecond,
    readies: r.readies,
    messages: r.messages,
  })),
  medianEntriesPerSecond: median,
  medianEntriesPerCpuSecond: medianCpu,
  targetEntriesPerSecond: TARGET_ENTRIES_PER_SECOND,
  meetsTarget: median >= TARGET_ENTRIES_PER_SECOND,
};
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/raft.json'), JSON.stringify(report, null, 2) + '\n');
console.log('wrote bench/results/raft.json');
