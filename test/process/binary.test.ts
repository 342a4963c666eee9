// Goal: `npm run build:binary` makes dist/streambus, a single executable that runs from any folder
// with no Node.js on PATH and no node_modules beside it, embeds the native addon, answers as
// streambus-broker and streambus-cli through links, becomes ready, serves metrics and exits 0 on SIGTERM.
// Method: build it, copy it alone into a temporary folder, run it there with PATH reduced to /usr/bin:/bin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '../helpers/broker-process.ts';
import { apiVersionsProbe } from '../helpers/kafka-probe.ts';
import { startOtlpReceiver } from '../helpers/otlp-receiver.ts';

const folder = mkdtempSync(join(tmpdir(), 'streambus-binary-'));
// PATH holds only an empty folder: no node, no bun, nothing the binary could lean on.
const emptyBin = join(folder, 'empty-bin');
mkdirSync(emptyBin);
const bare = { PATH: emptyBin, HOME: folder };

test('build:binary produces dist/streambus', { timeout: 180_000 }, () => {
  const r = spawnSync(process.execPath, ['scripts/build-binary.mjs'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.ok(existsSync('dist/streambus'));
  copyFileSync('dist/streambus', join(folder, 'streambus'));
  symlinkSync('streambus', join(folder, 'streambus-broker'));
  symlinkSync('streambus', join(folder, 'streambus-cli'));
});

test('the binary answers version and doctor as streambus-cli, without node', () => {
  const v = spawnSync(join(folder, 'streambus-cli'), ['version'], { cwd: folder, env: bare, encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /^streambus \d+\.\d+\.\d+/);
  const d = spawnSync(join(folder, 'streambus'), ['doctor', '--data-dir', join(folder, 'data'), '--json'], { cwd: folder, env: bare, encoding: 'utf8' });
  assert.equal(d.status, 0, d.stderr);
  const report = JSON.parse(d.stdout);
  assert.equal(report.runtime, 'bun');
  assert.equal(report.ioBackend, 'native', 'the addon is embedded in the binary');
});

test('the binary exports OpenTelemetry spans over OTLP/gRPC (the SDK and gRPC client compiled in)', async () => {
  const receiver = await startOtlpReceiver();
  const broker = await startBroker({
    runtime: 'binary',
    command: join(folder, 'streambus-broker'),
    noBrokerArg: true,
    baseEnv: bare,
    env: { STREAMBUS_OBSERVABILITY_TRACING_ENABLED: 'true', STREAMBUS_OBSERVABILITY_TRACING_ENDPOINT: `127.0.0.1:${receiver.port}`, STREAMBUS_OBSERVABILITY_TRACING_SAMPLING_RATE: '1' },
  });
  try {
    assert.ok((await apiVersionsProbe(broker.kafkaPort)).has(3));
  } finally {
    // The stop flushes the queued spans.
    assert.equal(await broker.stop(), 0, broker.output());
    await receiver.stop();
  }
  const span = receiver.spans.find((s) => s.attributes['rpc.method'] === 'ApiVersions' || s.name.includes('ApiVersions'));
  assert.ok(span !== undefined, `no ApiVersions span among ${receiver.spans.map((s) => s.name).join(', ') || 'none'}`);
  assert.equal(span.resource['service.name'], 'streambus');
});

test('streambus-broker runs a broker: ready, metrics, Kafka, SIGTERM exits 0', async () => {
  const broker = await startBroker({ runtime: 'binary', command: join(folder, 'streambus-broker'), noBrokerArg: true, baseEnv: bare });
  try {
    const metrics = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text();
    assert.match(metrics, /^streambus_broker_up\{[^}]*\} 1$/m);
    assert.ok((await apiVersionsProbe(broker.kafkaPort)).has(3));
  } finally {
    assert.equal(await broker.stop(), 0, broker.output());
    rmSync(folder, { recursive: true, force: true });
  }
});
