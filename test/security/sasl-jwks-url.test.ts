// Goal: with security.authentication.jwt.jwksUrl the broker verifies tokens with the keys an identity
// provider publishes: a token signed with a published key (found by its kid) passes, one signed with a
// key the set does not hold is refused, and the set is fetched once and then served from the cache;
// an unsafe URL (plain http to another machine) or both keyFile and jwksUrl stop the broker (exit 2).
// Method: an HTTP server on 127.0.0.1 playing the identity provider's JWKS endpoint (counting fetches);
// one broker process with TLS and method jwt; kafkajs with a token provider signing with jose.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import kafkajs from 'kafkajs';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { httpsGet, startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { makeTestCerts, type TestCerts } from '../helpers/certs.ts';
import { runCli } from '../helpers/run-cli.ts';

const ISSUER = 'https://idp.example.com';
const AUDIENCE = 'streambus-jwks';

let certs: TestCerts;
let broker: BrokerProcess;
let idp: Server;
let jwksUrl: string;
let fetches = 0;
let published: CryptoKey;
let unpublished: CryptoKey;

before(async () => {
  certs = makeTestCerts();
  const pair = await generateKeyPair('ES256', { extractable: true });
  published = pair.privateKey;
  ({ privateKey: unpublished } = await generateKeyPair('ES256'));
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' };
  idp = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') return void res.writeHead(404).end();
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/.well-known/jwks.json`;
  broker = await startBroker({
    env: {
      STREAMBUS_SECURITY_TLS_ENABLED: 'true',
      STREAMBUS_SECURITY_TLS_CERT_FILE: certs.brokerCert,
      STREAMBUS_SECURITY_TLS_KEY_FILE: certs.brokerKey,
      STREAMBUS_SECURITY_TLS_CA_FILE: certs.ca,
      STREAMBUS_SECURITY_AUTHENTICATION_ENABLED: 'true',
      STREAMBUS_SECURITY_AUTHENTICATION_METHOD: 'jwt',
      STREAMBUS_SECURITY_AUTHENTICATION_JWT_JWKS_URL: jwksUrl,
      STREAMBUS_SECURITY_AUTHENTICATION_JWT_ISSUER: ISSUER,
      STREAMBUS_SECURITY_AUTHENTICATION_JWT_AUDIENCE: AUDIENCE,
      STREAMBUS_SECURITY_AUTHENTICATION_JWT_ALGORITHMS: 'ES256',
      STREAMBUS_SECURITY_AUTHENTICATION_FAILED_ATTEMPT_DELAY: '0ms',
    },
    httpsCa: certs.ca,
  });
});

after(async () => {
  await broker?.stop();
  await new Promise<void>((resolve) => (idp ? idp.close(() => resolve()) : resolve()));
  certs?.remove();
});

const token = (key: CryptoKey, kid: string) =>
  new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('svc').setIssuedAt().setExpirationTime('5m').sign(key);

async function connects(key: CryptoKey, kid: string): Promise<boolean> {
  const admin = new kafkajs.Kafka({
    clientId: 'jwks',
    brokers: [`127.0.0.1:${broker.kafkaPort}`],
    ssl: { ca: [readFileSync(certs.ca)] },
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await token(key, kid) }) },
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

test('tokens verify against the published key set, fetched once and cached', { timeout: 60_000 }, async () => {
  assert.equal(await connects(published, 'key-1'), true);
  assert.equal(await connects(published, 'key-1'), true);
  assert.equal(fetches, 1, 'the key set is cached');
  assert.equal(await connects(unpublished, 'key-1'), false, 'a key the set does not hold');
  assert.equal(await connects(unpublished, 'key-9'), false, 'an unknown key id');
  assert.match(broker.output(), /"reason":"Authentication failed: (the signature does not verify|no key in the key set matches the token)"/);
  const metrics = await httpsGet(broker.httpPort, '/metrics', { ca: certs.ca });
  assert.match(metrics.body, /streambus_authentication_failures_total\{mechanism="OAUTHBEARER"[^}]*\} [2-9]/);
});

test('fail closed: a JWKS URL over plain http to another machine, or both a key file and a URL', { timeout: 30_000 }, async () => {
  const base = { ...process.env, STREAMBUS_SECURITY_TLS_ENABLED: 'true', STREAMBUS_SECURITY_TLS_CERT_FILE: certs.brokerCert, STREAMBUS_SECURITY_TLS_KEY_FILE: certs.brokerKey, STREAMBUS_SECURITY_AUTHENTICATION_ENABLED: 'true', STREAMBUS_SECURITY_AUTHENTICATION_METHOD: 'jwt', STREAMBUS_SECURITY_AUTHENTICATION_JWT_ISSUER: ISSUER, STREAMBUS_SECURITY_AUTHENTICATION_JWT_AUDIENCE: AUDIENCE };
  const http = await runCli(['config', 'validate'], { env: { ...base, STREAMBUS_SECURITY_AUTHENTICATION_JWT_JWKS_URL: 'http://idp.example.com/jwks.json' } });
  assert.equal(http.status, 2);
  assert.match(http.stderr, /jwt\.jwksUrl: expected an https:\/\/ URL/);
  const both = await runCli(['config', 'validate'], { env: { ...base, STREAMBUS_SECURITY_AUTHENTICATION_JWT_JWKS_URL: 'https://idp.example.com/jwks.json', STREAMBUS_SECURITY_AUTHENTICATION_JWT_KEY_FILE: certs.ca } });
  assert.equal(both.status, 2);
  assert.match(both.stderr, /jwt\.jwksUrl: expected "" \(jwt\.keyFile is set/);
  const neither = await runCli(['config', 'validate'], { env: base });
  assert.equal(neither.status, 2);
  assert.match(neither.stderr, /jwt\.keyFile: expected a PEM public key or JWKS file \(or jwt\.jwksUrl\)/);
});
