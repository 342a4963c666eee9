/**
 * Runs a Python script of a test (plain .py beside the test, not compiled) with /usr/bin/python3,
 * where Debian installs client libraries such as python3-kafka; a python3 earlier on PATH (pyenv)
 * does not see them. The script gets one JSON argument and answers in JSON lines on stdout; every
 * other line and stderr are kept for failure messages. Runs are bounded: killed after `timeoutMs`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const SYSTEM_PYTHON = '/usr/bin/python3';

export class PythonScript {
  readonly lines: Record<string, unknown>[] = [];
  stderr = '';
  stdout = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly listeners = new Set<() => void>();

  /** Starts `script` (a path from the repository root) with `input` as its JSON argument. */
  constructor(script: string, input: unknown, timeoutMs: number) {
    // -B: no __pycache__ folders in the source tree.
    this.child = spawn(SYSTEM_PYTHON, ['-B', resolve(script), JSON.stringify(input)], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    let partial = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop()!;
      for (const line of parts) this.onLine(line);
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdin!.on('error', () => {}); // the script may exit before reading its input
    this.exited = new Promise((res) => {
      this.child.once('close', (code) => {
        clearTimeout(timer);
        if (partial) this.onLine(partial);
        res(code);
      });
    });
  }

  /** Writes one line to the script's stdin. */
  tell(line: string): void {
    this.child.stdin!.write(line + '\n');
  }

  /** Resolves once `done()` holds (checked after every JSON line); rejects after `timeoutMs` or at exit. */
  until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((res, rej) => {
      const check = (): void => {
        if (!done()) return;
        finish();
        res();
      };
      const timer = setTimeout(() => {
        finish();
        rej(new Error(`${what}: not within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      void this.exited.then(() => {
        if (!this.listeners.has(check)) return;
        finish();
        if (done()) res();
        else rej(new Error(`${what}: the script exited first\n${this.describe()}`));
      });
    });
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** Its output for an assertion message. */
  describe(): string {
    return `--- stdout\n${this.stdout.slice(-4000)}\n--- stderr\n${this.stderr.slice(-4000)}`;
  }

  private onLine(line: string): void {
    if (!line.startsWith('{')) return;
    try {
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      return;
    }
    for (const l of [...this.listeners]) l();
  }
}

/** Runs a script to its end; resolves with its exit code and the JSON lines it printed. */
export async function runPythonScript(script: string, input: unknown, timeoutMs: number): Promise<{ code: number | null; lines: Record<string, unknown>[]; output: string }> {
  const run = new PythonScript(script, input, timeoutMs);
  const code = await run.exited;
  return { code, lines: run.lines, output: run.describe() };
}
