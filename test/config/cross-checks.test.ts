// Goal: rules between keys are enforced with a message at the key the user set, saying why.
// Method: one small configuration per rule, through the file, the environment or flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.ts';
import { onlyProblem, problemsOf, yamlFile } from './helpers.ts';

test('Kafka and HTTP ports differ', () => {
  const p = onlyProblem('server:\n  port: 8081\n');
  assert.equal(p.line, 2);
  assert.match(p.message, /:2: server\.port: expected a port other than server\.httpPort \(8081\), got 8081 \(the Kafka and HTTP listeners cannot share a port\)$/);
  assert.equal(problemsOf({ overrides: { 'server.httpPort': '9092' } })[0]!.flag, '--http-port');
});

test('the broker-to-broker port, once set, differs from the others', () => {
  assert.match(onlyProblem('server:\n  grpcPort: 9092\n').message, /server\.grpcPort: expected a port other than server\.port \(9092\)/);
  // Left at its default it does not get in the way of a test broker on port 9093.
  assert.equal(loadConfig({ env: {}, overrides: { 'server.port': 9093 } }).server.port, 9093);
});

test('a wildcard bind address needs an advertised host', () => {
  const p = problemsOf({ overrides: { 'server.host': '0.0.0.0' } });
  assert.equal(p.length, 1);
  assert.match(p[0]!.message, /^--host: server\.host: expected a host name or address clients can connect to, got "0\.0\.0\.0" \(server\.host is a wildcard address, so set server\.advertisedHost\)$/);
  assert.match(onlyProblem('server:\n  advertisedHost: "::"\n').message, /server\.advertisedHost: .*a wildcard address cannot be advertised/);
});

