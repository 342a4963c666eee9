// Goal: the deployment guide's production security settings (security.tls with clientAuthRequired, and
// authentication method mtls) work as written with certificates from the guide's openssl commands:
// kcat (librdkafka) and kafkajs produce and consume over SSL with a client certificate; refused with a
// log line and without harm to the broker: no client certificate, one from another CA, an expired one,
// plaintext Kafka bytes on the TLS port. HTTPS serves health and metrics (with the certificate expiry
// gauge) without a client certificate; the same port answers plain HTTP for health and metrics only
// (the guide's http:// probes and scrape), refusing the admin API and credentials there, and HTTPS only
// with security.tls.plainHttpProbes false; a new
// certificate takes over on SIGHUP while a connected
// client keeps working. Fail closed: a missing key file or an expired broker certificate stops the
// broker before it listens (exit 2, naming the key, the file and the problem); a TLS client that
// reaches a plaintext broker gets its connection closed with a clear log line.
// Method: real broker processes on 127.0.0.1 (test/helpers/broker-process.ts), certificates from
// test/helpers/certs.ts, kcat and kafkajs as clients.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { spawnSync } from 'node:child_process';
import kafkajs from 'kafkajs';
import { join } from 'node:path';
import { httpsGet, startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { guideTlsEnv, makeTestCerts, type TestCerts } from '../helpers/certs.ts';
import { runKcat } from '../helpers/kcat.ts';
import { requireTool } from '../helpers/tools.ts';
import { until } from '../helpers/timeout.ts';
import { freePort } from '../helpers/ports.ts';
import { runCli } from '../helpers/run-cli.ts';

let certs: TestCerts;
let broker: BrokerProcess;
let serverCert: string;
let serverKey: string;

const tlsEnv = (cert: string, key: string) => guideTlsEnv(certs, cert, key);

before(async () => {
  certs = makeTestCerts();
  // The broker reads its files where the test can replace them (rotation).
  serverCert = join(certs.dir, 'server.crt');
  serverKey = join(certs.dir, 'server.key');
  copyFileSync(certs.brokerCert, serverCert);
  copyFileSync(certs.brokerKey, serverKey);
  broker = await startBroker({ env: tlsEnv(serverCert, serverKey), httpsCa: certs.ca });
});

after(async () => {
  await broker?.stop();
  certs?.remove();
});

const kcatSsl = (client: { cert: string; key: string } | null, ca = certs.ca) => [
  '-b', `127.0.0.1:${broker.kafkaPort}`,
  '-X', 'security.protocol=ssl',
  '-X', `ssl.ca.location=${ca}`,
  ...(client === null ? [] : ['-X', `ssl.certificate.location=${client.cert}`, '-X', `ssl.key.location=${client.key}`]),
];

test('kcat produces and consumes over SSL with a client certificate', { timeout: 60_000 }, async (t) => {
  if (!requireTool(t, 'kcat')) return;
  const alice = certs.client('alice');
  const produced = await runKcat([...kcatSsl(alice), '-P', '-t', 'tls-kcat'], 'one\ntwo\nthree\n', 30_000);
  assert.equal(produced.code, 0, produced.stderr);
  const consumed = await runKcat([...kcatSsl(alice), '-C', '-t', 'tls-kcat', '-o', 'beginning', '-e', '-q'], null, 30_000);
  assert.equal(consumed.code, 0, consumed.stderr);
  assert.deepEqual(consumed.stdout.trim().split('\n'), ['one', 'two', 'three']);
});

test('kafkajs produces and consumes over SSL with a client certificate', { timeout: 60_000 }, async () => {
  const bob = certs.client('bob');
  const kafka = new kafkajs.Kafka({
    clientId: 'tls',
    brokers: [`127.0.0.1:${broker.kafkaPort}`],
    ssl: { ca: [readFileSync(certs.ca)], cert: readFileSync(bob.cert), key: readFileSync(bob.key) },
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: 'tls-kafkajs', acks: -1, messages: [{ value: 'a' }, { value: 'b' }] });
  } finally {
    await producer.disconnect();
  }
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets('tls-kafkajs');
    assert.deepEqual(offsets.map((o) => o.high), ['2']);
  } finally {
    await admin.disconnect();
  }
});

