// Goal: printConfig shows the effective configuration with secrets masked, as YAML with units or JSON
// with raw numbers, and what it prints loads back to the same configuration.
// Method: print loaded configurations, look for the secret, reload the output through loadConfig.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { KEYS, loadConfig, printConfig } from '../../src/config/index.ts';
import { yamlFile } from './helpers.ts';

const SECRET = 'correct horse battery staple';

test('secrets are masked in both formats; non-secret paths are shown', () => {
  const c = loadConfig({ env: { STREAMBUS_SECURITY_TLS_KEY_PASSPHRASE: SECRET, STREAMBUS_SECURITY_TLS_KEY_FILE: '/etc/k.key' } });
  assert.equal(c.security.tls.keyPassphrase, SECRET);
  for (const format of ['yaml', 'json'] as const) {
    const text = printConfig(c, { format });
    assert.ok(!text.includes(SECRET), format);
    assert.ok(text.includes('********'), format);
    assert.ok(text.includes('/etc/k.key'), format);
  }
  assert.equal((parse(printConfig(c, { format: 'yaml' })) as { security: { tls: { keyPassphrase: string } } }).security.tls.keyPassphrase, '********');
  // An unset secret prints as empty, not as a mask that suggests a value exists.
  assert.match(printConfig(loadConfig({ env: {} }), { format: 'yaml' }), /keyPassphrase: ""/);
});

test('every secret key in the schema is masked', () => {
  const secrets = KEYS.filter((k) => k.spec.secret);
  assert.ok(secrets.length > 0);
  const env = Object.fromEntries(secrets.map((k) => [k.env, SECRET]));
  assert.ok(!printConfig(loadConfig({ env }), { format: 'json' }).includes(SECRET));
});

test('YAML shows units; JSON shows milliseconds and bytes', () => {
  const c = loadConfig({ file: 'test/config/fixtures/guide-broker.yaml', env: {} });
  const yaml = printConfig(c, { format: 'yaml' });
  assert.match(yaml, /syncInterval: 1s\n/);
  assert.match(yaml, /maxSize: 100MB\n/);
  assert.match(yaml, /segmentBytes: 1GiB\n/);
  const json = JSON.parse(printConfig(c, { format: 'json' }));
  assert.equal(json.storage.syncInterval, 1000);
  assert.equal(json.logging.maxSize, 100_000_000);
  assert.deepEqual(Object.keys(json), ['server', 'storage', 'kafka', 'cluster', 'raft', 'security', 'logging', 'metrics', 'health', 'multiTenancy', 'observability']);
});

test('printed output loads back to the same configuration', () => {
  const c = loadConfig({ file: 'test/config/fixtures/guide-broker.yaml', env: {}, overrides: { 'server.httpPort': '18081' } });
  for (const format of ['yaml', 'json'] as const) {
    const again = loadConfig({ file: yamlFile(`printed.${format}`, printConfig(c, { format })), env: {} });
    assert.deepEqual(again, c, format);
  }
});
