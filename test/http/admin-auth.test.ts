// Goal: with authentication and authorization on, the admin API opens no way around the broker's
// security: a request without credentials or with a wrong password gets 401 (and the password is
// never logged); HTTP Basic for a SCRAM user runs each operation as that user, so the ACLs decide
// as on the Kafka port (a super user may, a user without ACLs gets 403 with the Kafka error name); a
// client certificate is taken by the broker routes and refused (401, saying what to send) by the routes
// that act through the Kafka API; the CLI's --sasl-* options reach the broker routes as Basic.
// Method: one real broker with TLS (client certificates optional), methods mtls and scram-sha-512,
// authorization with User:admin as the only super user; HTTPS requests and the CLI (told the broker by
// --http, or by a broker configuration file with --config).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { guideTlsEnv, makeTestCerts, type TestCerts } from '../helpers/certs.ts';
import { runCli } from '../helpers/run-cli.ts';
import { until } from '../helpers/timeout.ts';
import { KafkaClient } from '../../src/client/index.ts';
import { adminCall, type AdminCallOptions } from './admin-http.ts';
import { AclOperation, AclPermission, CLUSTER_RESOURCE, PatternType, ResourceType, WILDCARD } from '../../src/metadata/acls.ts';

const ADMIN_PASSWORD = 'admin-Secret-4-http';
const BOB_PASSWORD = 'bob-Secret-4-http';
let certs: TestCerts;
let broker: BrokerProcess;

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const call = (method: string, path: string, o: AdminCallOptions = {}) => adminCall(broker.httpPort, method, path, { ...o, tls: { ca: certs.ca, ...o.tls } });

before(async () => {
  certs = makeTestCerts();
  broker = await startBroker({
    env: {
      ...guideTlsEnv(certs),
      STREAMBUS_SECURITY_TLS_CLIENT_AUTH_REQUIRED: 'false',
      STREAMBUS_SECURITY_AUTHENTICATION_METHODS: 'mtls,scram-sha-512',
      STREAMBUS_SECURITY_AUTHENTICATION_FAILED_ATTEMPT_DELAY: '100ms',
      STREAMBUS_SECURITY_AUTHENTICATION_SCRAM_BOOTSTRAP_USER: 'admin',
      STREAMBUS_SECURITY_AUTHENTICATION_SCRAM_BOOTSTRAP_PASSWORD: ADMIN_PASSWORD,
      STREAMBUS_SECURITY_AUTHORIZATION_ENABLED: 'true',
      STREAMBUS_SECURITY_AUTHORIZATION_SUPER_USERS: 'User:admin',
    },
    httpsCa: certs.ca,
  });
  // The bootstrap user is written to the metadata shortly after start.
  await until(async () => (await call('GET', '/api/v1/topics', { headers: basic('admin', ADMIN_PASSWORD) })).status === 200, 30_000, 'the bootstrap user logs in');
  const admin = new KafkaClient({ bootstrap: `127.0.0.1:${broker.kafkaPort}`, tls: { ca: readFileSync(certs.ca) }, sasl: { mechanism: 'SCRAM-SHA-512', username: 'admin', password: ADMIN_PASSWORD } });
  try {
    const change = await admin.upsertScramUser('bob', 'SCRAM-SHA-512', BOB_PASSWORD, 4096);
    assert.equal(change.error, null);
  } finally {
    admin.close();
  }
});

after(async () => {
  await broker?.stop();
  certs?.remove();
});

