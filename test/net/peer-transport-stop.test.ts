// Goal: stop() closes every socket and clears every timer, so a process whose transports stopped ends
// by itself, even with dials pending to a broker that never came and a handshake left stalled.
// Method: run stop-child.js as a separate process, require it to exit on its own in time, and check the
// resources it reports after stop() for timers, immediates and TCP handles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { withTimeout } from '../helpers/timeout.ts';

test('after stop() nothing keeps the process alive', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./stop-child.js', import.meta.url))], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const code = await withTimeout(exited, 30_000, 'the child process to exit by itself');
    assert.equal(code, 0, stderr);
  } finally {
    child.kill('SIGKILL');
  }
  const report = JSON.parse(stdout.trim()) as { resources: string[]; stats: { messagesReceived: number }[] };
  assert.deepEqual(report.stats.map((s) => s.messagesReceived), [2, 2, 2], 'the transports worked before they stopped');
  const lingering = report.resources.filter((r) => /Timeout|Immediate|TCP/.test(r));
  assert.deepEqual(lingering, [], `still alive after stop(): ${report.resources.join(', ')}`);
});
