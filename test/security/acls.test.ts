// Goal: with security.authorization on (mtls clients, User:admin a super user), what no ACL allows is
// refused with Kafka's error and a broker log line naming the principal, and what an ACL allows works:
// kafkajs admin creates, lists and deletes ACLs; alice writes and reads her topic with an idempotent
// producer and a group consumer, but not another topic; bob is refused her group; a topic listing
// shows each principal only what it may describe; prefixed ACLs; a non-super user cannot manage ACLs
// (CLUSTER_AUTHORIZATION_FAILED) or write transaction markers or create topics; TxnOffsetCommit needs
// WRITE on the transactional id, READ on the group and READ on each topic; `streambus acl` creates, lists and deletes;
// @platformatic/kafka lists ACLs; kcat (librdkafka) gets "Topic authorization failed"; every version
// of the three ACL APIs is served; a removed ACL takes effect at once; with metrics.requireAuthentication
// a scraper needs a client certificate while health stays open. Fail closed: authorization without
// authentication, or a malformed superUsers list, stops the broker (exit 2).
// Method: one real broker process with the guide's TLS settings (test/helpers/certs.ts), kafkajs,
// @platformatic/kafka, kcat and the CLI as clients; raw TLS connections for the per-version probes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import kafkajs from 'kafkajs';
import { Admin as PlatformaticAdmin } from '@platformatic/kafka';
import { httpsGet, startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { guideTlsEnv, makeTestCerts, type TestCerts } from '../helpers/certs.ts';
import { commitOffsets, createTopic, RawKafka } from '../helpers/raw-kafka.ts';
import { runKcat } from '../helpers/kcat.ts';
import { requireTool } from '../helpers/tools.ts';
import { runCli } from '../helpers/run-cli.ts';
import { until } from '../helpers/timeout.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';

const { AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

let certs: TestCerts;
let broker: BrokerProcess;

before(async () => {
  certs = makeTestCerts();
  broker = await startBroker({
    env: {
      ...guideTlsEnv(certs),
      STREAMBUS_SECURITY_AUTHORIZATION_ENABLED: 'true',
      STREAMBUS_SECURITY_AUTHORIZATION_SUPER_USERS: 'User:admin',
      STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      STREAMBUS_METRICS_REQUIRE_AUTHENTICATION: 'true',
    },
    httpsCa: certs.ca,
  });
});

after(async () => {
  await broker?.stop();
  certs?.remove();
});

function kafkaAs(user: string): kafkajs.Kafka {
  const c = certs.client(user);
  return new kafkajs.Kafka({
    clientId: `acl-${user}`,
    brokers: [`127.0.0.1:${broker.kafkaPort}`],
    ssl: { ca: [readFileSync(certs.ca)], cert: readFileSync(c.cert), key: readFileSync(c.key) },
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 100 },
  });
}

async function withAdmin<T>(user: string, fn: (admin: kafkajs.Admin) => Promise<T>): Promise<T> {
  const admin = kafkaAs(user).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

const topicAcl = (name: string, principal: string, operation: kafkajs.AclOperationTypes, patternType = ResourcePatternTypes.LITERAL) => ({
  resourceType: AclResourceTypes.TOPIC,
  resourceName: name,
  resourcePatternType: patternType,
  principal,
  host: '*',
  operation,
  permissionType: AclPermissionTypes.ALLOW,
});

const errorType = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
    return 'none';
  } catch (err) {
    // kafkajs: a protocol error's type, or the first of an aggregate (createTopics) or a retried one.
    const e = err as { type?: string; errors?: { type?: string }[]; originalError?: { type?: string }; cause?: { type?: string } };
    return e.type ?? e.errors?.[0]?.type ?? e.originalError?.type ?? e.cause?.type ?? String(err);
  }
};

/** TLS options presenting a client certificate for `user`, signed by the test CA. */
function tlsOf(user: string) {
  const c = certs.client(user);
  return { ca: readFileSync(certs.ca), cert: readFileSync(c.cert), key: readFileSync(c.key) };
}

