// Goal: every version of every API the broker advertises is served: for each key of the
// supported-versions table and each version from the advertised min to the max, a minimal valid
// request gets an answer with its correlation id that decodes completely with the generated decoder
// of that version, the connection stays open and is served again, and the answer's error codes are 0
// except where every-version/expected-errors.ts names a specific one (Produce v0-2: 35 per partition).
// Method: one broker process; a topic with two partitions and a few records; one test per API key,
// read from the table when the test runs, each on its own raw connection. Probes (every-version/*-
// probes.ts) build version-shaped requests with the generated codecs; groups and topics that a probe
// changes or deletes are its own. A key of the table with no probe fails its test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { apiVersionEntries } from '../../src/protocol/kafka/api-versions.ts';
import { API_BY_KEY, API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { createTopic, produceBody, RawKafka, textBatch } from '../helpers/raw-kafka.ts';
import * as admin from './every-version/admin-probes.ts';
import * as security from './every-version/security-probes.ts';
import * as data from './every-version/data-probes.ts';
import * as groups from './every-version/group-probes.ts';
import * as txn from './every-version/txn-probes.ts';
import { ProbeContext, type SeededTopic } from './every-version/probe-context.ts';

type Probe = (ctx: ProbeContext, version: number) => Promise<void>;

const PROBES: Readonly<Record<number, Probe>> = {
  [API_KEYS.Produce]: data.produce,
  [API_KEYS.Fetch]: data.fetch,
  [API_KEYS.ListOffsets]: data.listOffsets,
  [API_KEYS.Metadata]: data.metadata,
  [API_KEYS.OffsetCommit]: groups.offsetCommit,
  [API_KEYS.OffsetFetch]: groups.offsetFetch,
  [API_KEYS.FindCoordinator]: groups.findCoordinator,
  [API_KEYS.JoinGroup]: groups.joinGroup,
  [API_KEYS.Heartbeat]: groups.heartbeat,
  [API_KEYS.LeaveGroup]: groups.leaveGroup,
  [API_KEYS.SyncGroup]: groups.syncGroup,
  [API_KEYS.DescribeGroups]: groups.describeGroups,
  [API_KEYS.ListGroups]: groups.listGroups,
  [API_KEYS.SaslHandshake]: admin.saslHandshake,
  [API_KEYS.ApiVersions]: admin.apiVersions,
  [API_KEYS.CreateTopics]: admin.createTopics,
  [API_KEYS.DeleteTopics]: admin.deleteTopics,
  [API_KEYS.DeleteRecords]: data.deleteRecords,
  [API_KEYS.InitProducerId]: data.initProducerId,
  [API_KEYS.OffsetForLeaderEpoch]: data.offsetForLeaderEpoch,
  [API_KEYS.AddPartitionsToTxn]: txn.addPartitionsToTxn,
  [API_KEYS.AddOffsetsToTxn]: txn.addOffsetsToTxn,
  [API_KEYS.EndTxn]: txn.endTxn,
  [API_KEYS.WriteTxnMarkers]: data.writeTxnMarkers,
  [API_KEYS.TxnOffsetCommit]: groups.txnOffsetCommit,
  [API_KEYS.DescribeAcls]: security.describeAcls,
  [API_KEYS.CreateAcls]: security.createAcls,
  [API_KEYS.DeleteAcls]: security.deleteAcls,
  [API_KEYS.DescribeConfigs]: admin.describeConfigs,
  [API_KEYS.AlterConfigs]: admin.alterConfigs,
  [API_KEYS.CreatePartitions]: admin.createPartitions,
  [API_KEYS.DeleteGroups]: groups.deleteGroups,
  [API_KEYS.IncrementalAlterConfigs]: admin.incrementalAlterConfigs,
  [API_KEYS.ElectLeaders]: admin.electLeaders,
  [API_KEYS.AlterPartitionReassignments]: admin.alterPartitionReassignments,
  [API_KEYS.ListPartitionReassignments]: admin.listPartitionReassignments,
  [API_KEYS.SaslAuthenticate]: admin.saslAuthenticate,
  [API_KEYS.DescribeClientQuotas]: security.describeClientQuotas,
  [API_KEYS.AlterClientQuotas]: security.alterClientQuotas,
  [API_KEYS.DescribeUserScramCredentials]: security.describeUserScramCredentials,
  [API_KEYS.AlterUserScramCredentials]: security.alterUserScramCredentials,
  [API_KEYS.DescribeCluster]: admin.describeCluster,
  [API_KEYS.DescribeLogDirs]: admin.describeLogDirs,
  [API_KEYS.OffsetDelete]: groups.offsetDelete,
  [API_KEYS.DescribeProducers]: txn.describeProducers,
  [API_KEYS.DescribeTransactions]: txn.describeTransactions,
  [API_KEYS.ListTransactions]: txn.listTransactions,
  [API_KEYS.DescribeTopicPartitions]: admin.describeTopicPartitions,
};

const TOPIC = 'every-version';
const PARTITION0_RECORDS = 3;
const PER_KEY_TIMEOUT_MS = 30_000;

let broker: BrokerProcess;
let seeded: SeededTopic;

before(async () => {
  broker = await startBroker({ env: { STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' } });
  const conn = await RawKafka.connect(broker.kafkaPort);
  try {
    assert.equal(await createTopic(conn, TOPIC, 2), 0);
    for (const [partition, count] of [[0, PARTITION0_RECORDS], [1, 2]] as const) {
      const values = Array.from({ length: count }, (_, i) => `seed-${partition}-${i}`);
      const res = await conn.request(API_KEYS.Produce, 7, produceBody(TOPIC, partition, textBatch(values)));
      assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, 0, `seed partition ${partition}`);
    }
    const md = await conn.request(API_KEYS.Metadata, 7, { topics: [{ name: TOPIC }], allowAutoTopicCreation: false });
    const leaderEpoch = md.topics[0]!.partitions.find((p) => p.partitionIndex === 0)!.leaderEpoch;
    seeded = { name: TOPIC, partitions: 2, partition0Records: PARTITION0_RECORDS, leaderEpoch };
  } finally {
    conn.close();
  }
});

after(async () => {
  const code = await broker?.stop();
  assert.equal(code, 0, broker?.output());
});

for (const { apiKey, minVersion, maxVersion } of apiVersionEntries()) {
  const name = API_BY_KEY[apiKey]?.name ?? `key ${apiKey}`;
  test(`${name} (${apiKey}) v${minVersion}-${maxVersion}: every advertised version is answered in full`, { timeout: PER_KEY_TIMEOUT_MS }, async () => {
    const probe = PROBES[apiKey];
    assert.ok(probe, `no probe for ${name} (${apiKey}); add one to test/integration/every-version/`);
    // Every version is tried, on a new connection after one the broker closed, so a failure names
    // all the versions that fail rather than the first.
    const failures: string[] = [];
    let conn = await RawKafka.connect(broker.kafkaPort);
    try {
      for (let version = minVersion; version <= maxVersion; version++) {
        if (!conn.open) conn = await RawKafka.connect(broker.kafkaPort);
        try {
          await probe(new ProbeContext(conn, seeded, broker.kafkaPort), version);
          // The same connection is still served after this version's requests.
          const again = await conn.request(API_KEYS.ApiVersions, 0, {});
          assert.equal(again.errorCode, 0, `${name} v${version}: ApiVersions after it`);
        } catch (err) {
          failures.push(`v${version}: ${(err as Error).message}`);
        }
      }
    } finally {
      conn.close();
    }
    assert.deepEqual(failures, [], `${name}: ${failures.length} of ${maxVersion - minVersion + 1} versions fail`);
  });
}
