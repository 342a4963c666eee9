// Builds dist/streambus, a single executable (bun build --compile) with the native addon embedded,
// plus the links dist/streambus-broker and dist/streambus-cli that the deployment guide's commands use.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { bunPath } from './runtimes.mjs';

const bun = bunPath();
if (!bun) {
  console.error('build:binary: bun is not installed (run npm ci)');
  process.exit(1);
}
if (!existsSync('build/Release/streambus.node')) {
  console.warn('build:binary: build/Release/streambus.node is missing; the binary will use the portable I/O backend');
}
mkdirSync('dist', { recursive: true });
const result = spawnSync(bun, ['build', '--compile', '--minify-syntax', 'src/main.ts', '--outfile', 'dist/streambus'], {
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);
for (const link of ['streambus-broker', 'streambus-cli']) {
  rmSync(`dist/${link}`, { force: true });
  symlinkSync('streambus', `dist/${link}`);
}
console.log('built dist/streambus (+ dist/streambus-broker, dist/streambus-cli)');
