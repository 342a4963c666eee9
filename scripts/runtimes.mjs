// Locates the Bun and Deno executables that npm installed (their platform packages carry the
// binaries, so they work even though their own postinstall scripts are not run).
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function firstExisting(paths) {
  return paths.find((p) => existsSync(p)) ?? null;
}

export function bunPath() {
  return firstExisting([
    join(root, 'node_modules/@oven/bun-linux-x64/bin/bun'),
    join(root, 'node_modules/@oven/bun-linux-x64-baseline/bin/bun'),
    join(root, 'node_modules/@oven/bun-linux-aarch64/bin/bun'),
  ]);
}

export function denoPath() {
  return firstExisting([
    join(root, 'node_modules/@deno/linux-x64-glibc/deno'),
    join(root, 'node_modules/@deno/linux-x64-glibc/bin/deno'),
    join(root, 'node_modules/@deno/linux-arm64-glibc/deno'),
  ]);
}
