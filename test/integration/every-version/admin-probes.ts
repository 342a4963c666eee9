/**
 * Probes of the every-version test for the admin APIs: ApiVersions, CreateTopics, DeleteTopics,
 * DescribeConfigs, AlterConfigs, CreatePartitions, ElectLeaders, IncrementalAlterConfigs, AlterPartitionReassignments,
 * ListPartitionReassignments, DescribeCluster, DescribeLogDirs and DescribeTopicPartitions. Topics created or
 * deleted are throwaway ones named after API and version; the seeded topic is only read.
 */
import assert from 'node:assert/strict';
import { apiVersionEntries } from '../../../src/protocol/kafka/api-versions.ts';
import { ZERO_UUID } from '../../../src/protocol/kafka/codec-support.ts';
import { API_KEYS } from '../../../src/protocol/kafka/generated/index.ts';
import type { ProbeContext } from './probe-context.ts';

const TOPIC_RESOURCE = 2;
const BROKER_RESOURCE = 4;
/** The test broker runs with the default server.brokerId. */
const TEST_BROKER_ID = 1;
const SET = 0;
const BROKER_ENDPOINTS = 1;

const topicName = (api: string, version: number): string => `every-version-${api}-v${version}`;

export async function apiVersions(ctx: ProbeContext, version: number): Promise<void> {
  const res = await ctx.exchange(API_KEYS.ApiVersions, version, version >= 3 ? { clientSoftwareName: 'every-version', clientSoftwareVersion: '1' } : {}, 'versions');
  assert.deepEqual(res.apiKeys.map((k) => ({ apiKey: k.apiKey, minVersion: k.minVersion, maxVersion: k.maxVersion })), apiVersionEntries(), 'the answer lists the table');
}

