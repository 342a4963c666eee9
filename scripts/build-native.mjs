// Builds the native I/O addon during `npm ci`. A failed build is not fatal: the broker then runs on the
// portable node:fs backend and says so in its log, so installs on machines without a compiler still work.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync('binding.gyp')) process.exit(0);
const gyp = process.platform === 'win32' ? 'node-gyp.cmd' : 'node-gyp';
const result = spawnSync(gyp, ['rebuild'], { stdio: 'inherit' });
if (result.status !== 0) {
  console.warn('streambus: native addon build failed; the portable I/O backend will be used.');
}