test('no client certificate, another CA, an expired certificate and plaintext bytes are refused with a log line', { timeout: 90_000 }, async (t) => {
  if (!requireTool(t, 'kcat')) return;
  const stranger = certs.client('stranger', { otherCa: true });
  const old = certs.client('old', { days: -1 });
  for (const [what, client] of [['no certificate', null], ['another CA', stranger], ['expired', old]] as const) {
    const run = await runKcat([...kcatSsl(client), '-L', '-m', '3'], null, 20_000);
    assert.notEqual(run.code, 0, `${what}: kcat must fail (${run.stdout})`);
  }
  // Plaintext Kafka bytes (an ApiVersions request) on the TLS port: the handshake fails, the socket closes.
  await new Promise<void>((resolve, reject) => {
    const socket = netConnect(broker.kafkaPort, '127.0.0.1', () => socket.write(Buffer.from('000000120012000300000001000474657374', 'hex')));
    socket.on('close', () => resolve());
    socket.on('error', () => undefined);
    setTimeout(() => reject(new Error('the broker kept a plaintext connection open')), 15_000).unref();
  });
  await until(() => broker.output().split('\n').filter((l) => l.includes('TLS handshake with a client failed')).length >= 4, 10_000, 'a log line per refused handshake');
  const lines = broker.output().split('\n').filter((l) => l.includes('TLS handshake with a client failed'));
  assert.ok(lines.some((l) => /certificate/i.test(l)), lines.join('\n'));
  // The broker is unharmed.
  assert.equal((await httpsGet(broker.httpPort, '/health/ready', { ca: certs.ca })).status, 200);
});

test('HTTPS serves health and metrics without a client certificate, with the certificate expiry gauge', async () => {
  const metrics = await httpsGet(broker.httpPort, '/metrics', { ca: certs.ca });
  assert.equal(metrics.status, 200);
  const expiry = Number(/^streambus_tls_certificate_expiry_seconds\{[^}]*\} (\S+)$/m.exec(metrics.body)?.[1]);
  assert.ok(expiry > 300 * 86_400 && expiry <= 366 * 86_400, `expiry ${expiry}`);
  // With authentication on, admin requests need credentials (here: a client certificate).
  const refused = await httpsGet(broker.httpPort, '/api/v1/brokers/1/decommission', { ca: certs.ca }, 'PUT');
  assert.equal(refused.status, 401);
});

test('the same port answers plain HTTP for the health checks and the metrics scrape only, as the guide probes them', async () => {
  const plain = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${broker.httpPort}${path}`, init);
  assert.equal((await plain('/health/live')).status, 200);
  assert.equal((await plain('/health/ready')).status, 200);
  const scraped = await plain('/metrics');
  assert.equal(scraped.status, 200);
  assert.match(await scraped.text(), /^streambus_broker_up(\{[^}]*\})? 1$/m);
  // The admin API, other paths, other methods and anything carrying credentials: 400, use HTTPS.
  const secret = 'Bearer not-to-be-logged-4711';
  for (const [path, init] of [
    ['/api/v1/brokers', undefined],
    ['/api/v1/brokers/1/decommission', { method: 'PUT' }],
    ['/nowhere', undefined],
    ['/metrics', { headers: { authorization: secret } }],
  ] as const) {
    const answer = await plain(path, init);
    assert.equal(answer.status, 400, path);
    const body = (await answer.json()) as { code: string; message: string };
    assert.equal(body.code, 'SB_ERR_INVALID_REQUEST');
    assert.match(body.message, /speaks HTTPS .*use https:\/\/.*\/health\/live, \/health\/ready, \/metrics/);
  }
  await until(() => broker.output().includes('credentialsInClear'), 5_000, 'the refusal logged');
  assert.ok(!broker.output().includes('not-to-be-logged-4711'), 'a credential sent in the clear reached the log');
  // HTTPS on the same port still verifies the broker: the certificate the client sees is the broker's.
  assert.equal((await httpsGet(broker.httpPort, '/health/live', { ca: certs.ca })).status, 200);
});

test('security.tls.plainHttpProbes false: the HTTP port speaks HTTPS only', async () => {
  const strict = await startBroker({ env: { ...tlsEnv(serverCert, serverKey), STREAMBUS_SECURITY_TLS_PLAIN_HTTP_PROBES: 'false' }, httpsCa: certs.ca });
  try {
    await assert.rejects(fetch(`http://127.0.0.1:${strict.httpPort}/health/live`), 'plain HTTP is not served');
    assert.equal((await httpsGet(strict.httpPort, '/health/live', { ca: certs.ca })).status, 200);
  } finally {
    assert.equal(await strict.stop(), 0);
  }
});

