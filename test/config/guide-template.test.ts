// Goal: the deployment guide's production template loads as written, with every key typed as the
// broker uses it (durations in ms, sizes in bytes, lists of nodes), and the shipped example file is
// that template verbatim.
// Method: load test/config/fixtures/guide-broker.yaml and compare every key with the expected value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inactiveKeysSet, loadConfig } from '../../src/config/index.ts';

const FIXTURE = 'test/config/fixtures/guide-broker.yaml';

test('the guide template parses with every key typed', () => {
  const c = loadConfig({ file: FIXTURE, env: {} });
  assert.deepEqual(c.server, {
    brokerId: 1, host: 'broker1.example.com', advertisedHost: 'broker1.example.com', port: 9092, httpPort: 8081,
    grpcPort: 9093, rack: '', maxConnections: 10000, shutdownTimeout: 10_000,
  });
  assert.equal(c.storage.dataDir, '/data/streambus');
  assert.equal(c.storage.raftDir, '/data/streambus/raft');
  assert.equal(c.storage.syncInterval, 1000);
  assert.equal(c.storage.compactionInterval, 3_600_000);
  assert.equal(c.storage.retentionDays, 7);
  assert.deepEqual(c.cluster.nodes, [
    { id: 1, host: 'broker1.example.com', port: 9092, grpcPort: 9093 },
    { id: 2, host: 'broker2.example.com', port: 9092, grpcPort: 9093 },
    { id: 3, host: 'broker3.example.com', port: 9092, grpcPort: 9093 },
  ]);
  assert.deepEqual(c.raft, { enabled: true, heartbeatTimeout: 1000, electionTimeout: 3000, snapshotInterval: 3_600_000, snapshotThreshold: 100000, quiesce: true });
  assert.deepEqual(c.security, {
    tls: {
      enabled: true, certFile: '/etc/streambus/certs/server.crt', keyFile: '/etc/streambus/certs/server.key', keyPassphrase: '',
      caFile: '/etc/streambus/certs/ca.crt', clientAuthRequired: true, plainHttpProbes: true, minVersion: 'TLSv1.2', ciphers: '',
    },
    authentication: {
      enabled: true, method: 'mtls', methods: [], failedAttemptDelay: 1_000, scram: { bootstrapUser: '', bootstrapPassword: '' }, mtls: { principalMappingRules: '' },
      jwt: { keyFile: '', jwksUrl: '', issuer: '', audience: '', algorithms: 'RS256,ES256', principalClaim: 'sub', clockSkew: 30_000 },
    },
    authorization: { enabled: false, superUsers: '', allowEveryoneIfNoAclFound: false },
  });
  assert.deepEqual(c.logging, { level: 'info', format: 'json', output: '/var/log/streambus/broker.log', maxSize: 100_000_000, maxBackups: 10, maxAge: 30 });
  assert.deepEqual(c.metrics, { enabled: true, port: 8081, path: '/metrics', interval: 30_000, requireAuthentication: false });
  assert.deepEqual(c.health, { enabled: true, livenessPath: '/health/live', readinessPath: '/health/ready', requireAuthentication: false });
  assert.deepEqual(c.multiTenancy, {
    enabled: true, jwtClaim: 'tenant', certificateField: 'O', principalMappingRules: '', defaultTenant: '',
    defaultQuotas: { maxTopics: 100, maxConnections: 1000, maxBandwidthMBps: 100 },
  });
  assert.deepEqual(c.observability, { tracing: { enabled: true, endpoint: 'jaeger-collector:4317', samplingRate: 0.1 } });
});

test('the guide template lists no not-yet-active keys (every feature it names is built)', () => {
  const c = loadConfig({ file: FIXTURE, env: {} });
  const inactive: string[] = inactiveKeysSet(c);
  assert.deepEqual([...inactive], []);
  assert.ok(!inactive.includes('observability.tracing.samplingRate'), 'tracing is built');
  assert.ok(!inactive.includes('multiTenancy.defaultQuotas.maxBandwidthMBps'), 'multi-tenancy is built');
  // Active keys and inactive keys the template leaves out are not listed.
  assert.ok(!inactive.includes('server.port'));
  for (const key of ['server.grpcPort', 'cluster.nodes', 'raft.enabled', 'raft.electionTimeout', 'raft.snapshotInterval']) assert.ok(!inactive.includes(key), `${key} is active`);
  assert.ok(!inactive.includes('storage.compactionInterval'), 'compaction runs, so its interval is active');
  assert.ok(!inactive.includes('security.tls.keyPassphrase'));
  for (const key of ['security.tls.enabled', 'security.authentication.method']) assert.ok(!inactive.includes(key), `${key} is active (TLS and mtls are built)`);
});

test('config/broker.example.yaml is the template verbatim', () => {
  assert.equal(readFileSync('config/broker.example.yaml', 'utf8'), readFileSync(FIXTURE, 'utf8'));
  assert.match(readFileSync(FIXTURE, 'utf8'), /^# \/etc\/streambus\/broker\.yaml\nserver:\n {2}brokerId: 1\n/);
});
