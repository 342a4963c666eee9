/**
 * Runs kcat (librdkafka's command-line client) as a child process for tests: input text on stdin,
 * killed with SIGKILL after a time limit, and its exit code, stdout and stderr collected. Tests check
 * that it is installed with requireTool (test/helpers/tools.ts) first. startKcat leaves it running
 * (a producer fed from a file or paced through its stdin) until the test stops it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Writable } from 'node:stream';

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

/** A kcat left running: see startKcat. */
export interface RunningKcat {
  /** Its stdin when started with input 'pipe', else null. */
  readonly stdin: Writable | null;
  /** Whether it has exited (by itself, by the time limit or by stop). */
  readonly exited: boolean;
  /** What it wrote to stderr so far. */
  stderr(): string;
  /** Kills it (SIGKILL) if still running; resolves when it has exited. */
  stop(): Promise<KcatRun>;
}

/**
 * Starts kcat with `args` and leaves it running, its stdin read from `input.file` or a pipe the test
 * writes to ('pipe'); stdout is dropped, stderr kept. Killed with SIGKILL after `limitMs` whatever the
 * test does, so a test that fails midway leaves nothing behind.
 */
export function startKcat(args: readonly string[], input: { file: string } | 'pipe', limitMs: number): RunningKcat {
  const started = Date.now();
  const fd = input === 'pipe' ? null : openSync(input.file, 'r');
  let child: ChildProcess;
  try {
    child = spawn('kcat', args, { stdio: [fd ?? 'pipe', 'ignore', 'pipe'] });
  } finally {
    // The child holds its own copy of the descriptor.
    if (fd !== null) closeSync(fd);
  }
  let stderr = '';
  let exited = false;
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin?.on('error', () => undefined);
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const closed = new Promise<KcatRun>((resolve) => {
    const finish = (code: number | null) => {
      exited = true;
      clearTimeout(timer);
      resolve({ code, stdout: '', stderr, elapsedMs: Date.now() - started });
    };
    // A kcat that could not start is reported as one that exited at once, with the reason in stderr.
    child.once('error', (err) => ((stderr += `${err.message}\n`), finish(null)));
    child.once('close', finish);
  });
  return {
    stdin: child.stdin,
    get exited() {
      return exited;
    },
    stderr: () => stderr,
    stop() {
      if (!exited) child.kill('SIGKILL');
      return closed;
    },
  };
}

/**
 * The throttle times kcat reported on stderr: librdkafka calls its throttle callback with each
 * response's throttle_time_ms that is not 0 (and with 0 once when throttling ends), and kcat prints
 * `% Broker <name> (<id>) throttled request for <n>ms`.
 */
export function reportedThrottlesMs(stderr: string): number[] {
  return [...stderr.matchAll(/throttled request for (\d+)ms/g)].map((m) => Number(m[1]));
}
