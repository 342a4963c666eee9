// Builds dist/streambus, a single executable (bun build --compile) with the native addon embedded,
// plus the links dist/streambus-broker and dist/streambus-cli that the deployment guide's commands use.
// `--outdir DIR` writes them to DIR instead of dist/ (a container build context made apart from dist/).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { bunPath } from './runtimes.mjs';

const outdirAt = process.argv.indexOf('--outdir');
const outdir = outdirAt === -1 ? 'dist' : process.argv[outdirAt + 1];
if (!outdir) {
  console.error('build:binary: --outdir needs a folder');
  process.exit(2);
}

const bun = bunPath();
if (!bun) {
  console.error('build:binary: bun is not installed (run npm ci)');
  process.exit(1);
}
if (!existsSync('build/Release/streambus.node')) {
  console.warn('build:binary: build/Release/streambus.node is missing; the binary will use the portable I/O backend');
}
mkdirSync(outdir, { recursive: true });
const result = spawnSync(bun, ['build', '--compile', '--minify-syntax', 'src/main.ts', '--outfile', join(outdir, 'streambus')], {
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);
for (const link of ['streambus-broker', 'streambus-cli']) {
  rmSync(join(outdir, link), { force: true });
  symlinkSync('streambus', join(outdir, link));
}
console.log(`built ${join(outdir, 'streambus')} (+ ${join(outdir, 'streambus-broker')}, ${join(outdir, 'streambus-cli')})`);