test('a new certificate takes over on SIGHUP; a connected client keeps working', { timeout: 60_000 }, async () => {
  const carol = certs.client('carol');
  const kafka = new kafkajs.Kafka({ clientId: 'rotation', brokers: [`127.0.0.1:${broker.kafkaPort}`], ssl: { ca: [readFileSync(certs.ca)], cert: readFileSync(carol.cert), key: readFileSync(carol.key) }, logLevel: kafkajs.logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: 'rotation', messages: [{ value: 'before' }] });
    const before = (await httpsGet(broker.httpPort, '/health/live', { ca: certs.ca })).fingerprint256;
    // A new key and certificate for the broker, signed by the same CA.
    const next = certs.client('broker-next', { days: 400, brokerNames: true });
    copyFileSync(next.cert, serverCert);
    copyFileSync(next.key, serverKey);
    broker.proc.kill('SIGHUP');
    await until(() => broker.output().includes('TLS certificate reloaded'), 10_000, 'the reload');
    const fingerprint = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: broker.kafkaPort, ca: readFileSync(certs.ca), cert: readFileSync(carol.cert), key: readFileSync(carol.key), checkServerIdentity: () => undefined }, () => {
        resolve(socket.getPeerCertificate().fingerprint256);
        socket.destroy();
      });
      socket.on('error', reject);
    });
    assert.notEqual(fingerprint, before, 'new connections get the new certificate');
    await producer.send({ topic: 'rotation', messages: [{ value: 'after' }] });
  } finally {
    await producer.disconnect();
  }
});

test('fail closed: a missing key file or an expired broker certificate stops the broker before it listens', { timeout: 60_000 }, async () => {
  const missing = join(certs.dir, 'absent.key');
  const expired = certs.client('broker-expired', { days: -1 });
  for (const [cert, key, expected] of [
    [certs.brokerCert, missing, /security\.tls\.keyFile: expected the PEM private key of the certificate, got ".*absent\.key" \(no such file\)/],
    [expired.cert, expired.key, /security\.tls\.certFile: expected a valid PEM certificate \(chain\), got ".*broker-expired\.crt" \(the certificate expired on /],
  ] as const) {
    const run = spawnSync(process.execPath, ['bin/streambus', 'broker'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, STREAMBUS_SERVER_PORT: String(await freePort()), STREAMBUS_SERVER_HTTP_PORT: String(await freePort()), STREAMBUS_STORAGE_DATA_DIR: join(certs.dir, 'data'), ...tlsEnv(cert, key) } });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, expected);
    const check = spawnSync(process.execPath, ['bin/streambus', 'config', 'validate', '--check-files'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...tlsEnv(cert, key) } });
    assert.notEqual(check.status, 0);
    assert.match(check.stdout + check.stderr, expected);
  }
});

test('a TLS client on a plaintext broker is closed with a clear log line', { timeout: 30_000 }, async () => {
  const plain = await startBroker();
  try {
    await new Promise<void>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: plain.kafkaPort, rejectUnauthorized: false });
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
    });
    await until(() => plain.output().includes('a TLS handshake reached this plaintext listener'), 10_000, 'the log line');
  } finally {
    await plain.stop();
  }
});

test("StreamBus's own CLI reaches the TLS listener and the HTTPS port with --ca-file, --cert-file and --key-file", { timeout: 60_000 }, async () => {
  const dave = certs.client('dave');
  const tlsArgs = ['--ca-file', certs.ca, '--cert-file', dave.cert, '--key-file', dave.key];
  const created = await runCli(['topic', 'create', 'cli-over-tls', '--partitions', '2', '--bootstrap-server', `127.0.0.1:${broker.kafkaPort}`, ...tlsArgs], 30_000);
  assert.equal(created.status, 0, created.stderr);
  const status = await runCli(['cluster', 'status', '--json', '--bootstrap-server', `127.0.0.1:${broker.kafkaPort}`, '--http', `127.0.0.1:${broker.httpPort}`, ...tlsArgs], 30_000);
  assert.equal(status.status, 0, status.stderr);
  const parsed = JSON.parse(status.stdout) as { health: { ready: boolean; url: string }; topics: number };
  assert.equal(parsed.health.ready, true);
  assert.match(parsed.health.url, /^https:\/\//);
  // Without a client certificate the broker refuses the handshake: the command fails, it does not hang.
  const refused = await runCli(['topic', 'list', '--bootstrap-server', `127.0.0.1:${broker.kafkaPort}`, '--ca-file', certs.ca, '--request-timeout-ms', '5000'], 30_000);
  assert.equal(refused.status, 1, refused.stdout);
  const usage = await runCli(['topic', 'list', '--bootstrap-server', `127.0.0.1:${broker.kafkaPort}`, '--cert-file', dave.cert], 30_000);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--cert-file and --key-file go together/);
});
