// Goal: with the guide's security settings a 3-broker cluster runs mutual TLS on the inter-broker port
// as well: the brokers elect, replicate and serve SSL clients; a broker whose certificate another CA
// signed cannot join (its handshakes are refused with a log line on the brokers it dials), and the
// cluster carries on. With security.authorization, an ACL created through one broker is enforced by
// every broker (the partitions' leaders differ), and its deletion through another broker too.
// Method: three real broker processes on 127.0.0.1 with certificates from test/helpers/certs.ts; a
// kafkajs client over SSL; a fourth broker (outside cluster.nodes) started with a stranger's certificate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import kafkajs from 'kafkajs';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { guideTlsEnv, makeTestCerts, type TestCerts } from '../helpers/certs.ts';
import { until } from '../helpers/timeout.ts';

let certs: TestCerts;
let cluster: BrokerCluster;

const tlsEnv = (cert: string, key: string) => guideTlsEnv(certs, cert, key);

function kafkaAs(user: string, brokers = cluster.bootstrap.slice(0, 3)): kafkajs.Kafka {
  const client = certs.client(user);
  return new kafkajs.Kafka({
    clientId: `tls-cluster-${user}`,
    brokers,
    ssl: { ca: [readFileSync(certs.ca)], cert: readFileSync(client.cert), key: readFileSync(client.key) },
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
}

before(async () => {
  certs = makeTestCerts();
  const authorization = { STREAMBUS_SECURITY_AUTHORIZATION_ENABLED: 'true', STREAMBUS_SECURITY_AUTHORIZATION_SUPER_USERS: 'User:app' };
  cluster = await startCluster(4, { listed: 3, started: 3, env: { ...tlsEnv(certs.brokerCert, certs.brokerKey), ...authorization }, httpsCa: certs.ca });
});

after(async () => {
  await cluster?.stop();
  certs?.remove();
});

test('three brokers over mutual TLS replicate and serve SSL clients; a broker with another CA\'s certificate cannot join', { timeout: 120_000 }, async () => {
  const kafka = kafkaAs('app');
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ idempotent: true });
  await producer.connect();
  try {
    await admin.createTopics({ topics: [{ topic: 'secured', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    await producer.send({ topic: 'secured', acks: -1, messages: Array.from({ length: 30 }, (_, i) => ({ value: `m${i}`, partition: i % 3 })) });
    let inSync = false;
    for (let i = 0; i < 100 && !inSync; i++) {
      const meta = await admin.fetchTopicMetadata({ topics: ['secured'] });
      inSync = meta.topics[0]!.partitions.every((p) => p.isr.length === 3);
      if (!inSync) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(inSync, 'every partition in sync on all three brokers');
    const offsets = await admin.fetchTopicOffsets('secured');
    assert.deepEqual(offsets.map((o) => Number(o.high)).sort(), [10, 10, 10]);

    const stranger = certs.client('intruder', { otherCa: true });
    // Its own files are consistent (another CA's bundle and a certificate it signed), so it starts and dials.
    await assert.rejects(cluster.start(4, { env: { ...tlsEnv(stranger.cert, stranger.key), STREAMBUS_SECURITY_TLS_CA_FILE: certs.otherCa }, readyTimeoutMs: 8_000 }), /did not become ready/);
    const refusedOn = () => [1, 2, 3].filter((id) => cluster.member(id).process!.output().includes('refused inter-broker TLS handshake'));
    await until(() => refusedOn().length === 3, 10_000, 'every listed broker to refuse the intruder');
    // The cluster carries on.
    await producer.send({ topic: 'secured', acks: -1, messages: [{ value: 'after', partition: 0 }] });
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
});

test('an ACL created through one broker is enforced by all, and its deletion through another too', { timeout: 60_000 }, async () => {
  const { AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;
  const write = { resourceType: AclResourceTypes.TOPIC, resourceName: 'secured', resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:alice', host: '*', operation: AclOperationTypes.WRITE, permissionType: AclPermissionTypes.ALLOW };
  const viaFirst = kafkaAs('app', [cluster.bootstrap[0]!]).admin();
  await viaFirst.connect();
  try {
    await viaFirst.createAcls({ acl: [write] });
  } finally {
    await viaFirst.disconnect();
  }
  // Every partition (led by different brokers) takes alice's writes once the entry reached its leader.
  const alice = kafkaAs('alice').producer();
  await alice.connect();
  try {
    await until(async () => {
      try {
        await alice.send({ topic: 'secured', acks: -1, messages: [0, 1, 2].map((partition) => ({ value: 'alice', partition })) });
        return true;
      } catch {
        return false;
      }
    }, 20_000, 'alice writes to every partition');
    const viaSecond = kafkaAs('app', [cluster.bootstrap[1]!]).admin();
    await viaSecond.connect();
    try {
      const removed = await viaSecond.deleteAcls({ filters: [{ ...write, permissionType: AclPermissionTypes.ANY }] });
      assert.equal(removed.filterResponses[0]!.matchingAcls.length, 1);
    } finally {
      await viaSecond.disconnect();
    }
    await until(async () => {
      try {
        await alice.send({ topic: 'secured', acks: -1, messages: [{ value: 'late', partition: 0 }] });
        return false;
      } catch (err) {
        return (err as { type?: string }).type === 'TOPIC_AUTHORIZATION_FAILED';
      }
    }, 20_000, 'alice refused once the deletion reached the leader');
  } finally {
    await alice.disconnect();
  }
  const refusals = [1, 2, 3].filter((id) => /"principal":"User:alice".*"operation":"WRITE".*"resource":"TOPIC:secured"/.test(cluster.member(id).process!.output()));
  assert.ok(refusals.length >= 1, 'the refusing leader logged it');
});
