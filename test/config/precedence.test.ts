// Goal: values come from defaults < file < STREAMBUS_* environment < flag overrides, each parsed by the
// key's type; errors from the environment and from flags name the variable or the flag; relative paths
// resolve against the working directory; metrics.port only ever repeats server.httpPort.
// Method: load with explicit env and overrides (never the real process environment) and compare.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLI_FLAGS, configOrigin, envName, flagOverrides, loadConfig } from '../../src/config/index.ts';
import { problemsOf, yamlFile } from './helpers.ts';

const FILE = 'server:\n  port: 9000\n  httpPort: 9001\nlogging:\n  level: warn\n';

test('file over defaults, environment over file, flags over environment', () => {
  const file = yamlFile('layers.yaml', FILE);
  assert.equal(loadConfig({ file, env: {} }).server.port, 9000);
  assert.equal(loadConfig({ file, env: { STREAMBUS_SERVER_PORT: '19092' } }).server.port, 19092);
  const c = loadConfig({ file, env: { STREAMBUS_SERVER_PORT: '19092', STREAMBUS_LOGGING_LEVEL: 'debug' }, overrides: { 'server.port': '29092' } });
  assert.equal(c.server.port, 29092);
  assert.equal(c.logging.level, 'debug');
  assert.equal(c.server.httpPort, 9001);
  assert.equal(c.storage.syncInterval, 1000);
  assert.deepEqual(configOrigin(c, 'server.port'), { kind: 'flag', flag: '--port' });
  assert.deepEqual(configOrigin(c, 'logging.level'), { kind: 'env', env: 'STREAMBUS_LOGGING_LEVEL' });
  assert.deepEqual(configOrigin(c, 'server.httpPort'), { kind: 'file', file, line: 3 });
  assert.deepEqual(configOrigin(c, 'storage.syncInterval'), { kind: 'default' });
});

test('environment variable names are STREAMBUS_ plus the key path in upper snake case', () => {
  assert.equal(envName('server.port'), 'STREAMBUS_SERVER_PORT');
  assert.equal(envName('storage.dataDir'), 'STREAMBUS_STORAGE_DATA_DIR');
  assert.equal(envName('logging.level'), 'STREAMBUS_LOGGING_LEVEL');
  assert.equal(envName('security.tls.caFile'), 'STREAMBUS_SECURITY_TLS_CA_FILE');
  assert.equal(envName('multiTenancy.defaultQuotas.maxBandwidthMBps'), 'STREAMBUS_MULTI_TENANCY_DEFAULT_QUOTAS_MAX_BANDWIDTH_MBPS');
});

test('environment values are parsed by the key type', () => {
  const c = loadConfig({
    cwd: '/srv',
    env: {
      STREAMBUS_STORAGE_DATA_DIR: 'streams',
      STREAMBUS_STORAGE_SYNC_INTERVAL: '250ms',
      STREAMBUS_STORAGE_SEGMENT_BYTES: '512MiB',
      STREAMBUS_KAFKA_AUTO_CREATE_TOPICS: 'false',
      STREAMBUS_OBSERVABILITY_TRACING_SAMPLING_RATE: '0.25',
      STREAMBUS_LOGGING_FORMAT: 'PRETTY',
      STREAMBUS_CLUSTER_NODES: '1@a.example:9092, 2@b.example:9092',
      STREAMBUS_RAFT_ENABLED: 'true',
    },
  });
  assert.equal(c.storage.dataDir, '/srv/streams');
  assert.equal(c.storage.raftDir, '/srv/streams/raft');
  assert.equal(c.storage.syncInterval, 250);
  assert.equal(c.storage.segmentBytes, 512 * 2 ** 20);
  assert.equal(c.kafka.autoCreateTopics, false);
  assert.equal(c.observability.tracing.samplingRate, 0.25);
  assert.equal(c.logging.format, 'pretty');
  assert.deepEqual(c.cluster.nodes, [{ id: 1, host: 'a.example', port: 9092, grpcPort: 9093 }, { id: 2, host: 'b.example', port: 9092, grpcPort: 9093 }]);
});

test('an environment error names the variable', () => {
  const [p, ...rest] = problemsOf({ env: { STREAMBUS_SERVER_PORT: 'abc' } });
  assert.equal(rest.length, 0);
  assert.equal(p!.env, 'STREAMBUS_SERVER_PORT');
  assert.equal(p!.message, 'environment STREAMBUS_SERVER_PORT: server.port: expected an integer between 1 and 65535, got "abc"');
  assert.match(problemsOf({ env: { STREAMBUS_CLUSTER_NODES: '1@a' } })[0]!.message,
    /^environment STREAMBUS_CLUSTER_NODES: cluster\.nodes: expected a list of \{id, host, port, grpcPort\?\} entries/);
  assert.equal(problemsOf({ env: { STREAMBUS_CLUSTER_NODES: '1@a:9092,1@b:0' } }).map((x) => x.message).join('\n'), [
    'environment STREAMBUS_CLUSTER_NODES: cluster.nodes[1].port: expected an integer between 1 and 65535, got "0"',
    'environment STREAMBUS_CLUSTER_NODES: cluster.nodes[1].id: expected an id not used by another node, got 1',
  ].join('\n'));
});

