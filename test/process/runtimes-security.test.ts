// Goal: the security layer works under Bun and Deno as under Node: the TLS Kafka listener, HTTPS
// health (and plain-HTTP health on the same port), admin requests authenticated over HTTPS, SCRAM-SHA-512 against a bootstrap user (PBKDF2 and HMAC from node:crypto), and under Bun an
// mtls client in the same listener (client certificates checked against the CA); a wrong password is
// refused. Deno's TLS server does not take client certificates, so under Deno a configuration that
// relies on them does not start (exit 2, saying so) instead of refusing every client.
// Method: src/main.ts under each runtime with TLS, methods [mtls, scram-sha-512] (Deno: scram-sha-512
// alone); kafkajs over TLS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import kafkajs from 'kafkajs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.ts';
import { httpsGet, runtimeCommand, startBroker, type Runtime } from '../helpers/broker-process.ts';
import { guideTlsEnv, makeTestCerts, type TestCerts } from '../helpers/certs.ts';

let certs: TestCerts;

before(() => {
  certs = makeTestCerts();
});

after(() => certs?.remove());

for (const runtime of ['bun', 'deno'] as Runtime[]) {
  test(`${runtime}: TLS listener${runtime === 'bun' ? ' with client certificates' : ''} and SCRAM-SHA-512`, { timeout: 90_000 }, async () => {
    const broker = await startBroker({
      runtime,
      readyTimeoutMs: 30_000,
      httpsCa: certs.ca,
      env: {
        ...guideTlsEnv(certs),
        STREAMBUS_SECURITY_TLS_CLIENT_AUTH_REQUIRED: 'false',
        STREAMBUS_SECURITY_AUTHENTICATION_METHODS: runtime === 'deno' ? 'scram-sha-512' : 'mtls,scram-sha-512',
        STREAMBUS_SECURITY_AUTHENTICATION_FAILED_ATTEMPT_DELAY: '0ms',
        STREAMBUS_SECURITY_AUTHENTICATION_SCRAM_BOOTSTRAP_USER: 'admin',
        STREAMBUS_SECURITY_AUTHENTICATION_SCRAM_BOOTSTRAP_PASSWORD: 'admin-pw',
      },
    });
    try {
      assert.equal((await httpsGet(broker.httpPort, '/health/ready', { ca: certs.ca })).status, 200);
      // The HTTPS port also answers the guide's plain http:// probes, and nothing else in plain HTTP.
      assert.equal((await fetch(`http://127.0.0.1:${broker.httpPort}/health/live`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${broker.httpPort}/api/v1/brokers`)).status, 400);
      // Admin requests over HTTPS on that port need credentials: a client certificate (Bun) or Basic.
      assert.equal((await httpsGet(broker.httpPort, '/api/v1/brokers', { ca: certs.ca })).status, 401);
      const credentials =
        runtime === 'bun'
          ? await httpsGet(broker.httpPort, '/api/v1/brokers', { ca: certs.ca, ...certs.client('operator') })
          : await httpsGet(broker.httpPort, '/api/v1/brokers', { ca: certs.ca }, 'GET', { authorization: `Basic ${Buffer.from('admin:admin-pw').toString('base64')}` });
      assert.equal(credentials.status, 200, credentials.body);
      const kafka = (auth: { sasl?: kafkajs.SASLOptions; cert?: { cert: string; key: string } }) =>
        new kafkajs.Kafka({
          clientId: `${runtime}-security`,
          brokers: [`127.0.0.1:${broker.kafkaPort}`],
          ssl: { ca: [readFileSync(certs.ca)], ...(auth.cert ? { cert: readFileSync(auth.cert.cert), key: readFileSync(auth.cert.key) } : {}) },
          ...(auth.sasl ? { sasl: auth.sasl } : {}),
          logLevel: kafkajs.logLevel.NOTHING,
          retry: { retries: 8, initialRetryTime: 200 },
        });
      // The bootstrap user is stored shortly after the broker is ready.
      const producer = kafka({ sasl: { mechanism: 'scram-sha-512', username: 'admin', password: 'admin-pw' } }).producer();
      await producer.connect();
      try {
        await producer.send({ topic: 'runtime-security', acks: -1, messages: [{ value: 'scram' }] });
      } finally {
        await producer.disconnect();
      }
      const admin = kafka(runtime === 'deno' ? { sasl: { mechanism: 'scram-sha-512', username: 'admin', password: 'admin-pw' } } : { cert: certs.client('reader') }).admin();
      await admin.connect();
      try {
        assert.deepEqual((await admin.fetchTopicOffsets('runtime-security')).map((o) => o.high), ['1']);
      } finally {
        await admin.disconnect();
      }
      const wrong = kafka({ sasl: { mechanism: 'scram-sha-512', username: 'admin', password: 'nope' } }).admin();
      await assert.rejects(wrong.connect(), /SASL|authentication/i);
    } finally {
      assert.equal(await broker.stop(), 0, broker.output());
    }
  });
}

test('deno: a configuration that relies on client certificates does not start, and says why', { timeout: 30_000 }, async () => {
  const deno = runtimeCommand('deno')!;
  const [port, httpPort, dataDir] = [await freePort(), await freePort(), join(certs.dir, 'deno-data')];
  const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile(deno.cmd, [...deno.args, 'broker'], { env: { ...process.env, ...guideTlsEnv(certs), STREAMBUS_SERVER_PORT: String(port), STREAMBUS_SERVER_HTTP_PORT: String(httpPort), STREAMBUS_STORAGE_DATA_DIR: dataDir }, timeout: 25_000 }, (err, _stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null, stderr }),
    );
  });
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /security\.tls\.clientAuthRequired: .*Deno's TLS server does not take client certificates/);
});
