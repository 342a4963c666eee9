// Broker processes for the benchmarks: free ports, start and wait for readiness, CPU and memory of a pid
// from /proc, the deployment guide's certificates and TLS settings, medians and the machine's facts.
// Shared by bench/broker/run.mjs, bench/broker/tls.mjs and bench/broker/auth.mjs.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
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

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Nearest-rank percentile of `xs` (q in 0..1). */
export const percentile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
};

/** What a report says about where it ran: the commit, the broker command, the machine. */
export function benchProvenance(fromSource) {
  return {
    commit: spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim(),
    broker: brokerCommandFor(fromSource).label,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memBytes: totalmem(), node: process.version },
  };
}

/** Writes `report` to bench/results/<name>.json (<name>-quick.json for a quick run), prints its summary, returns the path. */
export function writeBenchReport(name, quick, report) {
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const out = join(ROOT, 'bench/results', `${name}${quick ? '-quick' : ''}.json`);
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(JSON.stringify(report.summary, null, 2));
  return out;
}

/** Runs a benchmark's `main`: a failure sets the exit code; the `work` folder is removed either way. */
export function runBench(main, work) {
  main()
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    })
    .finally(() => rmSync(work, { recursive: true, force: true }));
}

/**
 * A CA, a broker certificate (for 127.0.0.1 and localhost) and a client certificate (CN=client), all
 * 4096-bit RSA, made in `dir` with the deployment guide's openssl commands.
 */
export function makeGuideCertificates(dir) {
  mkdirSync(dir, { recursive: true });
  const ssl = (...a) => execFileSync('openssl', a, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl('genrsa', '-out', 'ca.key', '4096');
  ssl('req', '-x509', '-new', '-nodes', '-key', 'ca.key', '-sha256', '-days', '3650', '-out', 'ca.crt', '-subj', '/CN=bench CA');
  for (const [name, ext] of [['broker', ['-extfile', 'san.ext']], ['client', []]]) {
    ssl('genrsa', '-out', `${name}.key`, '4096');
    ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '30', '-sha256', ...ext);
  }
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'broker.crt'), key: join(dir, 'broker.key'), clientCert: join(dir, 'client.crt'), clientKey: join(dir, 'client.key') };
}

/** Broker environment for TLS with `certs` (caFile included); `clientAuthRequired` asks for client certificates. */
export function tlsBrokerEnv(certs, clientAuthRequired) {
  return {
    STREAMBUS_SECURITY_TLS_ENABLED: 'true',
    STREAMBUS_SECURITY_TLS_CERT_FILE: certs.cert,
    STREAMBUS_SECURITY_TLS_KEY_FILE: certs.key,
    STREAMBUS_SECURITY_TLS_CA_FILE: certs.ca,
    STREAMBUS_SECURITY_TLS_CLIENT_AUTH_REQUIRED: String(clientAuthRequired),
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

/** How a broker process runs: the compiled binary when built (unless `fromSource`), else node with STREAMBUS_BENCH_NODE_ARGS. */
export function brokerCommandFor(fromSource, root = ROOT) {
  const binary = join(root, 'dist/streambus');
  if (existsSync(binary) && !fromSource) return { cmd: binary, args: ['broker'], label: 'dist/streambus' };
  const nodeArgs = benchNodeArgs();
  return { cmd: process.execPath, args: [...nodeArgs, join(root, 'bin/streambus'), 'broker'], label: ['node', ...nodeArgs, 'bin/streambus'].join(' ') };
}

/**
 * Node flags for brokers that run under node: STREAMBUS_BENCH_NODE_ARGS when set (space-separated,
 * `--trace-gc` say; empty for none), else the flags `npm start` gives the broker (package.json's start
 * script), so that a benchmark measures the broker as users start it.
 */
export function benchNodeArgs() {
  const given = process.env.STREAMBUS_BENCH_NODE_ARGS;
  if (given !== undefined) return given.split(' ').filter((a) => a !== '');
  return npmStartNodeArgs();
}

/** The flags between `node` and `bin/streambus` in package.json's start script. */
function npmStartNodeArgs() {
  const start = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts?.start ?? '';
  const words = start.split(' ').filter((w) => w !== '');
  const script = words.indexOf('bin/streambus');
  if (words[0] !== 'node' || script < 0) throw new Error(`package.json's start script is not "node [flags] bin/streambus ...": ${start}`);
  return words.slice(1, script);
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
/** `options.root`: the checkout whose broker runs (another build, for comparisons); `options.readyDeadlineMs` (default 120 s). */
export async function startBrokerProcess(name, env, dataDir, fromSource = false, httpsCa, options = {}) {
  mkdirSync(dataDir, { recursive: true });
  const kafkaPort = await freePort();
  const httpPort = await freePort();
  const { cmd, args: cmdArgs } = brokerCommandFor(fromSource, options.root);
  const readyDeadlineMs = options.readyDeadlineMs ?? 120_000;
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
  const deadline = Date.now() + readyDeadlineMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`broker ${name} exited with ${proc.exitCode}`);
    try {
      if ((await readyStatus(httpPort, httpsCa)) === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`broker ${name} not ready within ${readyDeadlineMs / 1000} s`);
    }
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
