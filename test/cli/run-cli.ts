/**
 * Runs the real CLI (`node bin/streambus ...`) as a child process, feeding `input` on stdin, and
 * collects exit code, stdout (as bytes, to compare byte for byte) and stderr. Bounded by a timeout
 * after which the process is killed and the run fails.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** stdout as UTF-8 text. */
  out: string;
}

const BIN = join(resolve('.'), 'bin/streambus');

export function runCli(args: string[], options: { input?: Buffer | string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, STREAMBUS_LOGGING_LEVEL: 'warn' } });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`streambus ${args.join(' ')} did not finish within ${options.timeoutMs ?? 30_000} ms\n${err}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out);
      resolvePromise({ code, stdout, stderr: err, out: stdout.toString('utf8') });
    });
    child.stdin.on('error', () => undefined); // a command that exits before reading all input
    child.stdin.end(options.input ?? '');
  });
}
