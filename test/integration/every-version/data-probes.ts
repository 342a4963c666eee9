/**
 * Probes of the every-version test for the data path: Produce, Fetch, ListOffsets, Metadata,
 * OffsetForLeaderEpoch, InitProducerId, DeleteRecords and WriteTxnMarkers. Each sends one minimal request of the version given (the
 * fields that version has, and no other) and checks what the answer says beyond its error codes.
 */
import assert from 'node:assert/strict';
import { API_KEYS } from '../../../src/protocol/kafka/generated/index.ts';
import { textBatch } from '../../helpers/raw-kafka.ts';
import type { ProbeContext } from './probe-context.ts';

/** Produce writes here, so partition 0 keeps exactly the seeded records the read probes expect. */
const PRODUCE_PARTITION = 1;
const LATEST = -1n;

export async function produce(ctx: ProbeContext, version: number): Promise<void> {
  const res = await ctx.exchange(API_KEYS.Produce, version, {
    ...(version >= 3 ? { transactionalId: null } : {}),
    acks: -1,
    timeoutMs: 10_000,
    topicData: [{ name: ctx.seeded.name, partitionData: [{ index: PRODUCE_PARTITION, records: textBatch([`produce v${version}`], {}, [`k${version}`]) }] }],
  }, 'produce');
  assert.equal(res.responses.length, 1);
  assert.deepEqual(res.responses[0]!.partitionResponses.map((p) => p.index), [PRODUCE_PARTITION]);
  if (version >= 3) assert.ok(res.responses[0]!.partitionResponses[0]!.baseOffset >= 0n, 'a base offset is assigned');
}

export async function fetch(ctx: ProbeContext, version: number): Promise<void> {
  const byId = version >= 13;
  const topicId = byId ? await ctx.topicId(ctx.seeded.name) : null;
  if (byId) assert.ok(topicId, `Fetch v${version} names topics by id, so Metadata v10+ must be advertised`);
  const res = await ctx.exchange(API_KEYS.Fetch, version, {
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    ...(version >= 7 ? { sessionId: 0, sessionEpoch: -1, forgottenTopicsData: [] } : {}),
    topics: [{ ...(byId ? { topicId: topicId! } : { topic: ctx.seeded.name }), partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
  }, 'fetch');
  assert.equal(res.responses.length, 1);
  const topic = res.responses[0]!;
  if (byId) assert.equal(topic.topicId, topicId);
  else assert.equal(topic.topic, ctx.seeded.name);
  const partition = topic.partitions[0]!;
  assert.equal(partition.partitionIndex, 0);
  if (version >= 4) {
    assert.equal(partition.highWatermark, BigInt(ctx.seeded.partition0Records));
    assert.ok(partition.records && partition.records.length > 0, 'the seeded records come back');
  }
}

export async function listOffsets(ctx: ProbeContext, version: number): Promise<void> {
  const res = await ctx.exchange(API_KEYS.ListOffsets, version, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: ctx.seeded.name, partitions: [{ partitionIndex: 0, timestamp: LATEST, ...(version === 0 ? { maxNumOffsets: 1 } : {}) }] }],
  }, 'latest offset');
  const p = res.topics[0]!.partitions[0]!;
  const end = BigInt(ctx.seeded.partition0Records);
  // Version 0 answers in old_style_offsets, later versions in offset.
  if (version === 0) assert.deepEqual(p.oldStyleOffsets, [end]);
  else assert.equal(p.offset, end);
}

export async function metadata(ctx: ProbeContext, version: number): Promise<void> {
  const options = {
    ...(version >= 4 ? { allowAutoTopicCreation: false } : {}),
    ...(version >= 8 ? { includeTopicAuthorizedOperations: false } : {}),
  };
  const byName = await ctx.exchange(API_KEYS.Metadata, version, { topics: [{ name: ctx.seeded.name }], ...options }, 'by name');
  assert.deepEqual(byName.brokers.map((b) => [b.host, b.port]), [['127.0.0.1', ctx.kafkaPort]]);
  assert.equal(byName.topics.length, 1);
  const topic = byName.topics[0]!;
  assert.equal(topic.name, ctx.seeded.name);
  assert.deepEqual(topic.partitions.map((p) => p.partitionIndex).sort(), Array.from({ length: ctx.seeded.partitions }, (_, i) => i));
  if (version < 10) return;
  // Version 12 looks topics up by id (MetadataRequest.json: "Version 12 supports topic Id").
  assert.notEqual(topic.topicId, '00000000-0000-0000-0000-000000000000', 'v10+ answers carry the topic id');
  if (version < 12) return;
  const byId = await ctx.exchange(API_KEYS.Metadata, version, { topics: [{ name: null, topicId: topic.topicId }], ...options }, 'by id');
  assert.deepEqual(byId.topics.map((t) => [t.name, t.topicId]), [[ctx.seeded.name, topic.topicId]]);
}

