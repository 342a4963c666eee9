// Goal: with the guide's mtls settings and multi-tenancy, a client certificate's O field names the
// tenant: the client creates and sees only `<O>.` topics; past the tenant's maxConnections a further
// certificate connection is closed at its first request, with a log line, while the first keeps working.
// Method: one broker process with TLS and client certificates (test/helpers/certs.ts: subjects
// `/O=Test/CN=<name>`), raw TLS Kafka connections presenting a certificate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { guideTlsEnv, makeTestCerts, type TestCerts } from '../helpers/certs.ts';
import { RawKafka } from '../helpers/raw-kafka.ts';
import { until } from '../helpers/timeout.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';

let certs: TestCerts;
let broker: BrokerProcess;

before(async () => {
  certs = makeTestCerts();
  broker = await startBroker({
    httpsCa: certs.ca,
    env: { ...guideTlsEnv(certs), STREAMBUS_MULTI_TENANCY_ENABLED: 'true', STREAMBUS_MULTI_TENANCY_DEFAULT_QUOTAS_MAX_CONNECTIONS: '1' },
  });
});

after(async () => {
  await broker?.stop();
  certs?.remove();
});

test("a client certificate's O field names the tenant; past maxConnections a certificate connection is closed", { timeout: 60_000 }, async () => {
  const alice = certs.client('alice');
  const connect = () => RawKafka.connectTls(broker.kafkaPort, { ca: readFileSync(certs.ca), cert: readFileSync(alice.cert), key: readFileSync(alice.key) });
  const conn = await connect();
  try {
    const create = async (name: string) =>
      (await conn.request(API_KEYS.CreateTopics, 7, { topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false })).topics[0]!.errorCode;
    assert.equal(await create('Test.orders'), 0);
    assert.equal(await create('orders'), KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const md = await conn.request(API_KEYS.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    assert.deepEqual(md.topics.map((t) => t.name), ['Test.orders']);

    const second = await connect();
    try {
      // ApiVersions needs no tenant; the first other request finds the tenant full.
      assert.equal((await second.request(API_KEYS.ApiVersions, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' })).errorCode, 0);
      await assert.rejects(second.request(API_KEYS.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }), /closed/);
    } finally {
      second.close();
    }
    await until(() => broker.output().includes('tenant Test already has 1 connections to this broker, its maxConnections quota (1)'), 10_000, 'the refusal log line');
    const again = await conn.request(API_KEYS.Metadata, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    assert.deepEqual(again.topics.map((t) => t.name), ['Test.orders'], 'the admitted connection keeps working');
  } finally {
    conn.close();
  }
});
