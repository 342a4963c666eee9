/**
 * Runs kcat (librdkafka's command-line client) as a child process for tests: input text on stdin,
 * killed with SIGKILL after a time limit, and its exit code, stdout and stderr collected. Tests check
 * that it is installed with requireTool (test/helpers/tools.ts) first.
 */
import { spawn } from 'node:child_process';

export interface KcatRun {
  /** Exit code; null when kcat was killed (by the time limit or otherwise). */
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

export function runKcat(args: readonly string[], input: string | null, timeoutMs: number): Promise<KcatRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr, elapsedMs: Date.now() - started });
    });
    if (input !== null) {
      // kcat may exit before reading everything (a fatal error): a broken pipe is its answer, not ours.
      child.stdin!.on('error', () => undefined);
      child.stdin!.end(input);
    }
  });
}