test('requests without accepted credentials get 401, and no password reaches the log', async () => {
  for (const [method, path] of [
    ['GET', '/api/v1/topics'],
    ['POST', '/api/v1/topics'],
    ['GET', '/api/v1/brokers'],
    ['PUT', '/api/v1/brokers/1/decommission'],
  ] as const) {
    const none = await call(method, path, method === 'POST' ? { body: { name: 'sneaky' } } : {});
    assert.deepEqual([none.status, none.json.code], [401, 'SB_ERR_UNAUTHENTICATED'], `${method} ${path}: ${none.text}`);
    assert.match(none.json.message, /Basic/);
  }
  const wrong = await call('POST', '/api/v1/topics', { headers: basic('admin', 'not-the-password'), body: { name: 'sneaky' } });
  assert.deepEqual([wrong.status, wrong.json.code], [401, 'SB_ERR_UNAUTHENTICATED']);
  assert.equal((await call('GET', '/api/v1/topics', { headers: basic('nobody', 'x') })).status, 401);
  assert.equal((await call('GET', '/api/v1/topics', { headers: { authorization: 'Basic !!!' } })).status, 401);
  const listed = await call('GET', '/api/v1/topics?includeInternal=true', { headers: basic('admin', ADMIN_PASSWORD) });
  assert.ok(!listed.json.some((t: { name: string }) => t.name === 'sneaky'), 'nothing was created');
  assert.ok(broker.output().includes('admin request without accepted credentials refused'));
  assert.ok(!broker.output().includes('not-the-password') && !broker.output().includes(ADMIN_PASSWORD), 'a password in the log');
});

test('Basic runs each operation as the user: the super user may, a user without ACLs gets 403', async () => {
  const admin = basic('admin', ADMIN_PASSWORD);
  const bob = basic('bob', BOB_PASSWORD);
  const made = await call('POST', '/api/v1/topics', { headers: admin, body: { name: 'payroll', partitions: 1 } });
  assert.equal(made.status, 201, made.text);
  assert.equal((await call('GET', '/api/v1/topics/payroll', { headers: admin })).status, 200);
  assert.equal((await call('GET', '/api/v1/brokers', { headers: admin })).status, 200);

  // Bob authenticates (his password is right) but no ACL allows him anything: deny by default.
  const listed = await call('GET', '/api/v1/topics', { headers: bob });
  assert.deepEqual([listed.status, listed.json], [200, []]);
  for (const [method, path, body, error] of [
    ['GET', '/api/v1/topics/payroll', undefined, 'TOPIC_AUTHORIZATION_FAILED'],
    ['POST', '/api/v1/topics', { name: 'bobs' }, 'TOPIC_AUTHORIZATION_FAILED'],
    ['DELETE', '/api/v1/topics/payroll', undefined, 'TOPIC_AUTHORIZATION_FAILED'],
    ['PATCH', '/api/v1/topics/payroll/configs', { set: { 'retention.ms': '1000' } }, 'TOPIC_AUTHORIZATION_FAILED'],
    ['GET', '/api/v1/brokers', undefined, 'CLUSTER_AUTHORIZATION_FAILED'],
    ['PUT', '/api/v1/brokers/1/recommission', undefined, 'CLUSTER_AUTHORIZATION_FAILED'],
  ] as const) {
    const refused = await call(method, path, { headers: bob, ...(body === undefined ? {} : { body }) });
    assert.deepEqual([refused.status, refused.json.code, refused.json.error], [403, 'SB_ERR_FORBIDDEN', error], `${method} ${path}: ${refused.text}`);
  }
  const after = await call('GET', '/api/v1/topics/payroll/configs', { headers: admin });
  assert.notEqual(after.json.configs.find((c: { name: string }) => c.name === 'retention.ms').value, '1000');
  assert.ok(!(await call('GET', '/api/v1/topics', { headers: admin })).json.some((t: { name: string }) => t.name === 'bobs'));
});

test('a client certificate is taken by the broker routes only; the CLI reaches them with --sasl-* as Basic', { timeout: 120_000 }, async () => {
  const admin = certs.client('admin');
  const withCert = { tls: { ca: certs.ca, cert: admin.cert, key: admin.key } };
  const brokers = await call('GET', '/api/v1/brokers', withCert);
  assert.equal(brokers.status, 200, brokers.text);
  const topics = await call('GET', '/api/v1/topics', withCert);
  assert.deepEqual([topics.status, topics.json.code], [401, 'SB_ERR_UNAUTHENTICATED']);
  assert.match(topics.json.message, /Authorization: Basic/);

  const http = ['--http', `127.0.0.1:${broker.httpPort}`, '--ca-file', certs.ca];
  const listed = await runCli(['broker', 'list', '--json', ...http, '--sasl-mechanism', 'scram-sha-512', '--sasl-username', 'admin'], { env: { ...process.env, STREAMBUS_SASL_PASSWORD: ADMIN_PASSWORD } });
  assert.equal(listed.status, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout), brokers.json);
  const refused = await runCli(['broker', 'list', '--json', ...http]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /SB_ERR_UNAUTHENTICATED/);
});

