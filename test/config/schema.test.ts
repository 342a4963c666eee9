// Goal: the schema table is consistent with itself: every default passes its own type, names of
// environment variables and flags are unique, and every key of the guide's template is in it.
// Method: walk KEYS; parse the guide fixture as plain YAML and look up each of its leaf paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Derived } from '../../src/config/schema.ts';
import { KEYS } from '../../src/config/index.ts';

test('every default is a valid value of its key', () => {
  for (const { key, spec } of KEYS) {
    if (spec.default instanceof Derived) continue;
    const r = spec.type.parse(spec.default);
    assert.ok(r.ok, key);
    assert.deepEqual(r.value, spec.default, key);
    assert.ok(spec.description.endsWith('.'), `${key}: description is a sentence`);
  }
});

test('environment variable and flag names are unique', () => {
  const envs = KEYS.map((k) => k.env);
  assert.equal(new Set(envs).size, envs.length);
  const flags = KEYS.flatMap((k) => (k.spec.flag ? [k.spec.flag] : []));
  assert.equal(new Set(flags).size, flags.length);
  for (const env of envs) assert.match(env, /^STREAMBUS_[A-Z0-9_]+$/);
});

test('every leaf of the guide template is a schema key', () => {
  const leaves: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    } else leaves.push(path);
  };
  walk(parse(readFileSync('test/config/fixtures/guide-broker.yaml', 'utf8')), '');
  assert.equal(leaves.length, 44);
  const keys = new Set(KEYS.map((k) => k.key));
  for (const leaf of leaves) assert.ok(keys.has(leaf as never), leaf);
});
