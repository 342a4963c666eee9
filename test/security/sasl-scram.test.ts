// Goal: SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN (over TLS) work as Kafka's do, with credentials salted
// in the cluster metadata: a bootstrap user (from the configuration) logs in; `streambus user`, itself
// authenticating with SCRAM, creates users and lists them; kcat (librdkafka) and kafkajs produce and
// consume with each mechanism; a wrong password, an unknown user and a mechanism that is not enabled
// are refused with a log line that holds no password, and a failed attempt is answered only after
// failedAttemptDelay; a new password replaces the old one; a deleted user cannot log in; with mtls
// listed too, a client certificate is enough; non-super users cannot manage users. Fail closed: PLAIN
// without TLS, a bootstrap user without a password.
// Method: one real broker process with TLS (client certificates optional), methods [mtls, scram-sha-256,
// scram-sha-512, plain], authorization with User:admin as super user; kafkajs, kcat and the CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { guideTlsEnv, makeTestCerts, type TestCerts } from '../helpers/certs.ts';
import { runKcat } from '../helpers/kcat.ts';
import { requireTool } from '../helpers/tools.ts';
import { runCli } from '../helpers/run-cli.ts';

const ADMIN_PASSWORD = 'admin-secret-Pa55';
let certs: TestCerts;
let broker: BrokerProcess;

before(async () => {
  certs = makeTestCerts();
  broker = await startBroker({
    env: {
      ...guideTlsEnv(certs),
      STREAMBUS_SECURITY_TLS_CLIENT_AUTH_REQUIRED: 'false',
      STREAMBUS_SECURITY_AUTHENTICATION_METHODS: 'mtls,scram-sha-256,scram-sha-512,plain',
      STREAMBUS_SECURITY_AUTHENTICATION_FAILED_ATTEMPT_DELAY: '400ms',
      STREAMBUS_SECURITY_AUTHENTICATION_SCRAM_BOOTSTRAP_USER: 'admin',
      STREAMBUS_SECURITY_AUTHENTICATION_SCRAM_BOOTSTRAP_PASSWORD: ADMIN_PASSWORD,
      STREAMBUS_SECURITY_AUTHORIZATION_ENABLED: 'true',
      STREAMBUS_SECURITY_AUTHORIZATION_SUPER_USERS: 'User:admin',
      STREAMBUS_SECURITY_AUTHORIZATION_ALLOW_EVERYONE_IF_NO_ACL_FOUND: 'true',
    },
    httpsCa: certs.ca,
  });
});

after(async () => {
  await broker?.stop();
  certs?.remove();
});

type Mechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

function kafkaAs(mechanism: Mechanism, username: string, password: string): kafkajs.Kafka {
  return new kafkajs.Kafka({
    clientId: `scram-${username}`,
    brokers: [`127.0.0.1:${broker.kafkaPort}`],
    ssl: { ca: [readFileSync(certs.ca)] },
    sasl: { mechanism, username, password } as kafkajs.SASLOptions,
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 1, initialRetryTime: 100 },
  });
}

/** The CLI over TLS, authenticating with SCRAM as `user` (password from the environment). */
function cli(args: string[], user = 'admin', password = ADMIN_PASSWORD, mechanism: Mechanism = 'scram-sha-512', extraEnv: Record<string, string> = {}) {
  return runCli([...args, '--bootstrap-server', `127.0.0.1:${broker.kafkaPort}`, '--ca-file', certs.ca, '--sasl-mechanism', mechanism, '--sasl-username', user], {
    env: { ...process.env, STREAMBUS_SASL_PASSWORD: password, ...extraEnv },
  });
}

async function roundTrip(kafka: kafkajs.Kafka, topic: string): Promise<string[]> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ value: `${topic}-1` }, { value: `${topic}-2` }] });
  } finally {
    await producer.disconnect();
  }
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.map((o) => o.high);
  } finally {
    await admin.disconnect();
  }
}

