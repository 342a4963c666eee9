// Goal: systemd/streambus.service is a valid unit with the properties operators rely on: Type=notify
// (the broker sends READY=1 and STOPPING=1), LimitNOFILE=65536, Restart=on-failure, a dedicated user,
// and hardening. Method: check the directives, then `systemd-analyze verify` a copy whose ExecStart
// points at this checkout's bin/streambus (verify insists that the binary exists on this machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { requireTool } from '../helpers/tools.ts';

const unit = readFileSync('systemd/streambus.service', 'utf8');
const directive = (name: string) => unit.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1];

test('the unit carries the required directives', () => {
  assert.equal(directive('Type'), 'notify');
  assert.equal(directive('LimitNOFILE'), '65536');
  assert.equal(directive('Environment'), 'MIMALLOC_PURGE_DELAY=-1', 'the allocator keeps freed memory (docs/operations.md)');
  assert.equal(directive('Restart'), 'on-failure');
  assert.equal(directive('User'), 'streambus');
  assert.equal(directive('ExecStart'), '/usr/local/bin/streambus-broker --config=/etc/streambus/broker.yaml');
  assert.equal(directive('NoNewPrivileges'), 'yes');
  assert.equal(directive('ProtectSystem'), 'strict');
  assert.equal(directive('PrivateTmp'), 'yes');
  assert.match(directive('ReadWritePaths') ?? '', /\/data\/streambus/);
  assert.match(directive('ReadWritePaths') ?? '', /\/var\/log\/streambus/);
});

test('systemd-analyze verify accepts the unit', (t) => {
  if (!requireTool(t, 'systemd-analyze', { installHint: 'apt-get install systemd' })) return;
  const folder = mkdtempSync(join(tmpdir(), 'streambus-unit-'));
  try {
    const copy = join(folder, 'streambus.service');
    writeFileSync(copy, unit.replaceAll('/usr/local/bin/streambus-broker', resolve('bin/streambus')));
    const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stderr.trim(), '', 'verify printed warnings');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
