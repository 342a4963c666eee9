// Goal: a port handed to one test process is never handed to another while the first lives (test
// files run in parallel, and a killed broker's ports stay unbound until its test restarts it), and
// the reservations go when the process exits.
// Method: a child process takes ports and reports them, then waits; this process then takes many
// ports; after the child exits its reservation files are gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.ts';

const PORTS_MODULE = new URL('../helpers/ports.js', import.meta.url).href;

test('ports reserved by a live process are not handed out again, and are released at its exit', async () => {
  const script = `
    const { freePort } = await import(${JSON.stringify(PORTS_MODULE)});
    const ports = [];
    for (let i = 0; i < 300; i++) ports.push(await freePort());
    console.log(JSON.stringify(ports));
    process.stdin.once('data', () => process.exit(0));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('exit', () => reject(new Error(`child exited first: ${out}`)));
    });
    const theirs = new Set<number>(JSON.parse(line));
    assert.equal(theirs.size, 300);
    for (const port of theirs) assert.ok(existsSync(join(tmpdir(), 'streambus-test-ports', String(port))), `port ${port} reserved`);
    // The child's ports are not bound: only the reservation keeps this process off them.
    for (let i = 0; i < 2000; i++) {
      const mine = await freePort();
      assert.ok(!theirs.has(mine), `port ${mine} handed to two live processes`);
    }
    child.stdin!.write('bye\n');
    await exited;
    for (const port of theirs) assert.ok(!existsSync(join(tmpdir(), 'streambus-test-ports', String(port))), `port ${port} released at exit`);
  } finally {
    child.kill();
  }
});