test('the bootstrap user logs in; streambus user creates and lists users with SCRAM from the CLI', { timeout: 60_000 }, async () => {
  for (const mechanism of ['scram-sha-256', 'scram-sha-512', 'plain'] as const) {
    const listed = await cli(['user', 'list', '--json'], 'admin', ADMIN_PASSWORD, mechanism);
    assert.equal(listed.status, 0, `${mechanism}: ${listed.stderr}`);
  }
  const created = await cli(['user', 'create', 'alice'], 'admin', ADMIN_PASSWORD, 'scram-sha-512', { STREAMBUS_USER_PASSWORD: 'alice-pw-1' });
  assert.equal(created.status, 0, created.stderr);
  const sha256Only = await cli(['user', 'create', 'bob', '--mechanism', 'scram-sha-256', '--iterations', '8192'], 'admin', ADMIN_PASSWORD, 'scram-sha-256', { STREAMBUS_USER_PASSWORD: 'bob-pw' });
  assert.equal(sha256Only.status, 0, sha256Only.stderr);
  const listed = await cli(['user', 'list', '--json']);
  assert.equal(listed.status, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout), [
    { user: 'admin', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 4096 }, { mechanism: 'SCRAM-SHA-512', iterations: 4096 }] },
    { user: 'alice', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 4096 }, { mechanism: 'SCRAM-SHA-512', iterations: 4096 }] },
    { user: 'bob', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 8192 }] },
  ]);
  const table = await cli(['user', 'list', 'bob']);
  assert.match(table.stdout, /bob +SCRAM-SHA-256 +8192/);
  const missing = await cli(['user', 'list', 'nobody']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nobody has no SCRAM credentials/);
  const bad = await cli(['user', 'create', 'x', '--iterations', '100'], 'admin', ADMIN_PASSWORD, 'scram-sha-512', { STREAMBUS_USER_PASSWORD: 'x' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /UNACCEPTABLE_CREDENTIAL/);
  const noPassword = await cli(['user', 'create', 'y']);
  assert.equal(noPassword.status, 2, 'no password is a usage error');
  assert.ok(!broker.output().includes(ADMIN_PASSWORD) && !broker.output().includes('alice-pw-1'), 'no password in the broker log');
});

test('kafkajs produces and reads with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN', { timeout: 60_000 }, async () => {
  const created = await cli(['user', 'create', 'carol'], 'admin', ADMIN_PASSWORD, 'scram-sha-512', { STREAMBUS_USER_PASSWORD: 'carol-pw' });
  assert.equal(created.status, 0, created.stderr);
  for (const mechanism of ['scram-sha-256', 'scram-sha-512', 'plain'] as const) {
    assert.deepEqual(await roundTrip(kafkaAs(mechanism, 'carol', 'carol-pw'), `scram-kafkajs-${mechanism}`), ['2'], mechanism);
  }
});

test('kcat (librdkafka) produces and consumes with SCRAM-SHA-512 and PLAIN', { timeout: 60_000 }, async (t) => {
  if (!requireTool(t, 'kcat')) return;
  const created = await cli(['user', 'create', 'dave'], 'admin', ADMIN_PASSWORD, 'scram-sha-512', { STREAMBUS_USER_PASSWORD: 'dave-pw' });
  assert.equal(created.status, 0, created.stderr);
  for (const mechanism of ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN']) {
    const base = ['-b', `127.0.0.1:${broker.kafkaPort}`, '-X', 'security.protocol=sasl_ssl', '-X', `ssl.ca.location=${certs.ca}`, '-X', `sasl.mechanisms=${mechanism}`, '-X', 'sasl.username=dave', '-X', 'sasl.password=dave-pw'];
    const topic = `scram-kcat-${mechanism.toLowerCase()}`;
    const produced = await runKcat([...base, '-P', '-t', topic], 'one\ntwo\n', 30_000);
    assert.equal(produced.code, 0, `${mechanism}: ${produced.stderr}`);
    const consumed = await runKcat([...base, '-C', '-t', topic, '-o', 'beginning', '-e', '-q'], null, 30_000);
    assert.equal(consumed.code, 0, `${mechanism}: ${consumed.stderr}`);
    assert.deepEqual(consumed.stdout.trim().split('\n'), ['one', 'two'], mechanism);
  }
  const wrong = await runKcat(['-b', `127.0.0.1:${broker.kafkaPort}`, '-X', 'security.protocol=sasl_ssl', '-X', `ssl.ca.location=${certs.ca}`, '-X', 'sasl.mechanisms=SCRAM-SHA-256', '-X', 'sasl.username=dave', '-X', 'sasl.password=nope', '-L', '-m', '5'], null, 20_000);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /Authentication failed|SASL authentication error/i);
});

