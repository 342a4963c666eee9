/**
 * Runs `bin/streambus` with arguments, without blocking this process. Tests with broker processes must
 * not use spawnSync for anything long: while the test's event loop is blocked nobody reads the brokers'
 * stdout pipes, and a broker writing its log to a full pipe blocks (writes to pipes are synchronous on
 * Linux), freezing the cluster under test.
 */
import { execFile } from 'node:child_process';

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `options`: the timeout in milliseconds, or the timeout and the environment (this process's by default). */
export function runCli(args: readonly string[], options: number | { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const { timeoutMs = 100_000, env = process.env } = typeof options === 'number' ? { timeoutMs: options } : options;
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/streambus', ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env }, (err, stdout, stderr) => {
      const status = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null;
      resolve({ status, stdout, stderr });
    });
  });
}
