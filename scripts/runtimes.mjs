// Locates the Bun and Deno executables that npm installed. Where npm runs bun's postinstall, the binary
// is moved from its platform package into node_modules/bun/bin/bun.exe; where the script is blocked it
// stays in the platform package (node_modules/@oven/bun-<platform>/bin/bun). Either is a real
// executable; node_modules/bun/bin/bun.exe is otherwise a small placeholder script, which is skipped.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const REAL_BINARY_MIN_BYTES = 1024 * 1024;

function firstBinary(paths) {
  return paths.find((p) => existsSync(p) && statSync(p).size >= REAL_BINARY_MIN_BYTES) ?? null;
}

export function bunPath() {
  return firstBinary([
    join(root, 'node_modules/@oven/bun-linux-x64/bin/bun'),
    join(root, 'node_modules/@oven/bun-linux-x64-baseline/bin/bun'),
    join(root, 'node_modules/@oven/bun-linux-aarch64/bin/bun'),
    join(root, 'node_modules/bun/bin/bun.exe'),
  ]);
}

export function denoPath() {
  return firstBinary([
    join(root, 'node_modules/@deno/linux-x64-glibc/deno'),
    join(root, 'node_modules/@deno/linux-arm64-glibc/deno'),
    join(root, 'node_modules/deno/bin/deno.exe'),
    join(root, 'node_modules/deno/bin/deno'),
  ]);
}
