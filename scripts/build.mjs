// Compiles TypeScript into lib/ and links lib/build -> build so that the addon's one static path
// (src/io/real/native-addon.ts: "../../../build/Release/streambus.node") resolves both from src/
// (Bun, Deno, bun build --compile) and from the compiled tree lib/src/ (Node).
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, lstatSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', ...process.argv.slice(2)], { stdio: 'inherit' });
mkdirSync('lib', { recursive: true });
try {
  lstatSync('lib/build');
} catch {
  symlinkSync('../build', 'lib/build');
}
// tsc emits even when it reports type errors; a type error must still fail the build.
process.exit(result.status ?? 1);
