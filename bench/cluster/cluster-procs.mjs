// Shared helpers of the cluster benchmarks: three broker processes on 127.0.0.1 with free ports, their
// readiness, CPU and RSS, and a Kafka client per purpose.
//
// Contract: every broker process started here is recorded by pid, and `stopAll()` (also run on exit,
// SIGINT and SIGTERM) ends exactly those, so a failed or interrupted run leaves no broker behind and
// never touches brokers it did not start.
import { benchNodeArgs, freePort } from '../broker/broker-procs.mjs';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const { KafkaClient, KafkaResponseError } = await import(join(ROOT, 'lib/src/client/index.js'));
export const { API_KEYS } = await import(join(ROOT, 'lib/src/protocol/kafka/generated/index.js'));
export const { buildRecordBatch } = await import(join(ROOT, 'lib/src/protocol/kafka/record-batch/index.js'));

export const log = (...m) => console.error('[bench]', ...m);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export { median, percentile } from '../broker/broker-procs.mjs';


export const cpuMicros = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
};
export const rss = (pid) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m)[1]) * 1024;

export async function ready(httpPort, deadline) {
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${httpPort}/health/ready`)).status === 200) return;
    } catch {}
    await sleep(20);
  }
  throw new Error(`broker on http ${httpPort} not ready`);
}

/** Broker processes of this run that may still be running, by pid. */
const running = new Map();

export function stopAll(signal = 'SIGKILL') {
  for (const proc of running.values()) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
  }
}
process.once('exit', () => stopAll());
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    stopAll();
    process.exit(130);
  });
}

const alive = (m) => m.proc !== null && m.proc.exitCode === null && m.proc.signalCode === null;

/**
 * Starts three brokers together with the given Raft timeouts (and `extraEnv`, settings as
 * STREAMBUS_* variables) and waits until all are ready. If any
 * of them fails to become ready, the ones started are stopped before the error is thrown.
 */
export async function startCluster(timeouts, extraEnv = {}) {
  // Ports are picked free before the brokers bind them, so another process can take one in between:
  // a start that failed on EADDRINUSE is tried again on new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(timeouts, extraEnv);
    } catch (err) {
      if (attempt >= 3 || !String(err?.message).includes('EADDRINUSE')) throw err;
      log(`cluster start failed on a taken port (attempt ${attempt}), again on new ports`);
    }
  }
}

async function startClusterOnce(timeouts, extraEnv) {
  const root = mkdtempSync(join(tmpdir(), 'streambus-cluster-bench-'));
  const members = [];
  for (let id = 1; id <= 3; id++) members.push({ id, kafka: await freePort(), http: await freePort(), grpc: await freePort(), dir: join(root, `b${id}`), proc: null });
  const nodes = members.map((m) => `${m.id}@127.0.0.1:${m.kafka}:${m.grpc}`).join(',');
  const start = (m) => {
    if (alive(m)) throw new Error(`broker ${m.id} is running`);
    mkdirSync(m.dir, { recursive: true });
    // STREAMBUS_BENCH_CPU_PROF=<folder>: each broker writes a V8 CPU profile there when it exits
    // (node --cpu-prof cannot be set through NODE_OPTIONS). Off by default.
    const profDir = process.env.STREAMBUS_BENCH_CPU_PROF;
    const extraArgs = benchNodeArgs();
    const nodeArgs = [...extraArgs, ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=broker-${m.id}-${Date.now()}.cpuprofile`] : [])];
    // STREAMBUS_BENCH_BROKER_BIN=<path>: run that compiled broker (dist/streambus, the released form)
    // instead of node bin/streambus; node flags do not apply to it.
    const binary = process.env.STREAMBUS_BENCH_BROKER_BIN;
    m.proc = spawn(binary ?? process.execPath, binary ? ['broker'] : [...nodeArgs, join(ROOT, 'bin/streambus'), 'broker'], {
      cwd: m.dir,
      // STREAMBUS_BENCH_LOG_DIR=<folder>: each broker's output goes to broker-<id>.log there (appended).
      // Otherwise the end of its output is kept, for the error of a broker that exits before it is ready.
      stdio: process.env.STREAMBUS_BENCH_LOG_DIR ? ['ignore', openSync(join(process.env.STREAMBUS_BENCH_LOG_DIR, `broker-${m.id}.log`), 'a'), openSync(join(process.env.STREAMBUS_BENCH_LOG_DIR, `broker-${m.id}.log`), 'a')] : ['ignore', 'pipe', 'pipe'],
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
        ...extraEnv,
      },
    });
    const { pid } = m.proc;
    m.tail = '';
    const keep = (d) => (m.tail = (m.tail + d.toString()).slice(-4096));
    m.proc.stdout?.on('data', keep);
    m.proc.stderr?.on('data', keep);
    running.set(pid, m.proc);
    m.exited = new Promise((r) => m.proc.once('exit', r));
    m.exited.then(() => running.delete(pid));
  };
  const cluster = {
    members,
    bootstrap: members.map((m) => `127.0.0.1:${m.kafka}`).join(','),
    startToReadyMs: 0,
    start,
    member: (id) => members.find((m) => m.id === id),
    /** CPU time (microseconds) each member's current process has used; 0 for one not running. */
    cpu: () => members.map((m) => (alive(m) ? cpuMicros(m.proc.pid) : 0)),
    /** SIGKILLs broker `m` and resolves once its process is gone. */
    async kill(m) {
      m.proc.kill('SIGKILL');
      await m.exited;
    },
    async stop() {
      for (const m of members) if (alive(m)) m.proc.kill('SIGTERM');
      // A broker that ignores SIGTERM for 10 s is killed: the run must end with none left.
      // A profiled broker writes its profile on exit, which a SIGKILL would lose: it gets longer.
      const timer = setTimeout(() => members.forEach((m) => alive(m) && m.proc.kill('SIGKILL')), process.env.STREAMBUS_BENCH_CPU_PROF ? 120_000 : 10_000);
      await Promise.all(members.filter((m) => m.proc !== null).map((m) => m.exited));
      clearTimeout(timer);
      rmSync(root, { recursive: true, force: true });
    },
  };
  const t0 = Date.now();
  try {
    members.forEach(start);
    // A broker that exits before it is ready fails the start at once, with the end of its output.
    const readyOrExited = (m) =>
      new Promise((resolve, reject) => {
        let settled = false;
        const settle = (f) => (value) => {
          if (!settled) f(value);
          settled = true;
        };
        m.exited.then((code) => settle(reject)(new Error(`broker ${m.id} exited (${code}) before it was ready: ${m.tail.trim().split('\n').slice(-5).join(' | ')}`)));
        ready(m.http, Date.now() + 60_000).then(settle(resolve), settle(reject));
      });
    await Promise.all(members.map(readyOrExited));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  cluster.startToReadyMs = Date.now() - t0;
  return cluster;
}

/** A client bootstrapped with the running members of `cluster` (the caller closes it). */
export function clientOf(cluster, options = {}) {
  const bootstrap = cluster.members.filter(alive).map((m) => `127.0.0.1:${m.kafka}`).join(',');
  return new KafkaClient({ bootstrap, requestTimeoutMs: 5_000, ...options });
}

export { freePort };