test('with --config and no --http, the CLI reaches the broker that configuration describes, over its TLS, as the broker certificate', async () => {
  // A broker host's configuration as the guide writes it: the HTTP port serves HTTPS, the broker's own
  // certificate (signed by caFile) is an identity the broker routes accept.
  const dir = mkdtempSync(join(tmpdir(), 'streambus-admin-config-'));
  try {
    const file = join(dir, 'broker.yaml');
    const yaml = (caFile: string) =>
      [
        'server:',
        '  host: 127.0.0.1',
        `  httpPort: ${broker.httpPort}`,
        'security:',
        '  tls:',
        '    enabled: true',
        `    certFile: ${certs.brokerCert}`,
        `    keyFile: ${certs.brokerKey}`,
        `    caFile: ${caFile}`,
        '    clientAuthRequired: true',
        '  authentication:',
        '    enabled: true',
        '    method: mtls',
        '',
      ].join('\n');
    writeFileSync(file, yaml(certs.ca));
    // The broker's certificate names User:broker: authenticated, then refused by the ACLs...
    const refused = await runCli(['broker', 'list', '--json', '--config', file]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /User:broker may not describe the cluster/);
    // ...until an ACL lets it describe the cluster.
    const admin = new KafkaClient({ bootstrap: `127.0.0.1:${broker.kafkaPort}`, tls: { ca: readFileSync(certs.ca) }, sasl: { mechanism: 'SCRAM-SHA-512', username: 'admin', password: ADMIN_PASSWORD } });
    try {
      const grant = { resourceType: ResourceType.CLUSTER, resourceName: CLUSTER_RESOURCE, patternType: PatternType.LITERAL, principal: 'User:broker', host: WILDCARD, operation: AclOperation.DESCRIBE, permission: AclPermission.ALLOW };
      assert.deepEqual(await admin.createAcls([grant]), [null]);
    } finally {
      admin.close();
    }
    const listed = await runCli(['broker', 'list', '--json', '--config', file]);
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout).map((b: { id: number }) => b.id), [1]);
    const described = await runCli(['broker', 'describe', '--id', '1', '--json', '--config', file]);
    assert.equal(described.status, 0, described.stderr);
    assert.equal(JSON.parse(described.stdout).id, 1);
    // TLS flags replace only their part: --ca-file keeps the broker certificate as the client's...
    const withCa = await runCli(['broker', 'list', '--json', '--config', file, '--ca-file', certs.ca]);
    assert.equal(withCa.status, 0, withCa.stderr);
    // ...and --cert-file / --key-file run the command as that certificate's principal, here refused.
    const carol = certs.client('carol');
    const asCarol = await runCli(['broker', 'list', '--json', '--config', file, '--cert-file', carol.cert, '--key-file', carol.key]);
    assert.equal(asCarol.status, 1);
    assert.match(asCarol.stderr, /User:carol may not describe the cluster/);
    // --http still wins, with the TLS flags only: no client certificate, so the broker refuses it.
    const flagged = await runCli(['broker', 'list', '--json', '--config', file, '--http', `127.0.0.1:${broker.httpPort}`, '--ca-file', certs.ca]);
    assert.equal(flagged.status, 1);
    assert.match(flagged.stderr, /SB_ERR_UNAUTHENTICATED/);
    // A CA file that cannot be read is a usage error naming the setting.
    writeFileSync(file, yaml(join(dir, 'missing-ca.crt')));
    const broken = await runCli(['broker', 'list', '--config', file]);
    assert.equal(broken.status, 2, broken.stderr);
    assert.match(broken.stderr, /security\.tls\.caFile .*missing-ca\.crt/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