test('ACLs decide what each principal may do; kafkajs manages them', { timeout: 90_000 }, async () => {
  await withAdmin('admin', async (admin) => {
    await admin.createTopics({ topics: [{ topic: 'acl-orders' }, { topic: 'acl-secret' }, { topic: 'logs.app' }], waitForLeaders: true });
    await admin.createAcls({
      acl: [
        topicAcl('acl-orders', 'User:alice', AclOperationTypes.WRITE),
        topicAcl('acl-orders', 'User:alice', AclOperationTypes.READ),
        { ...topicAcl('acl-app', 'User:alice', AclOperationTypes.READ), resourceType: AclResourceTypes.GROUP },
        topicAcl('logs.', 'User:bob', AclOperationTypes.READ, ResourcePatternTypes.PREFIXED),
      ],
    });
    const described = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    const flat = described.resources.flatMap((r) => r.acls.map((a) => `${r.resourceType}:${r.resourceName}:${r.resourcePatternType}:${a.principal}:${a.operation}`)).sort();
    assert.deepEqual(flat, ['2:acl-orders:3:User:alice:3', '2:acl-orders:3:User:alice:4', '2:logs.:4:User:bob:3', '3:acl-app:3:User:alice:3']);
    assert.deepEqual((await admin.listTopics()).filter((t) => !t.startsWith('__')).sort(), ['acl-orders', 'acl-secret', 'logs.app'], 'a super user sees every topic');
  });

  // alice: an idempotent producer (InitProducerId passes on her WRITE on a topic) and a group consumer.
  const alice = kafkaAs('alice');
  const producer = alice.producer({ idempotent: true });
  await producer.connect();
  try {
    await producer.send({ topic: 'acl-orders', acks: -1, messages: [{ value: 'o1' }, { value: 'o2' }] });
    assert.equal(await errorType(producer.send({ topic: 'acl-secret', acks: -1, messages: [{ value: 'no' }] })), 'TOPIC_AUTHORIZATION_FAILED');
  } finally {
    await producer.disconnect();
  }
  const consumer = alice.consumer({ groupId: 'acl-app', sessionTimeout: 10_000 });
  const seen: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: 'acl-orders', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await until(() => seen.length >= 2, 30_000, 'alice reads her topic in her group');
  } finally {
    await consumer.disconnect();
  }
  assert.deepEqual(seen, ['o1', 'o2']);

  await withAdmin('alice', async (admin) => {
    assert.deepEqual((await admin.listTopics()).sort(), ['acl-orders'], 'alice sees only what she may describe');
    assert.equal(await errorType(admin.createTopics({ topics: [{ topic: 'alice-new' }] })), 'TOPIC_AUTHORIZATION_FAILED');
    assert.equal(await errorType(admin.createAcls({ acl: [topicAcl('acl-secret', 'User:alice', AclOperationTypes.READ)] })), 'CLUSTER_AUTHORIZATION_FAILED');
  });

  await withAdmin('bob', async (admin) => {
    assert.deepEqual((await admin.listTopics()).sort(), ['logs.app'], 'a prefixed READ lets bob describe logs.app');
    // kafkajs reports any FindCoordinator failure as "coordinator not found"; the exact code is checked raw below.
    await assert.rejects(admin.fetchOffsets({ groupId: 'acl-app', topics: ['acl-orders'] }));
  });
  const bob = certs.client('bob');
  const raw = await RawKafka.connectTls(broker.kafkaPort, { ca: readFileSync(certs.ca), cert: readFileSync(bob.cert), key: readFileSync(bob.key) });
  try {
    const found = await raw.request(API_KEYS.FindCoordinator, 3, { key: 'acl-app', keyType: 0 });
    assert.equal(found.errorCode, KafkaErrorCode.GROUP_AUTHORIZATION_FAILED);
    const joined = await raw.request(API_KEYS.JoinGroup, 5, { groupId: 'acl-app', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] });
    assert.equal(joined.errorCode, KafkaErrorCode.GROUP_AUTHORIZATION_FAILED);
    // Transaction markers are the coordinator's (CLUSTER_ACTION on the cluster), never a client's.
    const marked = await raw.request(API_KEYS.WriteTxnMarkers, 1, { markers: [{ producerId: 1n, producerEpoch: 0, transactionResult: false, coordinatorEpoch: 0, topics: [{ name: 'acl-orders', partitionIndexes: [0] }] }] });
    assert.equal(marked.markers[0]!.topics[0]!.partitions[0]!.errorCode, KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  } finally {
    raw.close();
  }

  // Removing alice's WRITE takes effect at once.
  await withAdmin('admin', async (admin) => {
    const removed = await admin.deleteAcls({
      filters: [{ resourceType: AclResourceTypes.TOPIC, resourceName: 'acl-orders', resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:alice', operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.ANY }],
    });
    assert.equal(removed.filterResponses[0]!.matchingAcls.length, 1);
  });
  const again = alice.producer();
  await again.connect();
  try {
    assert.equal(await errorType(again.send({ topic: 'acl-orders', acks: -1, messages: [{ value: 'o3' }] })), 'TOPIC_AUTHORIZATION_FAILED');
  } finally {
    await again.disconnect();
  }
  // The producer asked for acl-secret's metadata first (as Kafka's clients do): refused there.
  await until(() => /"principal":"User:alice".*"operation":"WRITE".*"resource":"TOPIC:acl-orders"/.test(broker.output()), 5_000, 'the refused write is logged');
  const log = broker.output();
  assert.match(log, /"principal":"User:alice","host":"127\.0\.0\.1","operation":"DESCRIBE","resource":"TOPIC:acl-secret","msg":"request refused: no ACL allows it"/);
  assert.match(log, /"principal":"User:bob".*"resource":"GROUP:acl-app"/);
});

test('streambus acl creates, lists and deletes; @platformatic/kafka lists; a non-super user is refused', { timeout: 60_000 }, async () => {
  const admin = certs.client('admin');
  const tls = ['--bootstrap-server', `127.0.0.1:${broker.kafkaPort}`, '--tls', '--ca-file', certs.ca, '--cert-file', admin.cert, '--key-file', admin.key];
  const created = await runCli(['acl', 'add', ...tls, '--allow-principal', 'User:carol', '--operation', 'read', '--operation', 'DescribeConfigs', '--topic', 'cli-', '--resource-pattern-type', 'prefixed']);
  assert.equal(created.status, 0, created.stderr);
  assert.match(created.stdout, /created 2 ACL\(s\)/);
  const listed = await runCli(['acl', 'list', ...tls, '--principal', 'User:carol', '--json']);
  assert.equal(listed.status, 0, listed.stderr);
  assert.deepEqual(
    (JSON.parse(listed.stdout) as { resourceName: string; patternType: string; operation: string; permission: string }[]).map((a) => `${a.resourceName} ${a.patternType} ${a.operation} ${a.permission}`).sort(),
    ['cli- PREFIXED DESCRIBE_CONFIGS ALLOW', 'cli- PREFIXED READ ALLOW'],
  );
  const matched = await runCli(['acl', 'list', ...tls, '--topic', 'cli-orders', '--resource-pattern-type', 'match']);
  assert.equal(matched.status, 0, matched.stderr);
  assert.match(matched.stdout, /TOPIC:cli- +PREFIXED +User:carol +\* +READ +ALLOW/);

  const p = new PlatformaticAdmin({
    clientId: 'acl-platformatic',
    bootstrapBrokers: [`127.0.0.1:${broker.kafkaPort}`],
    tls: { ca: readFileSync(certs.ca), cert: readFileSync(admin.cert), key: readFileSync(admin.key) },
  });
  try {
    const resources = await p.describeAcls({ filter: { resourceType: 2, resourceName: 'cli-', resourcePatternType: 4, principal: null, host: null, operation: 1, permissionType: 1 } });
    assert.equal(resources.flatMap((r) => r.acls).length, 2);
  } finally {
    await p.close();
  }

  const usage = await runCli(['acl', 'delete', ...tls]);
  assert.equal(usage.status, 2, 'delete without a filter is a usage error');
  const deleted = await runCli(['acl', 'remove', ...tls, '--principal', 'User:carol']);
  assert.equal(deleted.status, 0, deleted.stderr);
  assert.match(deleted.stdout, /deleted 2 ACL\(s\)/);

  const dave = certs.client('dave');
  const refused = await runCli(['acl', 'list', '--bootstrap-server', `127.0.0.1:${broker.kafkaPort}`, '--tls', '--ca-file', certs.ca, '--cert-file', dave.cert, '--key-file', dave.key]);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /CLUSTER_AUTHORIZATION_FAILED/);
});

