// Goal: the native addon is embedded by `bun build --compile` through its one static require path,
// and the compiled binary runs on the native backend with no build/ folder on disk.
// Method: copy src/, the smoke entry and the built addon into a temp tree, compile there with the
// pinned bun, delete the tree's build/ folder, run the binary and read what it reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../../..');
// scripts/runtimes.mjs knows where npm put the pinned bun (its postinstall may move the binary).
const { bunPath } = (await import(pathToFileURL(join(root, 'scripts/runtimes.mjs')).href)) as { bunPath(): string | null };
const bun = bunPath() ?? join(root, 'node_modules/bun/bin/bun.exe');

test('bun build --compile embeds build/Release/streambus.node', { timeout: 120_000 }, () => {
  assert.ok(existsSync(bun), `pinned bun binary missing at ${bun}`);
  const tree = mkdtempSync(join(tmpdir(), 'sb-embed-'));
  try {
    cpSync(join(root, 'src'), join(tree, 'src'), { recursive: true });
    mkdirSync(join(tree, 'test/io'), { recursive: true });
    cpSync(join(root, 'test/io/native-addon-smoke.ts'), join(tree, 'test/io/native-addon-smoke.ts'));
    cpSync(join(root, 'package.json'), join(tree, 'package.json'));
    cpSync(join(root, 'build/Release/streambus.node'), join(tree, 'build/Release/streambus.node'));
    const build = spawnSync(bun, ['build', '--compile', 'test/io/native-addon-smoke.ts', '--outfile', 'smoke'], { cwd: tree, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    rmSync(join(tree, 'build'), { recursive: true });
    const run = spawnSync(join(tree, 'smoke'), [], { cwd: tmpdir(), encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout.trim()) as { backend: string; crc: string };
    assert.equal(report.backend, 'native');
    assert.equal(report.crc, 'e3069283');
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
});