test('refused: wrong password, unknown user, a mechanism not enabled; slowed; old and deleted credentials stop working', { timeout: 60_000 }, async () => {
  const created = await cli(['user', 'create', 'erin'], 'admin', ADMIN_PASSWORD, 'scram-sha-512', { STREAMBUS_USER_PASSWORD: 'erin-pw-1' });
  assert.equal(created.status, 0, created.stderr);
  const refusedWith = async (mechanism: Mechanism, user: string, password: string) => {
    const admin = kafkaAs(mechanism, user, password).admin();
    const started = performance.now();
    try {
      await admin.connect();
      await admin.disconnect();
      return { refused: false, ms: performance.now() - started };
    } catch (err) {
      return { refused: /SASL|authentication/i.test(String(err)), ms: performance.now() - started };
    }
  };
  const wrong = await refusedWith('scram-sha-512', 'erin', 'guess');
  assert.ok(wrong.refused, 'wrong password refused');
  assert.ok(wrong.ms >= 350, `a failed attempt is answered after failedAttemptDelay (took ${wrong.ms} ms)`);
  assert.ok((await refusedWith('scram-sha-256', 'nobody', 'x')).refused, 'unknown user refused');
  assert.ok((await refusedWith('plain', 'erin', 'guess')).refused, 'PLAIN with a wrong password refused');
  // A new password replaces the old one.
  const changed = await cli(['user', 'create', 'erin'], 'admin', ADMIN_PASSWORD, 'scram-sha-512', { STREAMBUS_USER_PASSWORD: 'erin-pw-2' });
  assert.equal(changed.status, 0, changed.stderr);
  assert.ok((await refusedWith('scram-sha-512', 'erin', 'erin-pw-1')).refused, 'the old password no longer works');
  assert.ok(!(await refusedWith('scram-sha-512', 'erin', 'erin-pw-2')).refused, 'the new one does');
  const deleted = await cli(['user', 'delete', 'erin']);
  assert.equal(deleted.status, 0, deleted.stderr);
  assert.match(deleted.stdout, /SCRAM-SHA-256, SCRAM-SHA-512 credential\(s\) deleted/);
  assert.ok((await refusedWith('scram-sha-512', 'erin', 'erin-pw-2')).refused, 'a deleted user cannot log in');
  const log = broker.output();
  assert.match(log, /"reason":"Authentication failed: invalid credentials".*"msg":"SASL authentication failed"/);
  for (const secret of ['guess', 'erin-pw-1', 'erin-pw-2']) assert.ok(!log.includes(secret), `${secret} not in the log`);
});

test('with mtls listed, a client certificate is enough; a non-super user may not manage users', { timeout: 60_000 }, async () => {
  const frank = certs.client('frank');
  const kafka = new kafkajs.Kafka({
    clientId: 'scram-cert',
    brokers: [`127.0.0.1:${broker.kafkaPort}`],
    ssl: { ca: [readFileSync(certs.ca)], cert: readFileSync(frank.cert), key: readFileSync(frank.key) },
    logLevel: kafkajs.logLevel.NOTHING,
  });
  assert.deepEqual(await roundTrip(kafka, 'scram-cert-topic'), ['2']);
  const passwordFile = join(certs.dir, 'grace.pw');
  writeFileSync(passwordFile, 'grace-pw\n');
  const created = await cli(['user', 'create', 'grace', '--password-file', passwordFile]);
  assert.equal(created.status, 0, created.stderr);
  // allowEveryoneIfNoAclFound is on: one entry on the cluster resource ends that for it.
  const acl = await cli(['acl', 'create', '--allow-principal', 'User:ops', '--operation', 'describe', '--cluster']);
  assert.equal(acl.status, 0, acl.stderr);
  const byGrace = await cli(['user', 'list'], 'grace', 'grace-pw');
  assert.equal(byGrace.status, 1);
  assert.match(byGrace.stderr, /CLUSTER_AUTHORIZATION_FAILED/);
  const noTls = await runCli(['user', 'list', '--bootstrap-server', `127.0.0.1:${broker.kafkaPort}`, '--sasl-mechanism', 'scram-sha-512', '--sasl-username', 'grace'], { env: { ...process.env, STREAMBUS_SASL_PASSWORD: 'grace-pw' }, timeoutMs: 20_000 });
  assert.notEqual(noTls.status, 0, 'plaintext bytes on the TLS port get nowhere');
});

test('fail closed: PLAIN without TLS, a bootstrap user without a password', { timeout: 30_000 }, async () => {
  const plain = await runCli(['config', 'validate'], { env: { ...process.env, STREAMBUS_SECURITY_AUTHENTICATION_ENABLED: 'true', STREAMBUS_SECURITY_AUTHENTICATION_METHOD: 'plain' } });
  assert.equal(plain.status, 2);
  assert.match(plain.stderr, /security\.tls\.enabled: expected true, got false \(security\.authentication\.method is plain: SASL PLAIN sends passwords/);
  const noPassword = await runCli(['config', 'validate'], {
    env: { ...process.env, STREAMBUS_SECURITY_AUTHENTICATION_ENABLED: 'true', STREAMBUS_SECURITY_AUTHENTICATION_METHOD: 'scram-sha-256', STREAMBUS_SECURITY_AUTHENTICATION_SCRAM_BOOTSTRAP_USER: 'admin' },
  });
  assert.equal(noPassword.status, 2);
  assert.match(noPassword.stderr, /security\.authentication\.scram\.bootstrapPassword/);
  const scramPlaintext = await runCli(['config', 'validate'], { env: { ...process.env, STREAMBUS_SECURITY_AUTHENTICATION_ENABLED: 'true', STREAMBUS_SECURITY_AUTHENTICATION_METHOD: 'scram-sha-512' } });
  assert.equal(scramPlaintext.status, 0, 'SCRAM never sends the password, so it may run without TLS (SASL_PLAINTEXT)');
});
