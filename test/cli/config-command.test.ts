// Goal: the CLI's config handling as operators meet it: `config validate` on the guide's template,
// every kind of bad config exits 2 naming file, key, line and expectation (with "did you mean"),
// `--check-files`, `config print` masks secrets, `broker --config BAD` exits 2 before starting, and
// every command has --help. Method: run bin/streambus as a child process on temporary files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'streambus-cli-'));
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/streambus', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('config validate accepts the guide template', () => {
  const r = cli(['config', 'validate', '--config', 'config/broker.example.yaml']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /OK/);
});

test('wrong type, out of range and unknown key exit 2 with file, line, key and hint', () => {
  const bad = file('bad.yaml', 'server:\n  port: abc\n  httpPort: 70000\nstorage:\n  syncIntervall: 1s\n');
  const r = cli(['config', 'validate', '--config', bad]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, new RegExp(`${bad}:2: server.port: expected an integer`));
  assert.match(r.stderr, new RegExp(`${bad}:3: server.httpPort: expected .*65535`));
  assert.match(r.stderr, new RegExp(`${bad}:5: storage.syncIntervall: unknown key \\(did you mean storage.syncInterval\\?\\)`));
});

test('a bad environment override names the variable', () => {
  const r = cli(['config', 'validate'], { STREAMBUS_SERVER_PORT: 'nine' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /STREAMBUS_SERVER_PORT/);
});

test('--check-files reports missing certificate files', () => {
  const tls = file('tls.yaml', 'security:\n  tls:\n    enabled: true\n    certFile: /nonexistent/server.crt\n    keyFile: /nonexistent/server.key\n');
  const r = cli(['config', 'validate', '--config', tls, '--check-files']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /server\.crt/);
});

test('broker with a bad config exits 2 before listening', () => {
  const bad = file('bad-broker.yaml', 'server:\n  port: -1\n');
  const r = cli(['broker', '--config', bad]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /server.port/);
});

test('config print shows the effective values, with flags applied and secrets masked', () => {
  const secret = file('secret.yaml', 'security:\n  tls:\n    keyPassphrase: hunter2\n');
  const r = cli(['config', 'print', '--config', secret, '--port', '19999', '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!r.stdout.includes('hunter2'));
  const printed = JSON.parse(r.stdout);
  assert.equal(printed.server.port, 19999);
  assert.equal(printed.security.tls.keyPassphrase, '********');
});

test('every command answers --help', () => {
  for (const args of [['--help'], ['broker', '--help'], ['config', '--help'], ['config', 'validate', '--help'], ['config', 'print', '--help'], ['doctor', '--help'], ['version', '--help']]) {
    const r = cli(args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /Options:|Commands:/, args.join(' '));
  }
});

test('an unknown command exits 2', () => {
  assert.equal(cli(['nonsense']).status, 2);
});