test('STREAMBUS_ variables that name no key are ignored', () => {
  assert.equal(loadConfig({ env: { STREAMBUS_LOG_LEVEL: 'warn', STREAMBUS_WHATEVER: 'x' } }).logging.level, 'info');
});

test('CLI_FLAGS covers the common keys and maps parsed arguments to overrides', () => {
  assert.deepEqual(CLI_FLAGS.map((f) => [f.flag, f.key]), [
    ['broker-id', 'server.brokerId'], ['host', 'server.host'], ['port', 'server.port'], ['http-port', 'server.httpPort'],
    ['data-dir', 'storage.dataDir'], ['io-mode', 'storage.ioMode'], ['sync-interval', 'storage.syncInterval'],
    ['log-level', 'logging.level'], ['log-format', 'logging.format'],
  ]);
  for (const f of CLI_FLAGS) assert.ok(f.description.length > 10 && f.type === 'string', f.flag);
  const overrides = flagOverrides({ port: '19092', 'io-mode': 'direct', _: [], $0: 'streambus', config: 'x.yaml', host: undefined });
  assert.deepEqual(overrides, { 'server.port': '19092', 'storage.ioMode': 'direct' });
  const c = loadConfig({ env: {}, overrides });
  assert.equal(c.server.port, 19092);
  assert.equal(c.storage.ioMode, 'direct');
});

test('a flag error names the flag; an unknown override key gets a suggestion', () => {
  const [p] = problemsOf({ overrides: { 'server.port': 'abc' } });
  assert.equal(p!.flag, '--port');
  assert.equal(p!.message, '--port: server.port: expected an integer between 1 and 65535, got "abc"');
  assert.match(problemsOf({ overrides: { 'storage.ioMode': 'fast' } })[0]!.message, /^--io-mode: storage\.ioMode: expected one of direct, buffered, got "fast"$/);
  const [unknown] = problemsOf({ overrides: { 'server.prot': 1 } });
  assert.equal(unknown!.suggestion, 'server.port');
  // Typed values are accepted as well as strings, and undefined means "not given".
  assert.equal(loadConfig({ env: {}, overrides: { 'server.port': 19093, 'server.host': undefined } }).server.port, 19093);
});

test('relative paths resolve against the working directory, not the file folder', () => {
  const file = yamlFile('paths.yaml', 'storage:\n  dataDir: ./d\n  raftDir: r\nlogging:\n  output: logs/broker.log\n');
  const c = loadConfig({ file, env: {}, cwd: '/opt/streambus' });
  assert.equal(c.storage.dataDir, '/opt/streambus/d');
  assert.equal(c.storage.raftDir, '/opt/streambus/r');
  assert.equal(c.logging.output, '/opt/streambus/logs/broker.log');
  const defaults = loadConfig({ env: {}, cwd: '/opt/streambus' });
  assert.equal(defaults.storage.dataDir, '/opt/streambus/data');
  assert.equal(defaults.storage.raftDir, '/opt/streambus/data/raft');
  assert.equal(defaults.logging.output, 'stdout');
  assert.equal(loadConfig({ env: { STREAMBUS_LOGGING_OUTPUT: 'stderr' } }).logging.output, 'stderr');
});

test('metrics.port must repeat server.httpPort, and follows it when a later source moves it', () => {
  const p = problemsOf({ file: yamlFile('metrics.yaml', 'server:\n  httpPort: 8081\nmetrics:\n  port: 9100\n') });
  assert.equal(p.length, 1);
  assert.equal(p[0]!.line, 4);
  assert.match(p[0]!.message, /:4: metrics\.port: expected 8081 \(the value of server\.httpPort\) or no metrics\.port at all, got 9100 \(metrics are served by the HTTP server on server\.httpPort; a separate metrics port is not supported\)$/);

  const consistent = yamlFile('metrics-ok.yaml', 'server:\n  httpPort: 8081\nmetrics:\n  port: 8081\n');
  const moved = loadConfig({ file: consistent, env: {}, overrides: { 'server.httpPort': '18081' } });
  assert.equal(moved.server.httpPort, 18081);
  assert.equal(moved.metrics.port, 18081);
  assert.equal(loadConfig({ env: { STREAMBUS_SERVER_HTTP_PORT: '18081' } }).metrics.port, 18081);
  assert.match(problemsOf({ file: consistent, env: { STREAMBUS_METRICS_PORT: '18081' } })[0]!.message, /^environment STREAMBUS_METRICS_PORT: metrics\.port: expected 8081/);
});

test('server.advertisedHost follows server.host unless set', () => {
  assert.equal(loadConfig({ env: {}, overrides: { 'server.host': '10.0.0.5' } }).server.advertisedHost, '10.0.0.5');
  const c = loadConfig({ env: { STREAMBUS_SERVER_ADVERTISED_HOST: 'broker1.example.com' }, overrides: { 'server.host': '0.0.0.0' } });
  assert.equal(c.server.host, '0.0.0.0');
  assert.equal(c.server.advertisedHost, 'broker1.example.com');
});
