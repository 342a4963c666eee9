// Goal: the container files agree with the broker and with each other on every machine, podman or
// not: each compose broker's STREAMBUS_* settings (with the file's default variables) are a valid
// configuration naming the same three-broker Raft cluster with its own id and published Kafka port;
// the image's broker.yaml is valid and keeps data in the volume; Prometheus scrapes exactly the
// compose brokers' HTTP ports and loads the shipped alert rules; the image's health check is the
// binary's own command with the configuration the broker runs with.
// Method: parse docker-compose.yml (YAML merge keys as compose reads them), expand ${VAR:-default} as
// compose does with no variable set, and load each broker's environment with loadConfig.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/index.ts';

interface Service {
  image?: string;
  environment?: Record<string, string | number>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
}
const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const BROKERS = ['broker1', 'broker2', 'broker3'];

/** Compose's interpolation with no variable set: ${VAR:-default} becomes the default. */
function withDefaults(value: string | number): string {
  return String(value).replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');
}

function brokerEnv(service: string): Record<string, string> {
  const env = compose.services[service]!.environment!;
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, withDefaults(v)]));
}

test('every compose broker has a valid configuration of the same three-broker Raft cluster', () => {
  const nodeLists = new Set<string>();
  for (const [index, service] of BROKERS.entries()) {
    const config = loadConfig({ env: brokerEnv(service) });
    assert.equal(config.server.brokerId, index + 1);
    assert.equal(config.raft.enabled, true);
    assert.equal(config.server.host, '0.0.0.0');
    assert.equal(config.storage.dataDir, '/data/streambus');
    assert.deepEqual(config.cluster.nodes.map((n) => n.host), BROKERS, 'peers are reached by service name');
    const own = config.cluster.nodes.find((n) => n.id === config.server.brokerId)!;
    // Clients are sent to the advertised host and server.port: the port must be published as is.
    const ports = compose.services[service]!.ports!.map(withDefaults);
    assert.ok(ports.includes(`127.0.0.1:${config.server.port}:${config.server.port}`), `${service} publishes its Kafka port ${config.server.port} unchanged`);
    assert.equal(own.grpcPort, config.server.grpcPort);
    assert.ok(compose.services[service]!.volumes!.includes(`${service}-data:/data/streambus`));
    assert.ok(`${service}-data` in compose.volumes);
    nodeLists.add(JSON.stringify(config.cluster.nodes));
  }
  assert.equal(nodeLists.size, 1, 'every broker lists the same voters');
});

test('the image configuration is valid and keeps data and Raft state in the volume', () => {
  const config = loadConfig({ file: 'deploy/container/broker.yaml', env: {} });
  assert.ok(config.storage.dataDir.startsWith('/data/streambus'));
  assert.ok(config.storage.raftDir.startsWith('/data/streambus'));
  assert.equal(config.logging.output, 'stdout');
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  assert.match(dockerfile, /^VOLUME \/data\/streambus$/m);
  assert.match(dockerfile, /^COPY deploy\/container\/broker\.yaml \/etc\/streambus\/broker\.yaml$/m);
  assert.match(dockerfile, /^CMD \["broker", "--config", "\/etc\/streambus\/broker\.yaml"\]$/m);
  // The health check reads the same configuration as the broker it probes.
  assert.match(dockerfile, /CMD \["streambus", "health", "--config", "\/etc\/streambus\/broker\.yaml"\]/);
  for (const service of BROKERS) assert.deepEqual(compose.services[service]!.healthcheck!.test, ['CMD', 'streambus', 'health', '--config', '/etc/streambus/broker.yaml']);
});

test('Prometheus scrapes the compose brokers and loads the shipped alert rules', () => {
  const prometheus = compose.services['prometheus']!;
  assert.ok(prometheus.volumes!.includes('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro'));
  assert.ok(prometheus.volumes!.includes('./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro'));
  const scrape = parse(readFileSync('deploy/prometheus/prometheus.yml', 'utf8')) as { rule_files: string[]; scrape_configs: { static_configs: { targets: string[] }[] }[] };
  assert.deepEqual(scrape.rule_files, ['alerts.yml']);
  const targets = scrape.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
  const httpPorts = BROKERS.map((service) => loadConfig({ env: brokerEnv(service) }).server.httpPort);
  assert.deepEqual(targets, BROKERS.map((service, i) => `${service}:${httpPorts[i]}`));
});