test('election timeout above heartbeat', () => {
  assert.match(onlyProblem('raft:\n  heartbeatTimeout: 5s\n').message, /:2: raft\.heartbeatTimeout: expected a duration less than raft\.electionTimeout, got 5s \(/);
  assert.match(onlyProblem('raft:\n  electionTimeout: 1s\n').message, /:2: raft\.electionTimeout: expected a duration greater than raft\.heartbeatTimeout/);
});

test('frame, message and buffer limits nest', () => {
  assert.match(onlyProblem('kafka:\n  messageMaxBytes: 200MiB\n').message, /kafka\.messageMaxBytes: expected at most kafka\.maxFrameBytes \(104857600\), got 209715200 \(a record batch travels inside one request frame\)/);
  assert.match(onlyProblem('kafka:\n  maxBufferedBytesPerConnection: 1MiB\n').message, /kafka\.maxBufferedBytesPerConnection: expected at least kafka\.maxFrameBytes/);
});

test('TLS needs its files; mTLS needs client certificates', () => {
  const p = problemsOf({ file: undefined, env: { STREAMBUS_SECURITY_TLS_ENABLED: 'true', STREAMBUS_SECURITY_TLS_CLIENT_AUTH_REQUIRED: 'true' } });
  assert.deepEqual(p.map((x) => x.key), ['security.tls.certFile', 'security.tls.keyFile', 'security.tls.caFile']);
  assert.match(p[0]!.message, /^security\.tls\.certFile: expected a file path, got "" \(security\.tls\.enabled is true\)$/);
  const mtls = onlyProblem('security:\n  tls:\n    enabled: false\n  authentication:\n    enabled: true\n    method: mtls\n');
  assert.equal(mtls.key, 'security.tls.enabled');
  assert.equal(mtls.line, 3);
  assert.match(mtls.message, /identifies clients by their TLS certificate/);
  assert.equal(loadConfig({ env: {}, overrides: {}, file: undefined }).security.authentication.method, 'mtls');
});

test('tracing needs an endpoint', () => {
  assert.match(onlyProblem('observability:\n  tracing:\n    enabled: true\n').message, /observability\.tracing\.endpoint: expected a collector address/);
});

test('HTTP paths are distinct', () => {
  const p = onlyProblem('health:\n  readinessPath: /metrics\n');
  assert.match(p.message, /:2: health\.readinessPath: expected a path other than metrics\.path \(\/metrics\), got "\/metrics"/);
  // A disabled endpoint does not claim its path.
  assert.equal(loadConfig({ env: { STREAMBUS_METRICS_ENABLED: 'false', STREAMBUS_HEALTH_READINESS_PATH: '/metrics' } }).health.readinessPath, '/metrics');
});

test('a broker outside cluster.nodes joins a cluster of at least two listed brokers', () => {
  const p = onlyProblem('server:\n  brokerId: 7\ncluster:\n  nodes:\n    - {id: 1, host: a, port: 9092}\n');
  assert.equal(p.key, 'server.brokerId');
  assert.match(p.message, /:2: server\.brokerId: expected 1, the id of the only broker in cluster\.nodes, got 7 \(a broker joins a cluster of at least 2 listed brokers; one listed broker runs alone\)$/);
  const nodes = 'cluster:\n  nodes:\n    - {id: 1, host: a, port: 9092}\n    - {id: 2, host: b, port: 9092}\n';
  const added = loadConfig({ file: yamlFile('added.yaml', `server:\n  brokerId: 4\n  advertisedHost: c\nraft:\n  enabled: true\n${nodes}`) });
  assert.equal(added.server.brokerId, 4);
  assert.match(onlyProblem(`server:\n  brokerId: 4\n  advertisedHost: c\n${nodes}`).message, /raft\.enabled: expected true/);
  assert.match(onlyProblem(`server:\n  brokerId: 4\n  advertisedHost: a\nraft:\n  enabled: true\n${nodes}`).message, /server\.grpcPort: expected ports other than broker 1's on host a/);
});

test('brokers sharing a host: each entry has its own ports', () => {
  const three = (own: string) =>
    `server:\n  brokerId: 2\n${own}raft:\n  enabled: true\ncluster:\n  nodes:\n` +
    `    - {id: 1, host: 127.0.0.1, port: 19092, grpcPort: 19093}\n` +
    `    - {id: 2, host: 127.0.0.1, port: 29092, grpcPort: 29093}\n` +
    `    - {id: 3, host: 127.0.0.1, port: 39092, grpcPort: 39093}\n`;
  const c = loadConfig({ file: yamlFile('shared-host.yaml', three('  port: 29092\n  grpcPort: 29093\n')) });
  assert.deepEqual(c.cluster.nodes.map((n) => n.grpcPort), [19093, 29093, 39093]);
  const clash = problemsOf({ file: yamlFile('clash.yaml', 'cluster:\n  nodes:\n    - {id: 1, host: h, port: 9092}\n    - {id: 2, host: h, port: 9092}\n') });
  assert.ok(clash.some((p) => /nodes 1 and 2 both at h:9092/.test(p.message)), clash.map((p) => p.message).join('\n'));
  assert.ok(clash.some((p) => /nodes 1 and 2 both at h:9093/.test(p.message)), 'grpcPort defaults to 9093 for both');
});

test('a broker of a cluster: raft enabled, ids from 1, its own entry where it listens', () => {
  const nodes = 'cluster:\n  nodes:\n    - {id: 1, host: h, port: 9092, grpcPort: 9093}\n    - {id: 2, host: h2, port: 9092}\n';
  assert.match(onlyProblem(nodes).message, /raft\.enabled: expected true when cluster\.nodes names other brokers/);
  assert.match(onlyProblem(`raft:\n  enabled: true\nserver:\n  port: 9400\n${nodes}`).message, /expected port 9400 \(server\.port\) in the entry of broker 1, got 9092/);
  assert.match(onlyProblem(`raft:\n  enabled: true\nserver:\n  grpcPort: 9500\n${nodes}`).message, /server\.grpcPort: expected 9093, the grpcPort of broker 1 in cluster\.nodes, got 9500/);
  assert.match(
    onlyProblem('raft:\n  enabled: true\nserver:\n  brokerId: 0\ncluster:\n  nodes:\n    - {id: 0, host: h, port: 9092}\n    - {id: 2, host: h2, port: 9092}\n').message,
    /broker ids from 1 in a cluster/,
  );
  // A list holding only this broker is a single broker: no Raft needed.
  assert.equal(loadConfig({ file: yamlFile('solo.yaml', 'cluster:\n  nodes:\n    - {id: 1, host: h, port: 9092}\n'), env: {} }).cluster.nodes.length, 1);
});

test('cluster.nodes from the environment: id@host:port[:grpcPort]', () => {
  const c = loadConfig({ env: { STREAMBUS_CLUSTER_NODES: '1@127.0.0.1:9092:9093,2@127.0.0.1:9192:9193', STREAMBUS_SERVER_BROKER_ID: '1', STREAMBUS_RAFT_ENABLED: 'true' } });
  assert.deepEqual(c.cluster.nodes, [{ id: 1, host: '127.0.0.1', port: 9092, grpcPort: 9093 }, { id: 2, host: '127.0.0.1', port: 9192, grpcPort: 9193 }]);
});
