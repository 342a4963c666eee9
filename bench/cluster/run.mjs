#!/usr/bin/env node
// Cluster benchmark: three brokers on this machine (one process each, sharing its cores), measured in
// one run. Writes bench/results/cluster.json.
//
//   node bench/cluster/run.mjs [--kills N] [--idle-seconds S] [--quick]
//
// Rows, for the guide's Raft timeouts (heartbeat 1 s, election 3 s) and tuned ones (100 ms / 600 ms):
//   startToReadyMs     three brokers started together until all answer /health/ready
//   controllerFailover N SIGKILLs of the controller's leader; for each, the time from the kill to the
//                      first metadata change (CreateTopics through a survivor, retried every 20 ms as
//                      a client would) decided by the new leader; median and max. The killed broker
//                      is restarted before the next kill.
//   idle               CPU (percent of one core) and RSS per broker over S idle seconds, with the
//                      offsets topic's 50 partitions created.
// Partition data is not replicated yet, so produce-path benchmarks against RF 1 are not here yet.
// Every load is bounded (kill count, timeouts) and stops by itself.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { KafkaClient, ROOT, cpuMicros, log, median, ready, rss, sleep, startCluster } from './cluster-procs.mjs';
import { createTopics, partitionFailover, replicationThroughput } from './replication.mjs';

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const QUICK = args.includes('--quick');
const KILLS = Number(flag('kills', QUICK ? 2 : 10));
const IDLE_SECONDS = Number(flag('idle-seconds', QUICK ? 3 : 10));
const PARTITION_KILLS = Number(flag('partition-kills', QUICK ? 2 : 5));
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

const report = {
  tool: 'bench/cluster/run.mjs',
  startedAt: new Date().toISOString(),
  commit: execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memBytes: totalmem(), node: process.version },
  params: { kills: KILLS, idleSeconds: IDLE_SECONDS, partitionKills: PARTITION_KILLS, quick: QUICK },
  settings: {},
};
for (const [name, timeouts] of [['tuned', { heartbeat: '100ms', election: '600ms' }], ['guide', { heartbeat: '1s', election: '3s' }]]) {
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
  } finally {
    await cluster.stop();
  }
}
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/cluster.json'), JSON.stringify(report, null, 2) + '\n');
log('wrote bench/results/cluster.json');
