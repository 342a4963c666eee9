// Goal: with no file, no environment and no flags the broker gets the embedded defaults: Kafka on
// 127.0.0.1:9092, HTTP on 127.0.0.1:8081, data in ./data, JSON logs to stdout at info, security off,
// metrics and health on at the guide's paths; the result is deeply frozen and lists no inactive keys.
// Method: load with an empty environment and inspect the result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { inactiveKeysSet, loadConfig } from '../../src/config/index.ts';

test('embedded defaults', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.server.host, '127.0.0.1');
  assert.equal(c.server.port, 9092);
  assert.equal(c.server.httpPort, 8081);
  assert.equal(c.metrics.port, 8081);
  assert.equal(c.storage.dataDir, resolve('data'));
  assert.equal(c.storage.raftDir, resolve('data', 'raft'));
  assert.equal(c.storage.syncInterval, 1000);
  assert.equal(c.storage.ioMode, 'buffered');
  assert.equal(c.storage.segmentBytes, 2 ** 30);
  assert.equal(c.storage.retentionBytes, -1);
  assert.equal(c.storage.indexIntervalBytes, 4096);
  assert.deepEqual({ ...c.logging }, { level: 'info', format: 'json', output: 'stdout', maxSize: 100_000_000, maxBackups: 10, maxAge: 30 });
  assert.equal(c.security.tls.enabled, false);
  assert.equal(c.security.authentication.enabled, false);
  assert.deepEqual({ ...c.metrics }, { enabled: true, port: 8081, path: '/metrics', interval: 30_000, requireAuthentication: false });
  assert.deepEqual({ ...c.health }, { enabled: true, livenessPath: '/health/live', readinessPath: '/health/ready', requireAuthentication: false });
  assert.equal(c.kafka.autoCreateTopics, true);
  assert.equal(c.kafka.maxFrameBytes, 100 * 2 ** 20);
  assert.equal(c.kafka.messageMaxBytes, 1048588);
  assert.equal(c.kafka.groupInitialRebalanceDelayMs, 3000);
  assert.equal(c.server.shutdownTimeout, 10_000);
  assert.deepEqual(c.cluster.nodes, []);
  assert.deepEqual(inactiveKeysSet(c), []);
});

test('the configuration is deeply frozen', () => {
  const c = loadConfig({ env: {}, overrides: {} });
  assert.ok(Object.isFrozen(c));
  assert.ok(Object.isFrozen(c.server));
  assert.ok(Object.isFrozen(c.security.tls));
  assert.ok(Object.isFrozen(c.cluster.nodes));
  assert.throws(() => {
    (c.server as { port: number }).port = 1;
  }, TypeError);
});

test('each load returns its own object', () => {
  assert.notEqual(loadConfig({ env: {} }), loadConfig({ env: {} }));
});
