// Goal: `streambus health` is a probe a container HEALTHCHECK can rely on: exit 0 only for a 200 from
// the configured liveness (or, with --ready, readiness) path, exit 1 for any other answer, no answer,
// or a TLS certificate that does not name the broker; the address comes from the broker's settings
// (environment, wildcard bind reached on loopback) unless --http names one.
// Method: run bin/streambus against a real broker, and against small HTTP(S) servers in this process
// that answer what each case needs (the CLI runs asynchronously so they can answer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { runCli } from '../helpers/run-cli.ts';
import { startBroker } from '../helpers/broker-process.ts';
import { freePort } from '../helpers/ports.ts';
import { makeTestCerts } from '../helpers/certs.ts';

const env = (vars: Record<string, string>) => ({ env: { ...process.env, STREAMBUS_LOGGING_LEVEL: 'warn', ...vars }, timeoutMs: 30_000 });

/** Serves `answer` on 127.0.0.1 and records the paths asked. */
async function fakeBroker(answer: (req: IncomingMessage, res: ServerResponse) => void, make: () => Server = () => createServer()): Promise<{ port: number; paths: string[]; close(): Promise<void> }> {
  const server = make();
  const paths: string[] = [];
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    paths.push(req.url ?? '');
    answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    paths,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test('a running broker is live and ready at the port its settings give', async () => {
  const broker = await startBroker();
  try {
    const live = await runCli(['health'], env({ STREAMBUS_SERVER_HTTP_PORT: String(broker.httpPort) }));
    assert.equal(live.status, 0, live.stderr);
    assert.match(live.stdout, new RegExp(`http://127\\.0\\.0\\.1:${broker.httpPort}/health/live: 200`));
    const ready = await runCli(['health', '--ready', '--http', `127.0.0.1:${broker.httpPort}`], env({}));
    assert.equal(ready.status, 0, ready.stderr);
    assert.match(ready.stdout, /\/health\/ready: 200/);
  } finally {
    assert.equal(await broker.stop(), 0);
  }
});

test('a wildcard bind is probed on loopback, at the configured paths', async () => {
  const server = await fakeBroker((_req, res) => res.end('ok'));
  try {
    const r = await runCli(['health', '--ready'], env({
      STREAMBUS_SERVER_HOST: '0.0.0.0',
      STREAMBUS_SERVER_ADVERTISED_HOST: 'broker1.example.com',
      STREAMBUS_SERVER_HTTP_PORT: String(server.port),
      STREAMBUS_HEALTH_READINESS_PATH: '/probe/ready',
    }));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(server.paths, ['/probe/ready']);
  } finally {
    await server.close();
  }
});

test('an answer other than 200 exits 1 with the status and body', async () => {
  const server = await fakeBroker((_req, res) => {
    res.statusCode = 503;
    res.end('storage recovering');
  });
  try {
    const r = await runCli(['health', '--ready', '--http', `127.0.0.1:${server.port}`], env({}));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /\/health\/ready: 503 storage recovering/);
  } finally {
    await server.close();
  }
});

test('no listener, or one that never answers, exits 1 within the timeout', async () => {
  const closed = await runCli(['health', '--http', `127.0.0.1:${await freePort()}`], env({}));
  assert.equal(closed.status, 1);
  assert.match(closed.stderr, /no answer \(.*ECONNREFUSED/);
  const server = await fakeBroker(() => undefined);
  try {
    const silent = await runCli(['health', '--http', `127.0.0.1:${server.port}`, '--timeout-ms', '300'], env({}));
    assert.equal(silent.status, 1);
    assert.match(silent.stderr, /no answer \(no answer in 300 ms\)/);
  } finally {
    await server.close();
  }
});

test('bad usage exits 2', async () => {
  const timeout = await runCli(['health', '--timeout-ms', '0'], env({}));
  assert.equal(timeout.status, 2);
  assert.match(timeout.stderr, /--timeout-ms must be a positive number/);
  const config = await runCli(['health'], env({ STREAMBUS_SERVER_HTTP_PORT: 'eighty' }));
  assert.equal(config.status, 2);
  assert.match(config.stderr, /STREAMBUS_SERVER_HTTP_PORT/);
});

test('with security.tls the probe speaks HTTPS and checks the certificate against the CA and the advertised name', async () => {
  const certs = makeTestCerts();
  const server = await fakeBroker((_req, res) => res.end('ok'), () => createHttpsServer({ cert: readFileSync(certs.brokerCert), key: readFileSync(certs.brokerKey) }));
  try {
    const tls = (advertisedHost: string) => ({
      STREAMBUS_SERVER_HTTP_PORT: String(server.port),
      STREAMBUS_SERVER_ADVERTISED_HOST: advertisedHost,
      STREAMBUS_SECURITY_TLS_ENABLED: 'true',
      STREAMBUS_SECURITY_TLS_CERT_FILE: certs.brokerCert,
      STREAMBUS_SECURITY_TLS_KEY_FILE: certs.brokerKey,
      STREAMBUS_SECURITY_TLS_CA_FILE: certs.ca,
    });
    const named = await runCli(['health'], env(tls('localhost')));
    assert.equal(named.status, 0, named.stderr);
    assert.match(named.stdout, new RegExp(`https://127\\.0\\.0\\.1:${server.port}/health/live: 200`));
    // The certificate names 127.0.0.1 and localhost, not the host this broker advertises.
    const misnamed = await runCli(['health'], env(tls('broker9.example.com')));
    assert.equal(misnamed.status, 1);
    assert.match(misnamed.stderr, /no answer \(.*broker9\.example\.com/);
    assert.deepEqual(server.paths, ['/health/live']);
  } finally {
    await server.close();
    certs.remove();
  }
});