export async function createTopics(ctx: ProbeContext, version: number): Promise<void> {
  const name = topicName('create-topics', version);
  const res = await ctx.exchange(API_KEYS.CreateTopics, version, {
    topics: [{ name, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 10_000,
    ...(version >= 1 ? { validateOnly: false } : {}),
  }, 'create');
  assert.deepEqual(res.topics.map((t) => t.name), [name]);
  // Version 5 answers with the topic's partitions and configs (KIP-525).
  if (version >= 5) assert.equal(res.topics[0]!.numPartitions, 2);
}

export async function deleteTopics(ctx: ProbeContext, version: number): Promise<void> {
  const name = topicName('delete-topics', version);
  await ctx.createTopic(name, 1);
  // Version 6 names a topic by name or by id (KIP-516): by id when Metadata gives ids.
  const id = version >= 6 ? await ctx.topicId(name) : null;
  const body = version >= 6 ? { topics: [id ? { name: null, topicId: id } : { name, topicId: ZERO_UUID }], timeoutMs: 10_000 } : { topicNames: [name], timeoutMs: 10_000 };
  const res = await ctx.exchange(API_KEYS.DeleteTopics, version, body, 'delete');
  assert.equal(res.responses.length, 1);
  if (id) assert.equal(res.responses[0]!.topicId, id);
  else assert.equal(res.responses[0]!.name, name);
  const after = await ctx.conn.request(API_KEYS.Metadata, 4, { topics: [{ name }], allowAutoTopicCreation: false });
  assert.equal(after.topics[0]!.errorCode, 3, `${name} is gone (UNKNOWN_TOPIC_OR_PARTITION)`);
}

export async function describeConfigs(ctx: ProbeContext, version: number): Promise<void> {
  const res = await ctx.exchange(API_KEYS.DescribeConfigs, version, {
    resources: [{ resourceType: TOPIC_RESOURCE, resourceName: ctx.seeded.name, configurationKeys: null }],
    ...(version >= 1 ? { includeSynonyms: false } : {}),
    ...(version >= 3 ? { includeDocumentation: false } : {}),
  }, 'describe');
  assert.equal(res.results.length, 1);
  assert.ok(res.results[0]!.configs.some((c) => c.name === 'retention.ms'), 'the topic configs are listed');
  // The broker resource, with synonyms where the version has them.
  const broker = await ctx.exchange(API_KEYS.DescribeConfigs, version, {
    resources: [{ resourceType: BROKER_RESOURCE, resourceName: String(TEST_BROKER_ID), configurationKeys: ['log.retention.ms', 'log.cleanup.policy'] }],
    ...(version >= 1 ? { includeSynonyms: true } : {}),
    ...(version >= 3 ? { includeDocumentation: false } : {}),
  }, 'describe broker');
  assert.deepEqual(broker.results[0]!.configs.map((c) => c.name), ['log.cleanup.policy', 'log.retention.ms']);
  if (version >= 1) assert.ok(broker.results[0]!.configs.every((c) => c.synonyms.length > 0), 'synonyms are listed when asked');
}

export async function alterConfigs(ctx: ProbeContext, version: number): Promise<void> {
  const name = topicName('replace-configs', version);
  await ctx.createTopic(name, 1);
  const res = await ctx.exchange(API_KEYS.AlterConfigs, version, {
    resources: [{ resourceType: TOPIC_RESOURCE, resourceName: name, configs: [{ name: 'retention.ms', value: '3600000' }] }],
    validateOnly: false,
  }, 'replace configs');
  assert.deepEqual(res.responses.map((r) => r.resourceName), [name]);
}

export async function createPartitions(ctx: ProbeContext, version: number): Promise<void> {
  const name = topicName('create-partitions', version);
  await ctx.createTopic(name, 1);
  const res = await ctx.exchange(API_KEYS.CreatePartitions, version, { topics: [{ name, count: 3, assignments: null }], timeoutMs: 10_000, validateOnly: false }, 'grow');
  assert.deepEqual(res.results.map((r) => r.name), [name]);
  const after = await ctx.conn.request(API_KEYS.Metadata, 4, { topics: [{ name }], allowAutoTopicCreation: false });
  assert.equal(after.topics[0]!.partitions.length, 3);
}

export async function incrementalAlterConfigs(ctx: ProbeContext, version: number): Promise<void> {
  const name = topicName('alter-configs', version);
  await ctx.createTopic(name, 1);
  const res = await ctx.exchange(API_KEYS.IncrementalAlterConfigs, version, {
    resources: [{ resourceType: TOPIC_RESOURCE, resourceName: name, configs: [{ name: 'retention.ms', configOperation: SET, value: '3600000' }] }],
    validateOnly: false,
  }, 'set retention');
  assert.deepEqual(res.responses.map((r) => r.resourceName), [name]);
}

/** A listener without SASL: the handshake is answered (ILLEGAL_SASL_STATE, no mechanisms) and the connection stays. */
export async function saslHandshake(ctx: ProbeContext, version: number): Promise<void> {
  const res = await ctx.exchange(API_KEYS.SaslHandshake, version, { mechanism: 'OAUTHBEARER' }, 'handshake');
  assert.deepEqual(res.mechanisms, []);
}

export async function saslAuthenticate(ctx: ProbeContext, version: number): Promise<void> {
  const res = await ctx.exchange(API_KEYS.SaslAuthenticate, version, { authBytes: Buffer.from('n,,\x01\x01') }, 'authenticate');
  assert.equal(res.authBytes.length, 0);
}

export async function describeCluster(ctx: ProbeContext, version: number): Promise<void> {
  const res = await ctx.exchange(API_KEYS.DescribeCluster, version, { includeClusterAuthorizedOperations: false, ...(version >= 1 ? { endpointType: BROKER_ENDPOINTS } : {}) }, 'describe');
  assert.deepEqual(res.brokers.map((b) => [b.host, b.port]), [['127.0.0.1', ctx.kafkaPort]]);
}

/** On a single broker the only target is the broker itself: a move to where the partition is already is no move. */
export async function alterPartitionReassignments(ctx: ProbeContext, version: number): Promise<void> {
  const name = topicName('reassign', version);
  await ctx.createTopic(name, 1);
  const md = await ctx.conn.request(API_KEYS.Metadata, 4, { topics: [{ name }], allowAutoTopicCreation: false });
  const self = md.brokers[0]!.nodeId;
  const res = await ctx.exchange(API_KEYS.AlterPartitionReassignments, version, { timeoutMs: 10_000, topics: [{ name, partitions: [{ partitionIndex: 0, replicas: [self] }] }] }, 'reassign');
  assert.deepEqual(res.responses.map((r) => [r.name, r.partitions.map((p) => [p.partitionIndex, p.errorCode])]), [[name, [[0, 0]]]]);
}

export async function listPartitionReassignments(ctx: ProbeContext, version: number): Promise<void> {
  const res = await ctx.exchange(API_KEYS.ListPartitionReassignments, version, { timeoutMs: 10_000, topics: null }, 'list');
  assert.deepEqual(res.topics, [], 'nothing moves on a single broker');
}

/** A lone broker leads everything it is the preferred replica of: no election is needed. */
export async function electLeaders(ctx: ProbeContext, version: number): Promise<void> {
  const res = await ctx.exchange(API_KEYS.ElectLeaders, version, { ...(version >= 1 ? { electionType: 0 } : {}), topicPartitions: [{ topic: ctx.seeded.name, partitions: [0] }], timeoutMs: 5_000 }, 'elect');
  assert.deepEqual(res.replicaElectionResults.map((r) => [r.topic, r.partitionResult.map((p) => [p.partitionId, p.errorCode])]), [[ctx.seeded.name, [[0, 84]]]]);
}


/** The seeded topic's replicas are in the broker's one log directory, with their sizes; a partition not asked for is left out. */
export async function describeLogDirs(ctx: ProbeContext, version: number): Promise<void> {
  const { name } = ctx.seeded;
  const res = await ctx.exchange(API_KEYS.DescribeLogDirs, version, { topics: [{ topic: name, partitions: [0, 99] }] }, 'describe');
  assert.equal(res.results.length, 1, 'one log directory');
  const dir = res.results[0]!;
  assert.equal(dir.errorCode, 0);
  assert.ok(dir.logDir.startsWith('/'), `an absolute path: ${dir.logDir}`);
  assert.deepEqual(dir.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.offsetLag, p.isFutureKey])]), [[name, [[0, 0n, false]]]]);
  assert.ok(dir.topics[0]!.partitions[0]!.partitionSize > 0n, 'partition 0 holds the seeded records');
  // Version 4 adds the volume's size and free space.
  if (version >= 4) assert.ok(dir.totalBytes > 0n && dir.usableBytes >= 0n && dir.usableBytes <= dir.totalBytes, `volume ${dir.totalBytes} / ${dir.usableBytes}`);
  // Null asks for every replica: the seeded topic's two partitions among them.
  const all = await ctx.exchange(API_KEYS.DescribeLogDirs, version, { topics: null }, 'describe all');
  assert.deepEqual(all.results[0]!.topics.find((t) => t.name === name)?.partitions.map((p) => p.partitionIndex), [0, 1]);
}