test('kcat is refused a topic it may not read with librdkafka\'s authorization error', { timeout: 60_000 }, async (t) => {
  if (!requireTool(t, 'kcat')) return;
  const erin = certs.client('erin');
  const r = await runKcat(
    ['-b', `127.0.0.1:${broker.kafkaPort}`, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${certs.ca}`, '-X', `ssl.certificate.location=${erin.cert}`, '-X', `ssl.key.location=${erin.key}`, '-C', '-t', 'acl-secret', '-o', 'beginning', '-e', '-q'],
    null,
    30_000,
  );
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /authoriz/i);
});

test('TxnOffsetCommit needs WRITE on the transactional id, then READ on the group, then READ on each topic', { timeout: 30_000 }, async () => {
  const admin = await RawKafka.connectTls(broker.kafkaPort, tlsOf('admin'));
  const gina = await RawKafka.connectTls(broker.kafkaPort, tlsOf('gina'));
  try {
    for (const topic of ['txo-ok', 'txo-secret']) assert.equal(await createTopic(admin, topic, 1), 0);
    const allow = (resourceType: number, resourceName: string, operation: number) => ({ resourceType, resourceName, resourcePatternType: 3, principal: 'User:gina', host: '*', operation, permissionType: 3 });
    const created = await admin.request(API_KEYS.CreateAcls, 3, { creations: [allow(5, 'gina-tx', 4), allow(3, 'gina-group', 3), allow(2, 'txo-ok', 3)] });
    assert.deepEqual(created.results.map((r) => r.errorCode), [0, 0, 0]);
    const init = await admin.request(API_KEYS.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    const commit = async (transactionalId: string, groupId: string): Promise<string[]> => {
      const res = await gina.request(API_KEYS.TxnOffsetCommit, 3, {
        transactionalId,
        groupId,
        producerId: init.producerId,
        producerEpoch: init.producerEpoch,
        generationId: -1,
        memberId: '',
        groupInstanceId: null,
        topics: ['txo-ok', 'txo-secret'].map((name) => ({ name, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] })),
      });
      return res.topics.flatMap((t) => t.partitions.map((p) => `${t.name}:${p.errorCode}`));
    };
    const E = KafkaErrorCode;
    assert.deepEqual(await commit('someone-else-tx', 'gina-group'), [`txo-ok:${E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED}`, `txo-secret:${E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED}`]);
    assert.deepEqual(await commit('gina-tx', 'someone-else-group'), [`txo-ok:${E.GROUP_AUTHORIZATION_FAILED}`, `txo-secret:${E.GROUP_AUTHORIZATION_FAILED}`]);
    assert.deepEqual(await commit('gina-tx', 'gina-group'), ['txo-ok:0', `txo-secret:${E.TOPIC_AUTHORIZATION_FAILED}`]);
    await until(() => /"principal":"User:gina".*"operation":"WRITE".*"resource":"TRANSACTIONAL_ID:someone-else-tx"/.test(broker.output()), 5_000, 'the refusal is logged');
  } finally {
    admin.close();
    gina.close();
  }
});

test('OffsetDelete needs DELETE on the group, then READ on each topic; partitions that do not exist are unknown', { timeout: 30_000 }, async () => {
  const admin = await RawKafka.connectTls(broker.kafkaPort, tlsOf('admin'));
  const olga = await RawKafka.connectTls(broker.kafkaPort, tlsOf('olga'));
  try {
    for (const topic of ['odel-ok', 'odel-secret']) assert.equal(await createTopic(admin, topic, 1), 0);
    for (const topic of ['odel-ok', 'odel-secret']) assert.deepEqual(await commitOffsets(admin, 'odel-group', topic, new Map([[0, 1n]])), new Map([[0, 0]]));
    const allow = (resourceType: number, resourceName: string, operation: number) => ({ resourceType, resourceName, resourcePatternType: 3, principal: 'User:olga', host: '*', operation, permissionType: 3 });
    const remove = () =>
      olga.request(API_KEYS.OffsetDelete, 0, { groupId: 'odel-group', topics: [{ name: 'odel-ok', partitions: [{ partitionIndex: 0 }, { partitionIndex: 5 }] }, { name: 'odel-secret', partitions: [{ partitionIndex: 0 }] }] });
    const E = KafkaErrorCode;
    assert.deepEqual(await remove(), { errorCode: E.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] });
    // DELETE on the group (6) and READ (3) on one topic.
    const created = await admin.request(API_KEYS.CreateAcls, 3, { creations: [allow(3, 'odel-group', 6), allow(2, 'odel-ok', 3)] });
    assert.deepEqual(created.results.map((r) => r.errorCode), [0, 0]);
    const answer = await remove();
    assert.equal(answer.errorCode, 0);
    assert.deepEqual(answer.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])]), [
      ['odel-ok', [[0, 0], [5, E.UNKNOWN_TOPIC_OR_PARTITION]]],
      ['odel-secret', [[0, E.TOPIC_AUTHORIZATION_FAILED]]],
    ]);
    const left = await admin.request(API_KEYS.OffsetFetch, 5, { groupId: 'odel-group', topics: null, requireStable: false });
    assert.deepEqual(left.topics.map((t) => t.name), ['odel-secret'], 'only the refused offset is left');
  } finally {
    admin.close();
    olga.close();
  }
});

test('every version of DescribeAcls, CreateAcls and DeleteAcls is served with authorization on', { timeout: 30_000 }, async () => {
  const admin = certs.client('admin');
  const conn = await RawKafka.connectTls(broker.kafkaPort, { ca: readFileSync(certs.ca), cert: readFileSync(admin.cert), key: readFileSync(admin.key) });
  try {
    for (let v = 0; v <= 3; v++) {
      const name = `versions-v${v}`;
      const pattern = v >= 1 ? { resourcePatternType: 3 } : {};
      const created = await conn.request(API_KEYS.CreateAcls, v, { creations: [{ resourceType: 2, resourceName: name, ...pattern, principal: 'User:frank', host: '*', operation: 3, permissionType: 3 }] });
      assert.deepEqual(created.results.map((r) => r.errorCode), [0], `CreateAcls v${v}`);
      const bad = await conn.request(API_KEYS.CreateAcls, v, { creations: [{ resourceType: 2, resourceName: name, ...pattern, principal: 'frank', host: '*', operation: 3, permissionType: 3 }] });
      assert.deepEqual(bad.results.map((r) => r.errorCode), [KafkaErrorCode.INVALID_REQUEST], `CreateAcls v${v} with a malformed principal`);
      const filter = { resourceTypeFilter: 2, resourceNameFilter: name, ...(v >= 1 ? { patternTypeFilter: 3 } : {}), principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 };
      const described = await conn.request(API_KEYS.DescribeAcls, v, filter);
      assert.equal(described.errorCode, 0, `DescribeAcls v${v}`);
      assert.deepEqual(described.resources.map((r) => [r.resourceName, r.acls.map((a) => a.principal)]), [[name, ['User:frank']]]);
      const deleted = await conn.request(API_KEYS.DeleteAcls, v, { filters: [filter] });
      assert.deepEqual(deleted.filterResults.map((r) => [r.errorCode, r.matchingAcls.length]), [[0, 1]], `DeleteAcls v${v}`);
    }
  } finally {
    conn.close();
  }
});

test('metrics.requireAuthentication: /metrics needs a client certificate, health stays open', { timeout: 30_000 }, async () => {
  const scraper = certs.client('prometheus');
  const anonymous = await httpsGet(broker.httpPort, '/metrics', { ca: certs.ca });
  assert.equal(anonymous.status, 401);
  assert.match(anonymous.body, /metrics need a client certificate/);
  const scraped = await httpsGet(broker.httpPort, '/metrics', { ca: certs.ca, cert: scraper.cert, key: scraper.key });
  assert.equal(scraped.status, 200);
  assert.match(scraped.body, /streambus_tls_certificate_expiry_seconds/);
  // The refusals of the first test are counted (alice's WRITE and DESCRIBE on topics, bob's group).
  assert.match(scraped.body, /streambus_authorization_denied_total\{operation="WRITE",resource_type="TOPIC"[^}]*\} [1-9]/);
  assert.match(scraped.body, /streambus_authorization_denied_total\{operation="DESCRIBE",resource_type="GROUP"[^}]*\} [1-9]/);
  assert.equal((await httpsGet(broker.httpPort, '/health/ready', { ca: certs.ca })).status, 200);
  const noTls = await runCli(['config', 'validate'], { env: { ...process.env, STREAMBUS_METRICS_REQUIRE_AUTHENTICATION: 'true' } });
  assert.equal(noTls.status, 2);
  assert.match(noTls.stderr, /security\.tls\.enabled: expected true, got false \(metrics\.requireAuthentication/);
});

test('fail closed: authorization without authentication, or malformed superUsers, stop the broker', { timeout: 30_000 }, async () => {
  const plain = await runCli(['config', 'validate'], { env: { ...process.env, STREAMBUS_SECURITY_AUTHORIZATION_ENABLED: 'true' } });
  assert.equal(plain.status, 2);
  assert.match(plain.stderr, /security\.authentication\.enabled.*User:ANONYMOUS/s);
  const malformed = await runCli(['config', 'validate'], { env: { ...process.env, ...guideTlsEnv(certs), STREAMBUS_SECURITY_AUTHORIZATION_ENABLED: 'true', STREAMBUS_SECURITY_AUTHORIZATION_SUPER_USERS: 'admin' } });
  assert.equal(malformed.status, 2);
  assert.match(malformed.stderr, /security\.authorization\.superUsers/);
});