export async function offsetForLeaderEpoch(ctx: ProbeContext, version: number): Promise<void> {
  const res = await ctx.exchange(API_KEYS.OffsetForLeaderEpoch, version, {
    ...(version >= 3 ? { replicaId: -1 } : {}),
    topics: [{ topic: ctx.seeded.name, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: ctx.seeded.leaderEpoch }] }],
  }, 'end of epoch');
  const p = res.topics[0]!.partitions[0]!;
  assert.equal(p.partition, 0);
  // The current epoch ends at the log end offset (KIP-101); v0 answers carry no epoch.
  assert.equal(p.endOffset, BigInt(ctx.seeded.partition0Records));
  if (version >= 1) assert.equal(p.leaderEpoch, ctx.seeded.leaderEpoch);
}

export async function initProducerId(ctx: ProbeContext, version: number): Promise<void> {
  const res = await ctx.exchange(API_KEYS.InitProducerId, version, { transactionalId: null, transactionTimeoutMs: 60_000 }, 'idempotent producer');
  assert.ok(res.producerId >= 0n, 'a producer id is assigned');
  assert.ok(res.producerEpoch >= 0, 'with an epoch');
}

/** Its own topic with three records; the log start moves to 2 and the answer says so. */
export async function deleteRecords(ctx: ProbeContext, version: number): Promise<void> {
  const name = `every-version-delete-records-v${version}`;
  await ctx.createTopic(name, 1);
  await ctx.conn.request(API_KEYS.Produce, 7, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 10_000,
    topicData: [{ name, partitionData: [{ index: 0, records: textBatch(['a', 'b', 'c']) }] }],
  });
  const res = await ctx.exchange(API_KEYS.DeleteRecords, version, { topics: [{ name, partitions: [{ partitionIndex: 0, offset: 2n }] }], timeoutMs: 10_000 }, 'delete');
  assert.deepEqual(res.topics[0]!.partitions.map((p) => [p.partitionIndex, p.lowWatermark]), [[0, 2n]]);
}

/**
 * Its own topic: a producer's open transaction (one record) holds the last stable offset at 0; the
 * abort marker closes it, and read_committed ListOffsets then answers the log end (record + marker).
 */
export async function writeTxnMarkers(ctx: ProbeContext, version: number): Promise<void> {
  const name = `every-version-txn-markers-v${version}`;
  await ctx.createTopic(name, 1);
  const init = await ctx.conn.request(API_KEYS.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  const { producerId, producerEpoch } = init;
  const batch = textBatch(['t'], { transactional: true, producerId, producerEpoch, baseSequence: 0 });
  const produced = await ctx.conn.request(API_KEYS.Produce, 7, { transactionalId: null, acks: -1, timeoutMs: 10_000, topicData: [{ name, partitionData: [{ index: 0, records: batch }] }] });
  assert.equal(produced.responses[0]!.partitionResponses[0]!.errorCode, 0, 'transactional produce');
  const stable = async (): Promise<bigint> => {
    const res = await ctx.conn.request(API_KEYS.ListOffsets, 5, { replicaId: -1, isolationLevel: 1, topics: [{ name, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: LATEST }] }] });
    return res.topics[0]!.partitions[0]!.offset;
  };
  assert.equal(await stable(), 0n, 'the open transaction holds the last stable offset');
  const res = await ctx.exchange(API_KEYS.WriteTxnMarkers, version, {
    markers: [{ producerId, producerEpoch, transactionResult: false, coordinatorEpoch: 0, topics: [{ name, partitionIndexes: [0] }] }],
  }, 'abort marker');
  assert.deepEqual(res.markers.map((m) => [m.producerId, m.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)])]), [[producerId, [[name, [0]]]]]);
  assert.equal(await stable(), 2n, 'the marker decided it');
}