/** Every field of the seeded topic as Metadata gives it, then paged one partition at a time, then the errors. */
export async function describeTopicPartitions(ctx: ProbeContext, version: number): Promise<void> {
  const { name, partitions, leaderEpoch } = ctx.seeded;
  const topicId = await ctx.topicId(name);
  const whole = await ctx.exchange(API_KEYS.DescribeTopicPartitions, version, { topics: [{ name }], responsePartitionLimit: 2000, cursor: null }, 'describe');
  assert.equal(whole.nextCursor, null);
  assert.equal(whole.topics.length, 1);
  const topic = whole.topics[0]!;
  assert.deepEqual([topic.name, topic.isInternal, topic.partitions.length], [name, false, partitions]);
  if (topicId !== null) assert.equal(topic.topicId, topicId);
  assert.ok(topic.topicAuthorizedOperations > 0, 'without an authorizer every operation is allowed');
  for (const [index, p] of topic.partitions.entries()) {
    assert.deepEqual([p.partitionIndex, p.leaderId, p.replicaNodes, p.isrNodes, p.offlineReplicas, p.eligibleLeaderReplicas, p.lastKnownElr], [index, TEST_BROKER_ID, [TEST_BROKER_ID], [TEST_BROKER_ID], [], [], []]);
  }
  assert.equal(topic.partitions[0]!.leaderEpoch, leaderEpoch);

  // One partition per answer: the cursor walks the topic.
  const first = await ctx.exchange(API_KEYS.DescribeTopicPartitions, version, { topics: [{ name }], responsePartitionLimit: 1, cursor: null }, 'describe');
  assert.deepEqual(first.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]), [[name, [0]]]);
  assert.deepEqual(first.nextCursor, { topicName: name, partitionIndex: 1 });
  const second = await ctx.exchange(API_KEYS.DescribeTopicPartitions, version, { topics: [{ name }], responsePartitionLimit: 1, cursor: first.nextCursor }, 'describe');
  assert.deepEqual(second.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]), [[name, [1]]]);
  assert.equal(second.nextCursor, null);

  // No topics named: all of them, in name order, each whole.
  const all = await ctx.exchange(API_KEYS.DescribeTopicPartitions, version, { topics: [], responsePartitionLimit: 2000, cursor: null }, 'describe');
  const names = all.topics.map((t) => t.name!);
  assert.ok(names.includes(name));
  assert.deepEqual(names, [...names].sort());

  const missing = `every-version-no-such-topic-v${version}`;
  const unknown = await ctx.exchange(API_KEYS.DescribeTopicPartitions, version, { topics: [{ name: missing }], responsePartitionLimit: 2000, cursor: null }, 'unknown topic');
  assert.deepEqual(unknown.topics.map((t) => [t.name, t.topicId, t.partitions]), [[missing, ZERO_UUID, []]]);
  // Kafka's rule: a cursor must name one of the topics asked for.
  const stray = await ctx.exchange(API_KEYS.DescribeTopicPartitions, version, { topics: [{ name }], responsePartitionLimit: 2000, cursor: { topicName: missing, partitionIndex: 0 } }, 'stray cursor');
  assert.deepEqual(stray.topics.map((t) => [t.name, t.partitions]), [[name, []]]);
}
