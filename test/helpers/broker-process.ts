/**
 * Starts a real broker process for tests: on 127.0.0.1 with free ports, a fresh data folder, and the
 * chosen runtime (node running bin/streambus, bun or deno running src/main.ts, or the compiled binary).
 * `stop()` sends SIGTERM and resolves with the exit code; every start is bounded by a timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort } from './ports.ts';

// scripts/runtimes.mjs is plain JS shared with the build scripts; it is not compiled into lib/.
const runtimes = (await import(pathToFileURL(resolve('scripts/runtimes.mjs')).href)) as {
  bunPath(): string | null;
  denoPath(): string | null;
};
const { bunPath, denoPath } = runtimes;

export type Runtime = 'node' | 'bun' | 'deno' | 'binary';

export interface BrokerProcess {
  proc: ChildProcess;
  kafkaPort: number;
  httpPort: number;
  dataDir: string;
  output: () => string;
  /** SIGTERM, then the exit code (null if killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  kill(): Promise<void>;
}

export interface StartOptions {
  runtime?: Runtime;
  env?: Record<string, string>;
  args?: string[];
  dataDir?: string;
  readyTimeoutMs?: number;
  /** Keep the data folder after stop (for restart tests). */
  keepData?: boolean;
  /** Listen on these ports instead of free ones (a restart on the same ports, see restartBroker). */
  kafkaPort?: number;
  httpPort?: number;
  /** Run this executable instead of the runtime's default command. */
  command?: string;
  /** Do not add the `broker` argument (the executable is streambus-broker). */
  noBrokerArg?: boolean;
  /** Environment to start from instead of this process's (the STREAMBUS_* settings are added to it). */
  baseEnv?: Record<string, string>;
  /** The broker serves HTTPS (security.tls): readiness is checked over TLS against this CA file. */
  httpsCa?: string;
}

const ROOT = resolve('.');

export function runtimeCommand(runtime: Runtime): { cmd: string; args: string[] } | null {
  switch (runtime) {
    case 'node':
      return { cmd: process.execPath, args: [join(ROOT, 'bin/streambus')] };
    case 'bun': {
      const bun = bunPath();
      return bun ? { cmd: bun, args: [join(ROOT, 'src/main.ts')] } : null;
    }
    case 'deno': {
      const deno = denoPath();
      return deno ? { cmd: deno, args: ['run', '-A', '--quiet', join(ROOT, 'src/main.ts')] } : null;
    }
    case 'binary':
      return { cmd: join(ROOT, 'dist/streambus'), args: [] };
  }
}

export async function startBroker(options: StartOptions = {}): Promise<BrokerProcess> {
  const runtime = options.runtime ?? 'node';
  const command = options.command ? { cmd: options.command, args: [] } : runtimeCommand(runtime);
  if (!command) throw new Error(`runtime ${runtime} is not installed`);
  const kafkaPort = options.kafkaPort ?? (await freePort());
  const httpPort = options.httpPort ?? (await freePort());
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'streambus-test-'));
  let out = '';
  const proc = spawn(command.cmd, [...command.args, ...(options.noBrokerArg ? [] : ['broker']), ...(options.args ?? [])], {
    cwd: dataDir,
    env: {
      ...(options.baseEnv ?? process.env),
      STREAMBUS_SERVER_HOST: '127.0.0.1',
      STREAMBUS_SERVER_PORT: String(kafkaPort),
      STREAMBUS_SERVER_HTTP_PORT: String(httpPort),
      STREAMBUS_STORAGE_DATA_DIR: join(dataDir, 'data'),
      STREAMBUS_STORAGE_RAFT_DIR: join(dataDir, 'data', 'raft'),
      STREAMBUS_LOGGING_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));

  const broker: BrokerProcess = {
    proc,
    kafkaPort,
    httpPort,
    dataDir,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      if (!options.keepData && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
    async kill() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
  try {
    await waitReady(httpPort, options.readyTimeoutMs ?? 20_000, () => proc.exitCode !== null, options.httpsCa);
  } catch (err) {
    await broker.kill();
    throw new Error(`broker (${runtime}) did not become ready: ${(err as Error).message}\n${out}`);
  }
  return broker;
}

export async function waitReady(httpPort: number, timeoutMs: number, exited: () => boolean, httpsCa?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // What the last probes got, for the error: a broker that logged "broker ready" and still fails here
  // points at the probe's side (a refused or reset connection, a slow answer), not the broker's.
  let attempts = 0;
  let last = 'no answer yet';
  const seen = new Map<string, number>();
  while (Date.now() < deadline) {
    if (exited()) throw new Error('process exited');
    attempts++;
    try {
      let status: number;
      let body: string;
      if (httpsCa === undefined) {
        const res = await fetch(`http://127.0.0.1:${httpPort}/health/ready`, { signal: AbortSignal.timeout(5_000) });
        status = res.status;
        body = await res.text();
      } else {
        ({ status, body } = await httpsGet(httpPort, '/health/ready', { ca: httpsCa }));
      }
      if (status === 200) return;
      last = `HTTP ${status} ${body.trim().slice(0, 200)}`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      last = `error ${cause?.code ?? cause?.message ?? (err as Error).message}`;
    }
    seen.set(last, (seen.get(last) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 50));
  }
  const counts = [...seen].map(([what, n]) => `${n} x ${what}`).join('; ');
  throw new Error(`not ready after ${timeoutMs} ms (${attempts} probes of 127.0.0.1:${httpPort}/health/ready: ${counts}; the last: ${last})`);
}

/**
 * Starts a broker again on the ports and data folder of one that has exited (stopped or killed), so
 * clients reconnect to the same address and see the same data. The data folder is then owned by the
 * caller: stop() of the new process never removes it.
 */
export async function restartBroker(previous: BrokerProcess, options: StartOptions = {}): Promise<BrokerProcess> {
  if (previous.proc.exitCode === null && previous.proc.signalCode === null) throw new Error('restartBroker: the previous broker is still running');
  return startBroker({ ...options, dataDir: previous.dataDir, kafkaPort: previous.kafkaPort, httpPort: previous.httpPort });
}

/** A GET over HTTPS to 127.0.0.1 trusting the CA file `ca` (optionally with a client certificate). */
export function httpsGet(port: number, path: string, tls: { ca: string; cert?: string; key?: string }, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; body: string; fingerprint256: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        headers,
        ca: readFileSync(tls.ca),
        ...(tls.cert === undefined ? {} : { cert: readFileSync(tls.cert), key: readFileSync(tls.key!) }),
        agent: false,
        timeout: 5_000,
      },
      (res) => {
        const fingerprint256 = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint256 }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

