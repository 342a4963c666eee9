#!/usr/bin/env node
// Cluster benchmark: three brokers on this machine (one process each, sharing its cores with each
// other and with the load generator), measured in one run. Writes bench/results/cluster.json.
//
//   node bench/cluster/run.mjs [--kills N] [--idle-seconds S] [--partition-kills K] [--batches N]
//                              [--records M] [--record-bytes B] [--in-flight F] [--runs R]
//                              [--load-seconds T] [--quick] [--only main|scale]
//                              [--scale-partitions P] [--scale-settings tuned,guide] [--scale-quiesce on,off]
//                              [--scale-key KEY] [--rebalance-fill-mib M] [--rebalance-rates 0,100MiB,4MiB]
//
// Rows, for the guide's Raft timeouts (heartbeat 1 s, election 3 s) and tuned ones (100 ms / 600 ms):
//   startToReadyMs     three brokers started together until all answer /health/ready
//   controllerFailover N SIGKILLs of the controller's leader; for each, the time from the kill to the
//                      first metadata change (CreateTopics through a survivor, retried every 20 ms as
//                      a client would) decided by the new leader; median and max. The killed broker
//                      is restarted before the next kill.
//   idle               CPU (percent of one core) and RSS per broker over S idle seconds, with the
//                      offsets topic's 50 partitions (three replicas each) created.
//   partitionFailover  K SIGKILLs of the leader of partition 0 of topic rf3 while a producer sends
//                      acks=-1 batches to it in a loop (retried every 20 ms, metadata refreshed after
//                      each error); the time from the kill to the first acknowledgement of a batch sent
//                      after it, median and max; and the time from the restart of the killed broker
//                      until it is in the ISR of every rf3 partition again (waited for before the next
//                      kill).
// With the tuned timeouts only, before any kill (replication.mjs):
//   replication        topics rf1 and rf3 (3 partitions, replication factor 1 and 3, CreateTopics
//                      API); R alternating runs (rf1, rf3, rf1, ...) of N batches of M records of B
//                      bytes, acks=-1, F producers per partition with one batch in flight each, each
//                      run stopping at N batches or T seconds; records/s, MB/s, p50 and p99 produce
//                      latency per run, their medians per topic and the ratio rf3 / rf1.
// The scale row (scale.mjs), a fresh cluster per setting and per quiesce choice:
//   scale              P partitions (default 3000, 300 with --quick) with replication factor 3,
//                      created as topics of 100 partitions through one CreateTopics request: the time
//                      to every partition led with 3 in-sync replicas in Metadata; then CPU (percent of
//                      one core) and RSS per broker over S idle seconds, and the quiesced groups each
//                      broker reports. --scale-quiesce off sets raft.quiesce=false (every group ticks
//                      and heartbeats), for comparison. storage.preallocateBytes is 1 MiB (see below).
//   rollingRestart     (each setting, after the partition failovers) every broker in turn gets SIGTERM,
//                      restarts and is waited for back in sync, while a producer per rf3 partition
//                      sends acks=-1 batches in a loop; per partition the longest gap between two
//                      acknowledgements (the stall clients see), per broker stop and back-in-sync times.
// The rebalance row (rebalance.mjs), a fresh cluster (tuned timeouts) per cluster.learnerRecoveryRate
// of --rebalance-rates (default 0,100MiB,4MiB; 0 is no limit):
//   rebalance          three partitions of --rebalance-fill-mib MiB each (default 64), replication
//                      factor 1, each moved to another broker: MB/s moved idle and under acks=-1
//                      client load, and the clients' MB/s and p99 during the moves against alone.
// --only main runs every row but scale and rebalance, --only scale only scale, --only rolling only the
// rolling restart (a fresh cluster per setting), --only rebalance only rebalance; without --only, all. With --only,
// bench/results/cluster.json keeps the keys of the rows not run.
// Every load is bounded (batch counts, kill counts, timeouts) and stops by itself, and every broker
// started is stopped at the end, also on error or interrupt (cluster-procs.mjs).
import { benchArgs } from '../broker/broker-procs.mjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { KafkaClient, ROOT, cpuMicros, log, median, ready, rss, sleep, startCluster } from './cluster-procs.mjs';
import { createTopics, partitionFailover, replicationThroughput, rollingRestart } from './replication.mjs';
import { scale } from './scale.mjs';
import { rebalance } from './rebalance.mjs';
import { existsSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const { flag } = benchArgs(args);
const QUICK = args.includes('--quick');
const KILLS = Number(flag('kills', QUICK ? 2 : 10));
const IDLE_SECONDS = Number(flag('idle-seconds', QUICK ? 3 : 10));
const PARTITION_KILLS = Number(flag('partition-kills', QUICK ? 2 : 5));
const ONLY = flag('only', 'all');
if (!['all', 'main', 'scale', 'rolling', 'rebalance'].includes(ONLY)) throw new Error(`--only takes main, scale, rolling or rebalance, not ${ONLY}`);
const REBALANCE_FILL_MIB = Number(flag('rebalance-fill-mib', QUICK ? 16 : 64));
const REBALANCE_RATES = flag('rebalance-rates', '0,100MiB,4MiB').split(',');
const SCALE_PARTITIONS = Number(flag('scale-partitions', QUICK ? 300 : 3000));
const SCALE_SETTINGS = flag('scale-settings', 'tuned,guide').split(',');
const SCALE_QUIESCE = flag('scale-quiesce', 'on').split(',');
// The key of bench/results/cluster.json the scale row goes to (a comparison run may use another).
const SCALE_KEY = flag('scale-key', 'scale');
// The step the scale row was first measured with (when an empty segment still reserved a whole step);
// a new segment now reserves 1 MiB whatever the step, kept for comparable runs.
const SCALE_PREALLOCATE_BYTES = 1024 * 1024;
const LOAD = {
  batches: Number(flag('batches', QUICK ? 200 : 3000)),
  records: Number(flag('records', 100)),
  recordBytes: Number(flag('record-bytes', 100)),
  partitions: 3,
  inFlight: Number(flag('in-flight', 4)),
  runs: Number(flag('runs', QUICK ? 2 : 3)),
  seconds: Number(flag('load-seconds', QUICK ? 10 : 60)),
};

async function controllerOf(member) {
  const client = new KafkaClient({ bootstrap: `127.0.0.1:${member.kafka}`, requestTimeoutMs: 2_000 });
  try {
    return (await client.metadata([])).controllerId;
  } finally {
    await client.close();
  }
}

async function failover(cluster, i) {
  const leaderId = await controllerOf(cluster.members[0]);
  const leader = cluster.members.find((m) => m.id === leaderId);
  const survivor = cluster.members.find((m) => m.id !== leaderId);
  const killedAt = performance.now();
  await cluster.kill(leader);
  let decidedMs = null;
  let lastError = null;
  for (const deadline = performance.now() + 30_000; performance.now() < deadline; ) {
    // A fresh client each attempt: its first metadata names the controller as the survivor sees it now.
    const client = new KafkaClient({ bootstrap: `127.0.0.1:${survivor.kafka}`, requestTimeoutMs: 5_000, retry: { retries: 0 } });
    try {
      const [r] = await client.createTopics([{ name: `failover-${i}`, partitions: 1, replicationFactor: 1 }], { timeoutMs: 5_000 });
      if (r.error === null) {
        decidedMs = performance.now() - killedAt;
        break;
      }
    } catch (err) {
      lastError = err;
    } finally {
      client.close();
    }
    await sleep(20);
  }
  if (decidedMs === null) log(`no metadata change decided after the kill: ${lastError}`);
  cluster.start(leader);
  await ready(leader.http, Date.now() + 60_000);
  return { killed: leaderId, decidedMs };
}

async function idle(cluster) {
  const before = cluster.members.map((m) => cpuMicros(m.proc.pid));
  const t0 = performance.now();
  await sleep(IDLE_SECONDS * 1000);
  const seconds = (performance.now() - t0) / 1000;
  return cluster.members.map((m, i) => ({ broker: m.id, cpuPercentOfCore: Math.round(((cpuMicros(m.proc.pid) - before[i]) / 1e6 / seconds) * 1000) / 10, rssBytes: rss(m.proc.pid) }));
}

const TIMEOUTS = { tuned: { heartbeat: '100ms', election: '600ms' }, guide: { heartbeat: '1s', election: '3s' } };
const RESULTS = join(ROOT, 'bench/results/cluster.json');
const previous = ONLY !== 'all' && existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) : {};
const report = {
  tool: 'bench/cluster/run.mjs',
  startedAt: new Date().toISOString(),
  commit: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim(),
  // The machine is shared: its load average (other processes included) at the start and the end of
  // the run says how much of it the brokers had.
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memBytes: totalmem(), node: process.version, loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100) },
  params: { kills: KILLS, idleSeconds: IDLE_SECONDS, partitionKills: PARTITION_KILLS, quick: QUICK },
  settings: {},
};
for (const [name, timeouts] of ONLY === 'rolling' ? Object.entries(TIMEOUTS) : []) {
  log(`${name}: starting three brokers (${timeouts.heartbeat} / ${timeouts.election}) for the rolling restart row`);
  const cluster = await startCluster(timeouts);
  try {
    await createTopics(cluster, [{ name: 'rf3', partitions: LOAD.partitions, replicationFactor: 3 }]);
    report.rollingRestart ??= {};
    report.rollingRestart[name] = { timeouts, ...(await rollingRestart(cluster, 'rf3')) };
    log(`${name}: rolling restart, longest produce stall per partition ${report.rollingRestart[name].maxStallMsByPartition.join('/')} ms`);
  } finally {
    await cluster.stop();
  }
}
for (const rate of ONLY === 'rebalance' || ONLY === 'all' ? REBALANCE_RATES : []) {
  const timeouts = TIMEOUTS.tuned;
  log(`rebalance: starting three brokers, cluster.learnerRecoveryRate ${rate}`);
  const cluster = await startCluster(timeouts, { STREAMBUS_CLUSTER_LEARNER_RECOVERY_RATE: rate, STREAMBUS_CLUSTER_PARTITION_BALANCING: 'false' });
  try {
    report.rebalance ??= {};
    report.rebalance[rate === '0' ? 'unlimited' : rate] = {
      learnerRecoveryRate: rate,
      fillMiBPerPartition: REBALANCE_FILL_MIB,
      ...(await rebalance(cluster, { fillMiB: REBALANCE_FILL_MIB, load: { ...LOAD, inFlight: 2 } })),
    };
  } finally {
    await cluster.stop();
  }
}
for (const [name, timeouts] of ONLY === 'scale' || ONLY === 'rolling' || ONLY === 'rebalance' ? [] : Object.entries(TIMEOUTS)) {
  log(`${name}: starting three brokers (${timeouts.heartbeat} / ${timeouts.election})`);
  const cluster = await startCluster(timeouts);
  try {
    // Let the offsets topic (50 partitions) appear before measuring idle cost.
    await sleep(2_000);
    const idleRows = await idle(cluster);
    log(`${name}: idle`, JSON.stringify(idleRows));
    // The replicated produce path is measured once, with the tuned timeouts, before any kill moves
    // leadership; the other setting only needs the rf3 topic for its partition failovers.
    if (name === 'tuned') {
      report.replication = { timeouts, ...(await replicationThroughput(cluster, LOAD)) };
      log(`${name}: rf3 / rf1 records/s ${report.replication.ratio.recordsPerSec}, p50 ${report.replication.ratio.p50Ms}, p99 ${report.replication.ratio.p99Ms}`);
    } else {
      await createTopics(cluster, [{ name: 'rf3', partitions: LOAD.partitions, replicationFactor: 3 }]);
    }
    const kills = [];
    for (let i = 0; i < KILLS; i++) {
      const k = await failover(cluster, i);
      log(`${name}: kill ${i + 1}/${KILLS} of broker ${k.killed}: decided after ${k.decidedMs?.toFixed(0)} ms`);
      kills.push(k);
    }
    const times = kills.map((k) => k.decidedMs).filter((x) => x !== null);
    report.settings[name] = {
      timeouts,
      startToReadyMs: cluster.startToReadyMs,
      idle: idleRows,
      controllerFailover: { kills, medianMs: Math.round(median(times)), maxMs: Math.round(Math.max(...times)), failed: kills.length - times.length },
    };
    report.partitionFailover ??= {};
    report.partitionFailover[name] = { timeouts, ...(await partitionFailover(cluster, PARTITION_KILLS, name)) };
    report.rollingRestart ??= {};
    report.rollingRestart[name] = { timeouts, ...(await rollingRestart(cluster, 'rf3')) };
    log(`${name}: rolling restart, longest produce stall per partition ${report.rollingRestart[name].maxStallMsByPartition.join('/')} ms`);
  } finally {
    await cluster.stop();
  }
}
if (ONLY !== 'main' && ONLY !== 'rolling' && ONLY !== 'rebalance') {
  const rows = {};
  for (const name of SCALE_SETTINGS) {
    const timeouts = TIMEOUTS[name];
    if (timeouts === undefined) throw new Error(`--scale-settings: unknown setting ${name}`);
    for (const quiesce of SCALE_QUIESCE) {
      if (quiesce !== 'on' && quiesce !== 'off') throw new Error(`--scale-quiesce takes on and off, not ${quiesce}`);
      log(`scale ${name}, quiesce ${quiesce}: starting three brokers (${timeouts.heartbeat} / ${timeouts.election})`);
      const cluster = await startCluster(timeouts, { STREAMBUS_RAFT_QUIESCE: quiesce === 'on' ? 'true' : 'false', STREAMBUS_STORAGE_PREALLOCATE_BYTES: String(SCALE_PREALLOCATE_BYTES) });
      try {
        await sleep(2_000);
        // A setting that cannot create the partitions in time is recorded as such, not fatal to the run.
        const row = await scale(cluster, SCALE_PARTITIONS, IDLE_SECONDS).catch((err) => ({ partitions: SCALE_PARTITIONS, error: err.message }));
        log(`scale ${name}, quiesce ${quiesce}:`, JSON.stringify(row.idle ?? row.error));
        rows[name] ??= { timeouts };
        rows[name][quiesce === 'on' ? 'quiesce' : 'noQuiesce'] = row;
      } finally {
        await cluster.stop();
      }
    }
  }
  report.scale = { tool: report.tool, startedAt: report.startedAt, commit: report.commit, machine: report.machine, partitions: SCALE_PARTITIONS, idleSeconds: IDLE_SECONDS, settings: rows };
}
report.machine.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
// With --only, the rows not run keep their previous values (the scale row carries its own run header).
const out =
  ONLY === 'scale'
    ? { ...previous, [SCALE_KEY]: report.scale }
    : ONLY === 'main'
      ? { ...previous, ...report, scale: previous.scale }
      : ONLY === 'rolling'
        ? // The row carries its own run header, as the scale row does.
          { ...previous, rollingRestart: { ...report.rollingRestart, run: { startedAt: report.startedAt, commit: report.commit, machine: report.machine } } }
        : ONLY === 'rebalance'
          ? { ...previous, rebalance: { ...report.rebalance, run: { startedAt: report.startedAt, commit: report.commit, machine: report.machine } } }
          : { ...report, [SCALE_KEY]: report.scale };
if (SCALE_KEY !== 'scale' && ONLY === 'all') delete out.scale;
writeFileSync(RESULTS, JSON.stringify(out, null, 2) + '\n');
log('wrote bench/results/cluster.json');
