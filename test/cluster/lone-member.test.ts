// Goal: a broker of a cluster whose peers are not up never serves on its own: it is live but not
// ready (it waits for a controller quorum), and SIGTERM while it waits stops it at once with exit 0,
// as `systemctl stop` expects, instead of hanging until the shutdown timeout.
// Method: one real process with three voters in cluster.nodes, the other two never started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../helpers/ports.ts';
import { CLUSTER_TEST_ENV } from '../helpers/broker-cluster.ts';

test('waiting for a quorum: live, not ready, no Kafka port; SIGTERM stops it at once with exit 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-lone-'));
  const [kafka, http, grpc, p2, g2, p3, g3] = await Promise.all(Array.from({ length: 7 }, () => freePort()));
  let out = '';
  const proc = spawn(process.execPath, [resolve('bin/streambus'), 'broker'], {
    cwd: dir,
    env: {
      ...process.env,
      ...CLUSTER_TEST_ENV,
      STREAMBUS_SERVER_HOST: '127.0.0.1',
      STREAMBUS_SERVER_PORT: String(kafka),
      STREAMBUS_SERVER_HTTP_PORT: String(http),
      STREAMBUS_SERVER_GRPC_PORT: String(grpc),
      STREAMBUS_SERVER_BROKER_ID: '1',
      STREAMBUS_CLUSTER_NODES: `1@127.0.0.1:${kafka}:${grpc},2@127.0.0.1:${p2}:${g2},3@127.0.0.1:${p3}:${g3}`,
      STREAMBUS_STORAGE_DATA_DIR: join(dir, 'data'),
      STREAMBUS_LOGGING_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  try {
    let live = false;
    for (let i = 0; i < 200 && !live; i++) {
      await new Promise((r) => setTimeout(r, 50));
      live = await fetch(`http://127.0.0.1:${http}/health/live`).then((r) => r.ok, () => false);
    }
    assert.ok(live, out);
    // Past an election timeout: still alone, still not ready, and the Kafka port stays closed.
    await new Promise((r) => setTimeout(r, 1_000));
    const ready = await fetch(`http://127.0.0.1:${http}/health/ready`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /cluster/);
    const kafkaOpen = await new Promise<boolean>((r) => {
      const s = connect(kafka, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    assert.equal(kafkaOpen, false, 'the Kafka port must not open before the broker joined');
    const t0 = Date.now();
    proc.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 0, out);
    assert.ok(Date.now() - t0 < 5_000, `stopped after ${Date.now() - t0} ms`);
    assert.match(out, /stopped before the start completed/);
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
