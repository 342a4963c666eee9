// Goal: inactiveKeysSet lists exactly the keys of not-yet-built features that the user set, wherever
// they were set (file, environment, flag), in schema order, and never active keys or untouched ones.
// Every feature is built now, so the list is empty; the FEATURES switch test keeps the mechanism honest.
// Method: set a mix of active and inactive keys through each source and compare the lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURES, KEYS, inactiveKeysSet, loadConfig } from '../../src/config/index.ts';
import { yamlFile } from './helpers.ts';

test('keys of built features are never listed, wherever they were set', () => {
  const file = yamlFile('inactive.yaml', 'server:\n  port: 9100\n  grpcPort: 9101\nraft:\n  enabled: false\nstorage:\n  compactionInterval: 10m\n');
  const c = loadConfig({ file, env: { STREAMBUS_OBSERVABILITY_TRACING_ENDPOINT: 'collector:4317', STREAMBUS_LOGGING_LEVEL: 'warn' } });
  // Every feature is built now (tracing was the last), so nothing is listed.
  assert.deepEqual(inactiveKeysSet(c), []);
});

test('keys belong to the features that are not built yet, and follow their FEATURES switch', () => {
  const expected: [string, string][] = [
    ['cluster.', 'cluster'], ['raft.', 'raft'], ['security.tls.', 'tls'], ['security.authentication.', 'authentication'],
    ['multiTenancy.', 'multiTenancy'], ['observability.tracing.', 'tracing'], ['server.grpcPort', 'grpc'], ['storage.compactionInterval', 'compaction'],
  ];
  for (const k of KEYS) {
    const feature = expected.find(([prefix]) => k.key.startsWith(prefix))?.[1];
    assert.equal(k.spec.feature, feature, k.key);
    assert.equal(k.active, feature === undefined || FEATURES[feature as keyof typeof FEATURES], k.key);
  }
});

test('inactiveKeysSet refuses an object that loadConfig did not make', () => {
  const copy = structuredClone(loadConfig({ env: {} }));
  assert.throws(() => inactiveKeysSet(copy), TypeError);
});
