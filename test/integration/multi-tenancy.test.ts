// Goal: multi-tenancy on a real broker with JWT authentication. Two tenants (acme and globex, named by
// the token's `tenant` claim) each see and touch only their own topics and groups (Metadata, ListGroups,
// produce, DescribeConfigs, CreateTopics outside the namespace); a token without the claim is refused
// at authentication with the reason; acme at its maxTopics cannot create another (CreateTopics and
// auto-creation answer POLICY_VIOLATION, with the reason in the message); acme past its maxConnections
// is refused at SaslAuthenticate while globex connects; overrides set with AlterClientQuotas (the
// `tenant` entity) apply within a second; the per-tenant metrics and `streambus tenant` show them, and
// the shipped tenant alert rules use only metrics the broker exports. kafkajs, as a tenant, produces and
// consumes in a group of its namespace, and is refused another tenant's topic.
// Method: one broker process with TLS and OAUTHBEARER (test/helpers/tenant-broker.ts: tokens signed in the
// test with jose, as in test/security/sasl-oauthbearer.test.ts), raw Kafka connections that authenticate with
// SaslHandshake/SaslAuthenticate, a super user (`User:admin`) for the quota changes, and the CLI over
// SCRAM as the bootstrap admin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import kafkajs from 'kafkajs';
import { commitOffsets, produceBody, textBatch, type RawKafka } from '../helpers/raw-kafka.ts';
import { ADMIN_PASSWORD, metricValue as metric, TenantBroker } from '../helpers/tenant-broker.ts';
import { runCli } from '../helpers/run-cli.ts';
import { until } from '../helpers/timeout.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';

let tb: TenantBroker;

before(async () => {
  tb = await TenantBroker.start({
    STREAMBUS_MULTI_TENANCY_DEFAULT_QUOTAS_MAX_TOPICS: '3',
    STREAMBUS_MULTI_TENANCY_DEFAULT_QUOTAS_MAX_CONNECTIONS: '3',
    STREAMBUS_MULTI_TENANCY_DEFAULT_QUOTAS_MAX_BANDWIDTH_MBPS: '100',
  });
});

after(async () => {
  await tb?.stop();
});

const session = (subject: string, claims: Record<string, unknown>) => tb.session(subject, claims);
const connected = (subject: string, claims: Record<string, unknown>) => tb.connected(subject, claims);
const setTenantQuota = TenantBroker.setTenantQuota;
const metricsText = () => tb.metricsText();

