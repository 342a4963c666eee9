// Runs every compiled test file (*.test.js) under lib/test with node's own test runner.
// Usage: node scripts/run-tests.mjs [folder-or-file under test/ ...]  (default: all of test/)
// Test files are listed here explicitly, so helper modules in test/ are never run as tests.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (path.endsWith('.test.js')) {
    out.push(path);
  }
  return out;
}

const args = process.argv.slice(2);
const targets = (args.length ? args : ['test']).map((t) => 'lib/' + t.replace(/^lib\//, '').replace(/\.ts$/, '.js'));
const files = [];
for (const t of targets) {
  if (!existsSync(t)) {
    console.error(`run-tests: ${t} does not exist (did the build run?)`);
    process.exit(1);
  }
  collect(t, files);
}
// TAP goes to stdout as before; the failure summary is written after it, at the very end of the output.
const reporters = [
  '--test-reporter=tap', '--test-reporter-destination=stdout',
  `--test-reporter=${new URL('./test-failures-reporter.mjs', import.meta.url).href}`, '--test-reporter-destination=stderr',
];
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...reporters, ...files], {
  stdio: 'inherit',
  env: { ...process.env, STREAMBUS_LOGGING_LEVEL: process.env.STREAMBUS_LOGGING_LEVEL ?? 'warn' },
});
process.exit(result.status ?? 1);
