// Goal: imports point one way, as the layering table in docs/architecture.md says, and the pure
// layers (raft, metadata) touch no clock, randomness, timer or node: module.
// Method: parse every import in src/ with a regular expression and check it against the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname, normalize, relative } from 'node:path';

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The layer of a file under src/: its first folder, or 'io/real' and 'main' as special layers. */
function layer(path: string): string {
  const rel = relative('src', path).split('/');
  if (rel.length === 1) return rel[0]!.replace(/\.ts$/, '');
  if (rel[0] === 'io' && rel[1] === 'real') return 'io/real';
  return rel[0]!;
}

// Which layers each layer may import (besides itself). `main` may import everything.
const ALLOWED: Record<string, string[]> = {
  util: [],
  protocol: ['util'],
  raft: ['util'],
  metadata: ['util'],
  io: ['util'],
  'io/real': ['util', 'io'],
  storage: ['util', 'io', 'protocol'],
  replication: ['util', 'raft', 'storage', 'metadata', 'io', 'protocol'],
  groups: ['util', 'protocol', 'replication', 'metadata', 'io'],
  transactions: ['util', 'protocol', 'replication', 'metadata', 'groups', 'io'],
  broker: ['util', 'protocol', 'replication', 'metadata', 'groups', 'transactions', 'security', 'tenancy', 'observability', 'io', 'config', 'net'],
  net: ['util', 'protocol', 'io', 'security', 'tenancy', 'observability'],
  security: ['util', 'protocol', 'metadata', 'io'],
  tenancy: ['util', 'protocol', 'metadata', 'io'],
  config: ['util'],
  observability: ['util'],
  http: ['util', 'observability', 'replication', 'metadata', 'io', 'security'],
  client: ['util', 'protocol', 'config'],
  capacity: ['util'],
  backup: ['util', 'io', 'protocol', 'storage', 'replication'],
  admin: ['util', 'protocol', 'config', 'client', 'http'],
  cli: ['util', 'protocol', 'config', 'client', 'storage', 'io', 'observability', 'security', 'metadata', 'capacity', 'backup', 'admin'],
};
// Layers that must stay deterministic: no node: modules and no ambient time or randomness.
const PURE = new Set(['raft', 'metadata', 'capacity']);

const importRe = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g;

test('imports follow the layering table', () => {
  const violations: string[] = [];
  for (const file of files('src')) {
    const from = layer(file);
    // main.ts and app/ are the composition root: they may import every layer, and only main imports app.
    if (from === 'main' || from === 'app') continue;
    const allowed = ALLOWED[from];
    assert.ok(allowed, `no layering rule for ${file} (layer ${from}); add it to the table`);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (!spec.startsWith('.')) {
        if (PURE.has(from) && spec.startsWith('node:')) violations.push(`${file}: pure layer imports ${spec}`);
        continue;
      }
      const target = normalize(join(dirname(file), spec));
      if (!target.startsWith('src/')) {
        if (!(from === 'io/real' && target.startsWith('build/'))) violations.push(`${file}: imports outside src: ${spec}`);
        continue;
      }
      const to = layer(target);
      if (to === 'app') {
        violations.push(`${file}: only main.ts may import the composition root app/ (${spec})`);
        continue;
      }
      if (to !== from && !allowed.includes(to)) violations.push(`${file}: ${from} must not import ${to} (${spec})`);
    }
  }
  assert.deepEqual(violations, []);
});

test('pure layers use no clock, randomness or timers', () => {
  const banned = /\b(Date\.now|new Date\(|Math\.random|setTimeout|setInterval|setImmediate|performance\.now|process\.)/;
  const violations: string[] = [];
  for (const file of files('src')) {
    if (!PURE.has(layer(file))) continue;
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '');
      if (banned.test(code)) violations.push(`${file}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(violations, []);
});

test('test code stays out of src/', () => {
  const stray = files('src').filter((f) => /\.test\.ts$|\/test\//.test(f));
  assert.deepEqual(stray, []);
});
