// Goal: security.authentication.method jwt: clients authenticate with SASL OAUTHBEARER (KIP-255)
// carrying a signed JWT, over TLS. kafkajs with a token provider produces and reads; refused with
// SASL_AUTHENTICATION_FAILED, a log line naming the reason (never the token) and a closed connection:
// a token signed by another key, expired, for another audience or issuer, without the principal claim,
// and an unsigned one (alg none, what librdkafka sends by default, tried with kcat). A client that
// skips SASL is cut off at its first request. The session lifetime follows the token's expiry.
// The HTTPS admin API takes the same tokens as bearer tokens. Bad settings stop the broker before it
// listens.
// Method: a real broker with TLS (certificates from test/helpers/certs.ts) and a PEM public key made
// with jose; tokens signed in the test with jose; a raw TLS client for the SASL exchange details.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import kafkajs from 'kafkajs';
import { exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey } from 'jose';
import { httpsGet, startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { makeTestCerts, type TestCerts } from '../helpers/certs.ts';
import { runKcat } from '../helpers/kcat.ts';
import { requireTool } from '../helpers/tools.ts';
import { until } from '../helpers/timeout.ts';
import { freePort } from '../helpers/ports.ts';

const ISSUER = 'https://idp.example.com';
const AUDIENCE = 'streambus-test';

let certs: TestCerts;
let broker: BrokerProcess;
let signingKey: CryptoKey;
let otherKey: CryptoKey;
let keyFile: string;

const jwtEnv = (): Record<string, string> => ({
  STREAMBUS_SECURITY_TLS_ENABLED: 'true',
  STREAMBUS_SECURITY_TLS_CERT_FILE: certs.brokerCert,
  STREAMBUS_SECURITY_TLS_KEY_FILE: certs.brokerKey,
  STREAMBUS_SECURITY_TLS_CA_FILE: certs.ca,
  STREAMBUS_SECURITY_AUTHENTICATION_ENABLED: 'true',
  STREAMBUS_SECURITY_AUTHENTICATION_METHOD: 'jwt',
  STREAMBUS_SECURITY_AUTHENTICATION_JWT_KEY_FILE: keyFile,
  STREAMBUS_SECURITY_AUTHENTICATION_JWT_ISSUER: ISSUER,
  STREAMBUS_SECURITY_AUTHENTICATION_JWT_AUDIENCE: AUDIENCE,
  STREAMBUS_SECURITY_AUTHENTICATION_JWT_ALGORITHMS: 'RS256',
});

before(async () => {
  certs = makeTestCerts();
  ({ privateKey: signingKey } = await generateKeyPair('RS256', { extractable: true }).then(async (pair) => {
    keyFile = join(certs.dir, 'jwt-public.pem');
    writeFileSync(keyFile, await exportSPKI(pair.publicKey));
    return pair;
  }));
  ({ privateKey: otherKey } = await generateKeyPair('RS256'));
  broker = await startBroker({ env: jwtEnv(), httpsCa: certs.ca });
});

after(async () => {
  await broker?.stop();
  certs?.remove();
});

interface TokenOptions {
  key?: CryptoKey;
  subject?: string | null;
  audience?: string;
  issuer?: string;
  expiresIn?: string | number;
}

function token(o: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setIssuer(o.issuer ?? ISSUER).setAudience(o.audience ?? AUDIENCE).setIssuedAt().setExpirationTime(o.expiresIn ?? '10m');
  if (o.subject !== null) jwt.setSubject(o.subject ?? 'orders-service');
  return jwt.sign(o.key ?? signingKey);
}

function kafkaWith(provider: () => Promise<string>, clientId: string): kafkajs.Kafka {
  return new kafkajs.Kafka({
    clientId,
    brokers: [`127.0.0.1:${broker.kafkaPort}`],
    ssl: { ca: [readFileSync(certs.ca)] },
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await provider() }) },
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 0 },
  });
}

test('kafkajs authenticates with a signed JWT over TLS and produces and reads', { timeout: 60_000 }, async () => {
  const kafka = kafkaWith(() => token(), 'jwt-ok');
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: 'jwt-topic', acks: -1, messages: [{ value: 'a' }, { value: 'b' }] });
  } finally {
    await producer.disconnect();
  }
  const admin = kafka.admin();
  await admin.connect();
  try {
    assert.deepEqual((await admin.fetchTopicOffsets('jwt-topic')).map((o) => o.high), ['2']);
  } finally {
    await admin.disconnect();
  }
});

