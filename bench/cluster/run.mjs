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
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const { KafkaClient } = await import(join(ROOT, 'lib/src/client/index.js'));
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const QUICK = args.includes('--quick');
const KILLS = Number(flag('kills', QUICK ? 2 : 10));
const IDLE_SECONDS = Number(flag('idle-seconds', QUICK ? 3 : 10));
const log = (...m) => console.error('[bench]', ...m);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const cpuMicros = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
};
const rss = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m)[1]) * 1024;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function ready(httpPort, deadline) {
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${httpPort}/health/ready`)).status === 200) return;
    } catch {}
    await sleep(20);
  }
  throw new Error(`broker on http ${httpPort} not ready`);
}

async function startCluster(timeouts) {
  const root = mkdtempSync(join(tmpdir(), 'streambus-cluster-bench-'));
  const members = [];
  for (let id = 1; id <= 3; id++) members.push({ id, kafka: await freePort(), http: await freePort(), grpc: await freePort(), dir: join(root, `b${id}`), proc: null });
  const nodes = members.map((m) => `${m.id}@127.0.0.1:${m.kafka}:${m.grpc}`).join(',');
  const start = (m) => {
    mkdirSync(m.dir, { recursive: true });
    m.proc = spawn(process.execPath, [join(ROOT, 'bin/streambus'), 'broker'], {
      cwd: m.dir,
      stdio: 'ignore',
      env: {
        ...process.env,
        STREAMBUS_SERVER_HOST: '127.0.0.1',
        STREAMBUS_SERVER_PORT: String(m.kafka),
        STREAMBUS_SERVER_HTTP_PORT: String(m.http),
        STREAMBUS_SERVER_GRPC_PORT: String(m.grpc),
        STREAMBUS_SERVER_BROKER_ID: String(m.id),
        STREAMBUS_CLUSTER_NODES: nodes,
        STREAMBUS_RAFT_ENABLED: 'true',
        STREAMBUS_RAFT_HEARTBEAT_TIMEOUT: timeouts.heartbeat,
        STREAMBUS_RAFT_ELECTION_TIMEOUT: timeouts.election,
        STREAMBUS_STORAGE_DATA_DIR: join(m.dir, 'data'),
        STREAMBUS_LOGGING_LEVEL: 'warn',
      },
    });
    m.exited = new Promise((r) => m.proc.once('exit', r));
  };
  const t0 = Date.now();
  members.forEach(start);
  await Promise.all(members.map((m) => ready(m.http, Date.now() + 60_000)));
  return {
    members,
    startToReadyMs: Date.now() - t0,
    start,
    async stop() {
      for (const m of members) if (m.proc.exitCode === null && m.proc.signalCode === null) m.proc.kill('SIGTERM');
      await Promise.all(members.map((m) => m.exited));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

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
  leader.proc.kill('SIGKILL');
  await leader.exited;
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
  params: { kills: KILLS, idleSeconds: IDLE_SECONDS },
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
  } finally {
    await cluster.stop();
  }
}
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/cluster.json'), JSON.stringify(report, null, 2) + '\n');
log('wrote bench/results/cluster.json');
