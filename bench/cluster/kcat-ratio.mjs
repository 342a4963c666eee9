// Replicated produce as librdkafka sees it: kcat producing acks=all to a partition with three replicas
// on a three-broker cluster, against kcat producing to a lone broker (replication factor 1), both
// running on this machine in the same run, loads alternating between them.
//
// Two producer settings: W1 (the peer benchmark's pattern: batches of 100 messages, one request in
// flight) and librdkafka's own defaults (its batching and in-flight window; only acks, the message
// timeout and the queue size are set). Each pass is one kcat process sending `--messages` messages of
// `--size` bytes from a prepared file to partition 0; its wall time (start-up and metadata included)
// gives messages/s; kcat exits 0 only when every message got a delivery report, and the partition's
// end offset is checked to have grown by exactly the count.
//
// Usage: node scripts/build.mjs && node bench/cluster/kcat-ratio.mjs [--messages N] [--size B] [--runs R] [--quick]
//   [--inline-write-bytes N] [--binary] [--warmup W] [--settle-ms MS] [--memory-per-broker SIZE]
// Each side gets W warm-up passes first (default 1). Before every pass the machine's dirty pages are
// written out (`sync`) and it waits MS (default 1000; 0 = neither), so neither side's pass pays for
// the other's write-back.
// Both sides run under node (bin/streambus with the flags `npm start` gives it, or STREAMBUS_BENCH_NODE_ARGS
// when set), or with --binary both run the compiled dist/streambus (node scripts/build-binary.mjs first),
// the form users install; the report says which (params.runtime).
// Writes bench/results/cluster-kcat.json; with --inline-write-bytes (storage.inlineWriteBytes on every
// broker, both sides) cluster-kcat-inline-N.json, so a run with 0 (every segment write through the
// I/O pool) compares with the default. With --memory-per-broker SIZE (root; e.g. 1GiB) every broker of
// both sides runs in a memory cgroup of that size (memory-cgroup.mjs), so page cache is recycled as on
// a machine whose memory is already full of it, rather than taken from free memory a virtual machine's
// host may have reclaimed; the report is cluster-kcat-memory-SIZE.json. Bounded: every kcat pass is
// killed after 120 s.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchArgs, brokerCommandFor, startBrokerProcess, writeBenchReport } from '../broker/broker-procs.mjs';
import { ROOT, KafkaClient, clientOf, cpuMicros, log, median, startCluster } from './cluster-procs.mjs';
import { createTopics } from './replication.mjs';
import { limitMemory, parseBytes } from './memory-cgroup.mjs';

const args = process.argv.slice(2);
const { flag } = benchArgs(args);
const QUICK = args.includes('--quick');
const MESSAGES = Number(flag('messages', QUICK ? 20_000 : 100_000));
const SIZE = Number(flag('size', 1024));
const RUNS = Number(flag('runs', QUICK ? 1 : 3));
const WARMUP = Number(flag('warmup', 1));
const SETTLE_MS = Number(flag('settle-ms', 1000));
const PASS_TIMEOUT_MS = 120_000;
const INLINE_WRITE_BYTES = flag('inline-write-bytes', null);
const BINARY = args.includes('--binary');
const MEMORY_PER_BROKER = flag('memory-per-broker', null);
const BINARY_PATH = join(ROOT, 'dist/streambus');
/** Settings every broker of both sides gets. */
const BROKER_ENV = INLINE_WRITE_BYTES === null ? {} : { STREAMBUS_STORAGE_INLINE_WRITE_BYTES: String(INLINE_WRITE_BYTES) };
const TOPIC = 'kcat';

/** The producer settings compared; `-X` pairs added to those every pass sets. */
const SETTINGS = {
  w1: ['batch.num.messages=100', 'max.in.flight.requests.per.connection=1'],
  librdkafkaDefaults: [],
};