async function create(conn: RawKafka, name: string): Promise<{ errorCode: number; errorMessage: string | null }> {
  const res = await conn.request(API_KEYS.CreateTopics, 7, { topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
  return { errorCode: res.topics[0]!.errorCode, errorMessage: res.topics[0]!.errorMessage };
}

async function topicNames(conn: RawKafka): Promise<string[]> {
  const md = await conn.request(API_KEYS.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  return md.topics.map((t) => t.name!).sort();
}

test('each tenant sees and touches only its own topics and groups; a token without a tenant is refused', { timeout: 60_000 }, async () => {
  const admin = await connected('admin', {});
  const acme = await connected('acme-app', { tenant: 'acme' });
  const globex = await connected('globex-app', { tenant: 'globex' });
  assert.deepEqual(await create(acme, 'acme.orders'), { errorCode: 0, errorMessage: null });
  assert.deepEqual(await create(globex, 'globex.events'), { errorCode: 0, errorMessage: null });
  assert.equal((await create(acme, 'orders')).errorCode, KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED, 'outside the namespace');
  assert.equal((await create(acme, 'globex.stolen')).errorCode, KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED, "in another tenant's namespace");

  assert.deepEqual(await topicNames(acme), ['acme.orders']);
  assert.deepEqual(await topicNames(globex), ['globex.events']);
  const all = await topicNames(admin);
  assert.ok(all.includes('acme.orders') && all.includes('globex.events'), 'the super user sees every topic');

  const produced = await acme.request(API_KEYS.Produce, 9, produceBody('acme.orders', 0, textBatch(['a', 'b'])));
  assert.equal(produced.responses[0]!.partitionResponses[0]!.errorCode, 0);
  const intruding = await acme.request(API_KEYS.Produce, 9, produceBody('globex.events', 0, textBatch(['x'])));
  assert.equal(intruding.responses[0]!.partitionResponses[0]!.errorCode, KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED);
  const asked = await acme.request(API_KEYS.Metadata, 12, { topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: 'globex.events' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  assert.equal(asked.topics[0]!.errorCode, KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED);

  const configs = await acme.request(API_KEYS.DescribeConfigs, 4, {
    resources: [{ resourceType: 2, resourceName: 'acme.orders', configurationKeys: null }, { resourceType: 2, resourceName: 'globex.events', configurationKeys: null }, { resourceType: 4, resourceName: '1', configurationKeys: null }],
    includeSynonyms: false,
    includeDocumentation: false,
  });
  assert.deepEqual(configs.results.map((r) => r.errorCode), [0, KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED, KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED]);

  assert.deepEqual([...(await commitOffsets(acme, 'acme.readers', 'acme.orders', new Map([[0, 1n]]))).values()], [0]);
  assert.deepEqual([...(await commitOffsets(globex, 'globex.readers', 'globex.events', new Map([[0, 0n]]))).values()], [0]);
  assert.deepEqual([...(await commitOffsets(acme, 'globex.readers', 'acme.orders', new Map([[0, 1n]]))).values()], [KafkaErrorCode.GROUP_AUTHORIZATION_FAILED]);
  const groupsOf = async (conn: RawKafka) => (await conn.request(API_KEYS.ListGroups, 4, { statesFilter: [], typesFilter: [] })).groups.map((g) => g.groupId).sort();
  assert.deepEqual(await groupsOf(acme), ['acme.readers']);
  assert.deepEqual(await groupsOf(globex), ['globex.readers']);
  assert.deepEqual(await groupsOf(admin), ['acme.readers', 'globex.readers']);

  const quotas = await acme.request(API_KEYS.DescribeClientQuotas, 1, { components: [], strict: false });
  assert.equal(quotas.errorCode, KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'a tenant reads no quotas, not even its own');
  // Log directories name every topic on the broker: the cluster's operators only.
  const tenantDirs = await acme.request(API_KEYS.DescribeLogDirs, 4, { topics: null });
  assert.equal(tenantDirs.errorCode, KafkaErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  assert.deepEqual(tenantDirs.results, []);
  // A partition's producers: only of the tenant's own topics.
  const producers = await acme.request(API_KEYS.DescribeProducers, 0, { topics: [{ name: 'globex.events', partitionIndexes: [0] }, { name: 'acme.orders', partitionIndexes: [0] }] });
  assert.deepEqual(producers.topics.map((t) => [t.name, t.partitions[0]!.errorCode]), [['globex.events', KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED], ['acme.orders', 0]]);
  // Paged topic descriptions: a listing shows only the tenant's topics; another's, named, is refused last.
  const described = await acme.request(API_KEYS.DescribeTopicPartitions, 0, { topics: [], responsePartitionLimit: 2000, cursor: null });
  assert.deepEqual(described.topics.map((t) => [t.name, t.errorCode]), [['acme.orders', 0]]);
  const describedNamed = await acme.request(API_KEYS.DescribeTopicPartitions, 0, { topics: [{ name: 'globex.events' }, { name: 'acme.orders' }], responsePartitionLimit: 2000, cursor: null });
  assert.deepEqual(describedNamed.topics.map((t) => [t.name, t.errorCode, t.partitions.length]), [['acme.orders', 0, 1], ['globex.events', KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED, 0]]);
  const adminDirs = await admin.request(API_KEYS.DescribeLogDirs, 4, { topics: null });
  assert.equal(adminDirs.errorCode, 0);
  const dirTopics = adminDirs.results[0]!.topics.map((t) => t.name);
  assert.ok(dirTopics.includes('acme.orders') && dirTopics.includes('globex.events'), `the super user sees every replica: ${dirTopics.join(', ')}`);

  const nobody = await session('drifter', {});
  assert.ok('errorCode' in nobody);
  assert.equal(nobody.errorCode, KafkaErrorCode.SASL_AUTHENTICATION_FAILED);
  assert.match(nobody.errorMessage ?? '', /no tenant for User:drifter .* multiTenancy.defaultTenant is empty/);
  await until(() => tb.broker.output().includes('connection refused: no tenant'), 10_000, 'the refusal log line');
  for (const c of [admin, acme, globex]) c.close();
});

test('a tenant at maxTopics creates no more (CreateTopics and auto-creation); a raised quota applies within a second', { timeout: 60_000 }, async () => {
  const admin = await connected('admin', {});
  const acme = await connected('acme-app', { tenant: 'acme' });
  // acme.orders exists: two more reach the default of 3.
  for (const name of ['acme.t2', 'acme.t3']) assert.deepEqual(await create(acme, name), { errorCode: 0, errorMessage: null });
  const refused = await create(acme, 'acme.t4');
  assert.equal(refused.errorCode, KafkaErrorCode.POLICY_VIOLATION);
  assert.match(refused.errorMessage ?? '', /Tenant acme already owns 3 topics, its maxTopics quota \(3\)/);
  const auto = await acme.request(API_KEYS.Metadata, 12, { topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: 'acme.auto' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
  assert.equal(auto.topics[0]!.errorCode, KafkaErrorCode.POLICY_VIOLATION, 'auto-creation is held to the quota too');
  assert.ok(!(await topicNames(admin)).includes('acme.auto'));
  assert.deepEqual(await create(admin, 'acme.by-operator'), { errorCode: 0, errorMessage: null }, 'a super user is not held to a tenant quota');

  await setTenantQuota(admin, 'acme', 'max_topics', 5);
  const t0 = performance.now();
  await until(async () => (await create(acme, 'acme.t5')).errorCode === 0, 1_000, 'the raised max_topics');
  assert.ok(performance.now() - t0 <= 1_000);
  assert.equal((await create(acme, 'acme.t6')).errorCode, KafkaErrorCode.POLICY_VIOLATION, '5 topics now: at the raised quota');
  acme.close();
  admin.close();
});

test('a tenant over maxConnections is refused at authentication while another connects; raised, it applies within a second', { timeout: 60_000 }, async () => {
  const admin = await connected('admin', {});
  // Earlier tests' acme connections are closed: wait until the broker counted them out.
  await until(async () => metric(await metricsText(), 'streambus_tenant_connections{tenant="acme"}') === 0, 10_000, 'acme connections closed');
  const acme = [];
  for (let i = 0; i < 3; i++) acme.push(await connected(`acme-${i}`, { tenant: 'acme' }));
  const fourth = await session('acme-3', { tenant: 'acme' });
  assert.ok('errorCode' in fourth, 'the fourth connection is refused');
  assert.equal(fourth.errorCode, KafkaErrorCode.SASL_AUTHENTICATION_FAILED);
  assert.match(fourth.errorMessage ?? '', /tenant acme already has 3 connections to this broker, its maxConnections quota \(3\)/);
  const globex = await connected('globex-app', { tenant: 'globex' });
  assert.deepEqual(await topicNames(globex), ['globex.events'], 'the other tenant is served');
  await until(() => tb.broker.output().includes('connection refused: tenant at its connection limit'), 10_000, 'the refusal log line');

  acme.pop()!.close();
  await until(async () => 'conn' in (await session('acme-again', { tenant: 'acme' })), 5_000, 'a freed place taken again');

  await setTenantQuota(admin, 'acme', 'max_connections', 4);
  const t0 = performance.now();
  await until(async () => 'conn' in (await session('acme-4', { tenant: 'acme' })), 1_000, 'the raised max_connections');
  assert.ok(performance.now() - t0 <= 1_000);

  const text = await metricsText();
  assert.equal(metric(text, 'streambus_tenant_connections{tenant="acme"}'), 4);
  assert.equal(metric(text, 'streambus_tenant_quota_utilisation_ratio{tenant="acme",quota="max_connections"}'), 1);
  assert.equal(metric(text, 'streambus_tenant_topics{tenant="acme"}'), 5);
  assert.ok((metric(text, 'streambus_tenant_bytes_in_total{tenant="acme"}') ?? 0) > 0);
  // The shipped tenant alert rules parse and use only metrics this broker exports.
  const rules = parse(readFileSync('deploy/prometheus/tenant-alerts.yml', 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  const used = new Set(rules.groups.flatMap((g) => g.rules.flatMap((r) => r.expr.match(/streambus_[a-z_]+/g) ?? [])));
  assert.ok(used.size >= 2);
  for (const name of used) assert.match(text, new RegExp(`^${name}[{ ]`, 'm'), `${name} is not exported`);
  await setTenantQuota(admin, 'acme', 'max_connections', null);
  tb.closeAll();
});

test('streambus tenant quota, describe and list', { timeout: 60_000 }, async () => {
  const cli = (args: string[]) =>
    runCli([...args, '--bootstrap-server', `127.0.0.1:${tb.broker.kafkaPort}`, '--ca-file', tb.certs.ca, '--sasl-mechanism', 'scram-sha-512', '--sasl-username', 'admin'], {
      env: { ...process.env, STREAMBUS_SASL_PASSWORD: ADMIN_PASSWORD },
      timeoutMs: 20_000,
    });
  const set = await cli(['tenant', 'quota', 'globex', '--max-topics', '7', '--max-bandwidth-mbps', '2.5']);
  assert.equal(set.status, 0, set.stderr);
  assert.match(set.stdout, /tenant=globex: max_topics=7, max_bandwidth_mbps=2.5/);
  const dflt = await cli(['tenant', 'quota', '--default', '--max-connections', '50']);
  assert.equal(dflt.status, 0, dflt.stderr);
  const described = await cli(['tenant', 'describe', 'globex', '--json']);
  assert.equal(described.status, 0, described.stderr);
  assert.deepEqual(JSON.parse(described.stdout), {
    tenant: 'globex',
    topics: [{ name: 'globex.events', partitions: 1 }],
    groups: ['globex.readers'],
    quotas: { max_topics: { value: 7, from: 'own' }, max_bandwidth_mbps: { value: 2.5, from: 'own' }, max_connections: { value: 50, from: 'tenant=<default>' } },
  });
  const listed = await cli(['tenant', 'list']);
  assert.equal(listed.status, 0, listed.stderr);
  assert.match(listed.stdout, /acme\s+5\s+max_topics=5/);
  assert.match(listed.stdout, /globex\s+1\s+max_topics=7, max_bandwidth_mbps=2.5/);
  assert.match(listed.stdout, /<default>\s+max_connections=50/);
  const bad = await cli(['tenant', 'quota', 'acme', '--max-topics', '2.5']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /max_topics must be a whole number/);
  const badName = await cli(['tenant', 'describe', 'no.dots']);
  assert.equal(badName.status, 2);
  const removed = await cli(['tenant', 'quota', '--default', '--delete', 'max_connections']);
  assert.equal(removed.status, 0, removed.stderr);
});

test('kafkajs as a tenant: produces, and consumes in a group of its namespace', { timeout: 60_000 }, async () => {
  const kafka = new kafkajs.Kafka({
    clientId: 'globex-kafkajs',
    brokers: [`127.0.0.1:${tb.broker.kafkaPort}`],
    ssl: { ca: [readFileSync(tb.certs.ca)] },
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await tb.token('globex-kafkajs', { tenant: 'globex' }) }) },
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 2 },
  });
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: 'globex.events', acks: -1, messages: [{ value: 'one' }, { value: 'two' }] });
  } finally {
    await producer.disconnect();
  }
  const consumer = kafka.consumer({ groupId: 'globex.kafkajs-readers' });
  const seen: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: 'globex.events', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await until(() => seen.length >= 2, 30_000, 'the two records read in the group');
  } finally {
    await consumer.disconnect();
  }
  assert.deepEqual(seen, ['one', 'two']);
  const denied = kafka.consumer({ groupId: 'acme.spy' });
  await denied.connect();
  try {
    await assert.rejects(denied.subscribe({ topic: 'acme.orders', fromBeginning: true }), /authoriz/i, "another tenant's topic");
  } finally {
    await denied.disconnect().catch(() => undefined);
  }
});