test('bad tokens are refused with the reason logged, never the token', { timeout: 60_000 }, async () => {
  const cases: [string, () => Promise<string>, RegExp][] = [
    ['another key', () => token({ key: otherKey }), /the signature does not verify/],
    ['expired', () => token({ expiresIn: Math.floor(Date.now() / 1000) - 120 }), /the token has expired/],
    ['another audience', () => token({ audience: 'someone-else' }), /the aud claim is not acceptable/],
    ['another issuer', () => token({ issuer: 'https://evil.example.com' }), /the iss claim is not acceptable/],
    ['no subject', () => token({ subject: null }), /has no sub claim/],
    ['unsigned', async () => new UnsecuredJWT({ sub: 'admin' }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('10m').encode(), /not allowed|well-formed/],
  ];
  for (const [what, make, reason] of cases) {
    const value = await make();
    const producer = kafkaWith(async () => value, `jwt-${what}`).producer();
    await assert.rejects(producer.connect(), (err: Error) => /SASL|Authentication|authentication/i.test(`${err.name} ${err.message}`), what);
    await producer.disconnect().catch(() => undefined);
    await until(() => broker.output().split('\n').some((l) => l.includes('SASL authentication failed') && reason.test(l)), 10_000, `the log line for ${what}`);
    assert.ok(!broker.output().includes(value), `${what}: the token never appears in the log`);
  }
});

test("librdkafka's default unsecured OAUTHBEARER token (alg none) is refused", { timeout: 60_000 }, async (t) => {
  if (!requireTool(t, 'kcat')) return;
  const run = await runKcat(['-b', `127.0.0.1:${broker.kafkaPort}`, '-X', 'security.protocol=sasl_ssl', '-X', `ssl.ca.location=${certs.ca}`, '-X', 'sasl.mechanisms=OAUTHBEARER', '-X', 'sasl.oauthbearer.config=principal=admin', '-L', '-m', '5'], null, 20_000);
  assert.notEqual(run.code, 0, run.stdout);
});

/** A raw TLS connection speaking Kafka frames, for the SASL exchange itself. */
async function raw(): Promise<{ request(apiKey: number, version: number, body: Buffer, flexible: boolean): Promise<Buffer>; closed: Promise<void>; socket: TLSSocket }> {
  const socket = tlsConnect({ host: '127.0.0.1', port: broker.kafkaPort, ca: readFileSync(certs.ca) });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  let buffered = Buffer.alloc(0);
  const waiters: ((frame: Buffer) => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
      const size = buffered.readInt32BE(0);
      waiters.shift()?.(buffered.subarray(4, 4 + size));
      buffered = buffered.subarray(4 + size);
    }
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  let correlation = 1;
  return {
    socket,
    closed,
    request(apiKey, version, body, flexible) {
      const client = Buffer.from('raw');
      const header = Buffer.alloc(10 + client.length);
      header.writeInt16BE(apiKey, 0);
      header.writeInt16BE(version, 2);
      header.writeInt32BE(correlation++, 4);
      header.writeInt16BE(client.length, 8);
      client.copy(header, 10);
      const frame = Buffer.concat([header, flexible ? Buffer.from([0]) : Buffer.alloc(0), body]);
      const size = Buffer.alloc(4);
      size.writeInt32BE(frame.length);
      socket.write(Buffer.concat([size, frame]));
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}

const kafkaString = (s: string) => {
  const b = Buffer.alloc(2 + Buffer.byteLength(s));
  b.writeInt16BE(Buffer.byteLength(s));
  b.write(s, 2);
  return b;
};
const kafkaBytes = (data: Buffer) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(data.length);
  return Buffer.concat([b, data]);
};

test('a client that skips SASL is cut off at its first request; the session lifetime follows the token', { timeout: 30_000 }, async () => {
  // Metadata v1 before authenticating: the broker closes the connection.
  const skipper = await raw();
  void skipper.request(3, 1, Buffer.from([0xff, 0xff, 0xff, 0xff]), false);
  await skipper.closed;
  await until(() => broker.output().includes('before SASL authentication'), 10_000, 'the log line');

  // Handshake v1, then SaslAuthenticate v1 with a token expiring in 2 minutes: session_lifetime_ms about that.
  const client = await raw();
  try {
    const handshake = await client.request(17, 1, kafkaString('PLAIN'), false);
    assert.equal(handshake.readInt16BE(4), 33, 'UNSUPPORTED_SASL_MECHANISM for PLAIN');
    const ok = await client.request(17, 1, kafkaString('OAUTHBEARER'), false);
    assert.equal(ok.readInt16BE(4), 0);
    const jwt = await token({ expiresIn: '2m' });
    const answer = await client.request(36, 1, kafkaBytes(Buffer.from(`n,,\x01auth=Bearer ${jwt}\x01\x01`)), false);
    assert.equal(answer.readInt16BE(4), 0, 'authenticated');
    // errorCode, errorMessage (null: -1), authBytes (empty), sessionLifetimeMs
    assert.equal(answer.readInt16BE(6), -1);
    const lifetime = Number(answer.readBigInt64BE(12));
    assert.ok(lifetime > 100_000 && lifetime <= 120_000, `session lifetime ${lifetime} ms`);
  } finally {
    client.socket.destroy();
  }
});

test('fail closed: jwt without TLS or without a usable key file stops the broker before it listens', { timeout: 30_000 }, async () => {
  const badKey = join(certs.dir, 'not-a-key.pem');
  writeFileSync(badKey, 'hello');
  for (const [env, expected] of [
    [{ STREAMBUS_SECURITY_TLS_ENABLED: 'false' }, /security\.tls\.enabled: expected true, got false \(security\.authentication\.method is jwt: bearer tokens must not cross the network/],
    [{ STREAMBUS_SECURITY_AUTHENTICATION_JWT_KEY_FILE: badKey }, /security\.authentication\.jwt\.keyFile: expected a PEM public key or JWKS file, got ".*not-a-key\.pem" \(neither a PEM public key/],
    [{ STREAMBUS_SECURITY_AUTHENTICATION_JWT_ALGORITHMS: 'RS256,none' }, /security\.authentication\.jwt\.algorithms: .*unsigned tokens/],
  ] as const) {
    const run = spawnSync(process.execPath, ['bin/streambus', 'broker'], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, STREAMBUS_SERVER_PORT: String(await freePort()), STREAMBUS_SERVER_HTTP_PORT: String(await freePort()), STREAMBUS_STORAGE_DATA_DIR: join(certs.dir, 'data'), ...jwtEnv(), ...env },
    });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, expected);
  }
});

test('the HTTPS admin API takes a bearer token; a bad or missing one gets 401', { timeout: 30_000 }, async () => {
  const path = '/api/v1/brokers/1/decommission';
  assert.equal((await httpsGet(broker.httpPort, path, { ca: certs.ca }, 'PUT')).status, 401);
  assert.equal((await httpsGet(broker.httpPort, path, { ca: certs.ca }, 'PUT', { authorization: `Bearer ${await token({ key: otherKey })}` })).status, 401);
  // Authenticated: a lone broker cannot be decommissioned, so the answer is 400, past the 401.
  const ok = await httpsGet(broker.httpPort, path, { ca: certs.ca }, 'PUT', { authorization: `Bearer ${await token()}` });
  assert.equal(ok.status, 400, ok.body);
  await until(() => broker.output().includes('"principal":"User:orders-service"'), 5_000, 'the admin request logged with its principal');
  // The topic routes act through the Kafka port with the same token (SASL OAUTHBEARER on a loopback client).
  const topics = await httpsGet(broker.httpPort, '/api/v1/topics?includeInternal=true', { ca: certs.ca }, 'GET', { authorization: `Bearer ${await token()}` });
  assert.equal(topics.status, 200, topics.body);
  assert.ok((JSON.parse(topics.body) as { name: string }[]).some((t) => t.name === '__consumer_offsets'), topics.body);
  const refused = await httpsGet(broker.httpPort, '/api/v1/topics', { ca: certs.ca }, 'GET', { authorization: `Bearer ${await token({ key: otherKey })}` });
  assert.equal(refused.status, 401, refused.body);
});