function kcatVersion() {
  const r = spawnSync('kcat', ['-V'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error('kcat is missing: apt-get install -y kcat');
  return r.stdout.split('\n').find((l) => l.includes('librdkafka'))?.trim() ?? r.stdout.split('\n')[0].trim();
}

/** Newline-separated printable messages of SIZE bytes (kcat's input format); a counter keeps them distinct. */
function writeMessages(file) {
  const filler = 'x'.repeat(SIZE - 10);
  const lines = [];
  for (let i = 0; i < MESSAGES; i++) lines.push(String(i).padStart(10, '0') + filler);
  writeFileSync(file, lines.join('\n') + '\n');
}

async function endOffset(bootstrap) {
  const client = new KafkaClient({ bootstrap, requestTimeoutMs: 5_000 });
  try {
    const offsets = await client.listOffsets(TOPIC, [0], 'latest');
    return Number(offsets[0].offset);
  } finally {
    client.close();
  }
}

/**
 * Lets the previous pass's writes reach the disk before the next pass starts: the kernel's
 * write-back of one side's last second of data (both sides fdatasync once a second) would
 * otherwise run during the other side's pass and take its CPU, which tilts the comparison
 * towards whichever side is less CPU-bound. Both sides get the same treatment.
 */
async function settle() {
  if (SETTLE_MS <= 0) return;
  spawnSync('sync');
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

/** CPU time (µs) of this process's children that have exited and been waited for: here, the kcat passes. */
function reapedChildrenCpuMicros() {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[13]) + Number(f[14])) * 10_000;
}

/** One kcat pass to `bootstrap` after settle(); the CPU the given broker pids used during it. */
async function kcatPass(bootstrap, file, extra, pids) {
  await settle();
  const before = await endOffset(bootstrap);
  const cpu0 = pids.map(cpuMicros);
  const kcatCpu0 = reapedChildrenCpuMicros();
  const kcatArgs = ['-P', '-b', bootstrap, '-t', TOPIC, '-p', '0', '-l', file, '-X', 'acks=all', '-X', 'enable.idempotence=false', '-X', 'compression.codec=none', '-X', 'message.timeout.ms=60000', '-X', 'queue.buffering.max.messages=200000', ...extra.flatMap((kv) => ['-X', kv])];
  const t0 = performance.now();
  const { code, stderr } = await new Promise((resolve) => {
    const proc = spawn('kcat', kcatArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => proc.kill('SIGKILL'), PASS_TIMEOUT_MS);
    proc.once('exit', (c, signal) => {
      clearTimeout(timer);
      resolve({ code: c ?? signal, stderr: err });
    });
  });
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`kcat exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const stored = (await endOffset(bootstrap)) - before;
  if (stored !== MESSAGES) throw new Error(`partition 0 grew by ${stored}, expected ${MESSAGES}`);
  const cpu = pids.map((pid, i) => Math.round(((cpuMicros(pid) - cpu0[i]) / 1e6 / seconds) * 1000) / 10);
  // kcat shares the two cores: its share is what the brokers could not use.
  const kcatCpu = Math.round(((reapedChildrenCpuMicros() - kcatCpu0) / 1e6 / seconds) * 1000) / 10;
  return { seconds: Math.round(seconds * 100) / 100, messagesPerSec: Math.round(MESSAGES / seconds), mbPerSec: Math.round(((MESSAGES * SIZE) / seconds / 1e6) * 100) / 100, brokerCpuPercentOfCore: cpu, kcatCpuPercentOfCore: kcatCpu };
}

async function main() {
  const version = kcatVersion();
  const work = mkdtempSync(join(tmpdir(), 'streambus-kcat-ratio-'));
  const file = join(work, 'messages.txt');
  writeMessages(file);
  const startedAt = new Date().toISOString();
  const loadAverageAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
  // Both sides run the same runtime, so neither has the other's advantage.
  if (BINARY) {
    if (!existsSync(BINARY_PATH)) throw new Error('--binary needs dist/streambus: node scripts/build-binary.mjs');
    process.env.STREAMBUS_BENCH_BROKER_BIN = BINARY_PATH;
  }
  // The allocator setting the shipped unit and image give the binary (docs/operations.md), when set here.
  const allocator = process.env.MIMALLOC_PURGE_DELAY === undefined ? '' : `, MIMALLOC_PURGE_DELAY=${process.env.MIMALLOC_PURGE_DELAY}`;
  const runtime = BINARY ? `dist/streambus (compiled${allocator})` : brokerCommandFor(true).label;
  const single = await startBrokerProcess('single', BROKER_ENV, join(work, 'single'), !BINARY);
  const cluster = await startCluster({ heartbeat: '1s', election: '3s' }, BROKER_ENV);
  const cgroups = [];
  try {
    if (MEMORY_PER_BROKER !== null) {
      const limit = parseBytes(MEMORY_PER_BROKER);
      cgroups.push(limitMemory(`streambus-bench-single-${process.pid}`, single.pid, limit));
      for (const m of cluster.members) cgroups.push(limitMemory(`streambus-bench-broker-${m.id}-${process.pid}`, m.proc.pid, limit));
    }
    const singleBootstrap = `127.0.0.1:${single.kafkaPort}`;
    const admin = new KafkaClient({ bootstrap: singleBootstrap });
    try {
      await admin.createTopics([{ name: TOPIC, partitions: 1, replicationFactor: 1 }], { timeoutMs: 10_000 });
    } finally {
      admin.close();
    }
    const placement = await createTopics(cluster, [{ name: TOPIC, partitions: 1, replicationFactor: 3 }]);
    const leader = placement[TOPIC][0].leader;
    // kcat is bootstrapped with the leader only: the other brokers' start-up connections are not the cost measured.
    const clusterBootstrap = `127.0.0.1:${cluster.member(leader).kafka}`;
    const clusterPids = cluster.members.map((m) => m.proc.pid);
    log(`kcat ratio: ${version}; ${MESSAGES} messages of ${SIZE} B per pass; cluster leader of ${TOPIC}-0 is broker ${leader}`);
    const rows = {};
    for (const [name, extra] of Object.entries(SETTINGS)) {
      // Warm-up passes, not counted.
      for (let i = 0; i < WARMUP; i++) {
        await kcatPass(singleBootstrap, file, extra, [single.pid]);
        await kcatPass(clusterBootstrap, file, extra, clusterPids);
      }
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        const rf1 = await kcatPass(singleBootstrap, file, extra, [single.pid]);
        const rf3 = await kcatPass(clusterBootstrap, file, extra, clusterPids);
        log(`${name} run ${i + 1}/${RUNS}: lone broker RF 1 ${rf1.messagesPerSec} msg/s, cluster RF 3 ${rf3.messagesPerSec} msg/s (${(rf3.messagesPerSec / rf1.messagesPerSec).toFixed(2)}), CPU ${rf1.brokerCpuPercentOfCore} / ${rf3.brokerCpuPercentOfCore.join('/')} %, kcat ${rf1.kcatCpuPercentOfCore} / ${rf3.kcatCpuPercentOfCore} %`);
        runs.push({ run: i + 1, rf1, rf3, ratio: Math.round((rf3.messagesPerSec / rf1.messagesPerSec) * 100) / 100 });
      }
      const rf1 = median(runs.map((r) => r.rf1.messagesPerSec));
      const rf3 = median(runs.map((r) => r.rf3.messagesPerSec));
      rows[name] = { kcatSettings: extra, rf1MessagesPerSec: Math.round(rf1), rf3MessagesPerSec: Math.round(rf3), ratio: Math.round((rf3 / rf1) * 100) / 100, ratioByRun: runs.map((r) => r.ratio), runs };
    }
    const report = {
      tool: 'bench/cluster/kcat-ratio.mjs',
      startedAt,
      commit: spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memBytes: totalmem(), node: process.version, loadAverageAtStart, loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
      params: { runtime, messages: MESSAGES, size: SIZE, runs: RUNS, warmupPasses: WARMUP, settleMs: SETTLE_MS, memoryPerBroker: MEMORY_PER_BROKER ?? 'no limit', acks: 'all', inlineWriteBytes: INLINE_WRITE_BYTES === null ? 'default (1 MiB)' : Number(INLINE_WRITE_BYTES), kcat: version, rf1: 'a lone broker (no cluster), topic with one partition', rf3: 'three brokers (guide timeouts 1 s / 3 s), one partition with three replicas, kcat bootstrapped with its leader' },
      summary: Object.fromEntries(Object.entries(rows).map(([name, r]) => [name, { rf1MessagesPerSec: r.rf1MessagesPerSec, rf3MessagesPerSec: r.rf3MessagesPerSec, ratio: r.ratio, ratioByRun: r.ratioByRun }])),
      settings: rows,
    };
    const name = `${INLINE_WRITE_BYTES === null ? 'cluster-kcat' : `cluster-kcat-inline-${INLINE_WRITE_BYTES}`}${MEMORY_PER_BROKER === null ? '' : `-memory-${MEMORY_PER_BROKER}`}`;
    writeBenchReport(BINARY ? `${name}-binary` : name, QUICK, report);
  } finally {
    await cluster.stop();
    await single.stop();
    for (const remove of cgroups) remove();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
