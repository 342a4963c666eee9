// Goal: the backup units in systemd/ are valid and do what docs/backup.md says: an hourly timer starts
// an incremental backup, a daily timer a full one, each followed by pruning to 30 days, run as the
// streambus user, writing only the backup volume. Method: check the directives, then
// `systemd-analyze verify` copies of the four units whose ExecStart points at this checkout's
// bin/streambus (verify insists that the binary exists on this machine), the way
// test/process/systemd-unit.test.ts checks the broker's unit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { requireTool } from '../helpers/tools.ts';

const UNITS = ['streambus-backup.service', 'streambus-backup.timer', 'streambus-backup-full.service', 'streambus-backup-full.timer'];
const text = (name: string) => readFileSync(join('systemd', name), 'utf8');
const values = (name: string, key: string) => [...text(name).matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!);

test('the timers start the incremental backup hourly and the full one daily', () => {
  assert.deepEqual(values('streambus-backup.timer', 'OnCalendar'), ['hourly']);
  assert.deepEqual(values('streambus-backup.timer', 'Unit'), ['streambus-backup.service']);
  assert.deepEqual(values('streambus-backup-full.timer', 'OnCalendar'), ['*-*-* 02:30:00']);
  assert.deepEqual(values('streambus-backup-full.timer', 'Unit'), ['streambus-backup-full.service']);
  for (const timer of ['streambus-backup.timer', 'streambus-backup-full.timer']) {
    assert.deepEqual(values(timer, 'Persistent'), ['true']);
    assert.deepEqual(values(timer, 'WantedBy'), ['timers.target']);
  }
});

test('the services back up, then prune to 30 days, as the streambus user writing only the backup volume', () => {
  const create = '/usr/local/bin/streambus backup create --config=/etc/streambus/broker.yaml --to=/backup/streambus';
  const prune = '/usr/local/bin/streambus backup prune /backup/streambus --keep-days=30';
  assert.deepEqual(values('streambus-backup.service', 'ExecStart'), [create, prune]);
  assert.deepEqual(values('streambus-backup-full.service', 'ExecStart'), [`${create} --full`, prune]);
  for (const service of ['streambus-backup.service', 'streambus-backup-full.service']) {
    assert.deepEqual(values(service, 'Type'), ['oneshot']);
    assert.deepEqual(values(service, 'User'), ['streambus']);
    assert.deepEqual(values(service, 'ProtectSystem'), ['strict']);
    assert.deepEqual(values(service, 'ReadWritePaths'), ['/backup/streambus']);
    // The backup holds the TLS private key: only its owner may read what it writes.
    assert.deepEqual(values(service, 'UMask'), ['0077']);
  }
});

test('systemd-analyze verify accepts the backup units', (t) => {
  if (!requireTool(t, 'systemd-analyze', { installHint: 'apt-get install systemd' })) return;
  const folder = mkdtempSync(join(tmpdir(), 'streambus-backup-units-'));
  try {
    const copies = UNITS.map((name) => {
      const copy = join(folder, name);
      writeFileSync(copy, text(name).replaceAll('/usr/local/bin/streambus', resolve('bin/streambus')));
      return copy;
    });
    const r = spawnSync('systemd-analyze', ['verify', ...copies], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(r.stderr.trim(), '', 'verify printed warnings');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
