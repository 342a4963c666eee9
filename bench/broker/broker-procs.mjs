// Broker processes for the benchmarks: free ports, start and wait for readiness, CPU and memory of a pid
// from /proc. Shared by bench/broker/run.mjs and bench/broker/tls.mjs.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);

/** Reads a benchmark's command line: `flag('runs', 3)` is the value after --runs, or 3 without it. */
export function benchArgs(args) {
  return {
    flag: (name, dflt) => {
      const i = args.indexOf(`--${name}`);
      return i >= 0 ? args[i + 1] : dflt;
    },
  };
}

function readyStatus(httpPort, httpsCa) {
  if (httpsCa === undefined) return fetch(`http://127.0.0.1:${httpPort}/health/ready`).then((r) => r.status);
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port: httpPort, path: '/health/ready', ca: readFileSync(httpsCa), agent: false }, (r) => {
      r.resume();
      res(r.statusCode);
    });
    req.on('error', rej);
    req.end();
  });
}

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

export function brokerCommandFor(fromSource) {
  const binary = join(ROOT, 'dist/streambus');
  if (existsSync(binary) && !fromSource) return { cmd: binary, args: ['broker'], label: 'dist/streambus' };
  return { cmd: process.execPath, args: [join(ROOT, 'bin/streambus'), 'broker'], label: 'node bin/streambus' };
}

export function procStat(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  return ticks * 10_000; // µs, at the usual 100 ticks per second
}

export function procStatus(pid, key) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) * 1024 : null;
}

/**
 * Starts a broker process on free ports with `env` added, and waits until /health/ready answers 200
 * (over HTTPS trusting `httpsCa` when given).
 */
export async function startBrokerProcess(name, env, dataDir, fromSource = false, httpsCa) {
  mkdirSync(dataDir, { recursive: true });
  const kafkaPort = await freePort();
  const httpPort = await freePort();
  const { cmd, args: cmdArgs } = brokerCommandFor(fromSource);
  const started = performance.now();
  const proc = spawn(cmd, cmdArgs, {
    cwd: dataDir,
    env: {
      ...process.env,
      STREAMBUS_SERVER_PORT: String(kafkaPort),
      STREAMBUS_SERVER_HTTP_PORT: String(httpPort),
      STREAMBUS_STORAGE_DATA_DIR: join(dataDir, 'data'),
      STREAMBUS_STORAGE_RAFT_DIR: join(dataDir, 'data', 'raft'),
      STREAMBUS_LOGGING_LEVEL: 'warn',
      STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`broker ${name} exited with ${proc.exitCode}`);
    try {
      if ((await readyStatus(httpPort, httpsCa)) === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`broker ${name} not ready within 120 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const readyMs = performance.now() - started;
  return {
    name,
    proc,
    pid: proc.pid,
    kafkaPort,
    httpPort,
    dataDir,
    readyMs,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once('exit', r)));
    },
  };
}
