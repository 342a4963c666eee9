/**
 * Probes of the transaction coordinator's APIs: AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
 * DescribeTransactions and ListTransactions, and of DescribeProducers (a partition leader's producers). Each version gets its own transactional id, initialised
 * with FindCoordinator (key type 1, which has `__transaction_state` created on first use) and
 * InitProducerId, both retried while the coordinator is being created or loaded.
 */
import assert from 'node:assert/strict';
import { API_KEYS } from '../../../src/protocol/kafka/generated/index.ts';
import { KafkaErrorCode } from '../../../src/protocol/kafka/error-codes.ts';
import { produceBody, textBatch } from '../../helpers/raw-kafka.ts';
import type { ProbeContext } from './probe-context.ts';

const RETRIABLE = new Set<number>([KafkaErrorCode.COORDINATOR_NOT_AVAILABLE, KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS, KafkaErrorCode.CONCURRENT_TRANSACTIONS, KafkaErrorCode.NOT_COORDINATOR]);

/** Retries `attempt` (bounded: 10 s) while it answers a retriable coordinator error. */
async function retried(what: string, attempt: () => Promise<number>): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const code = await attempt();
    if (code === 0) return;
    assert.ok(RETRIABLE.has(code) && Date.now() < deadline, `${what}: error ${code}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A transactional producer for `id`: its producer id and epoch. */
async function txnProducer(ctx: ProbeContext, id: string): Promise<{ producerId: bigint; producerEpoch: number }> {
  await retried('find the transaction coordinator', async () => (await ctx.conn.request(API_KEYS.FindCoordinator, 3, { key: id, keyType: 1 })).errorCode);
  let producer = { producerId: -1n, producerEpoch: -1 };
  await retried('init the transactional producer', async () => {
    const res = await ctx.conn.request(API_KEYS.InitProducerId, 4, { transactionalId: id, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    producer = { producerId: res.producerId, producerEpoch: res.producerEpoch };
    return res.errorCode;
  });
  return producer;
}

function addPartitions(ctx: ProbeContext, id: string, producer: { producerId: bigint; producerEpoch: number }, version = 3) {
  const name = ctx.seeded.name;
  return ctx.exchange(API_KEYS.AddPartitionsToTxn, version, { v3AndBelowTransactionalId: id, v3AndBelowProducerId: producer.producerId, v3AndBelowProducerEpoch: producer.producerEpoch, v3AndBelowTopics: [{ name, partitions: [1] }] }, 'add partitions');
}

export async function addPartitionsToTxn(ctx: ProbeContext, version: number): Promise<void> {
  const id = `every-version-add-partitions-v${version}`;
  const res = await addPartitions(ctx, id, await txnProducer(ctx, id), version);
  assert.deepEqual(res.resultsByTopicV3AndBelow.map((t) => [t.name, t.resultsByPartition.map((p) => [p.partitionIndex, p.partitionErrorCode])]), [[ctx.seeded.name, [[1, 0]]]]);
}

export async function addOffsetsToTxn(ctx: ProbeContext, version: number): Promise<void> {
  const id = `every-version-add-offsets-v${version}`;
  const producer = await txnProducer(ctx, id);
  const res = await ctx.exchange(API_KEYS.AddOffsetsToTxn, version, { transactionalId: id, ...producer, groupId: `every-version-txn-group-v${version}` }, 'add offsets');
  assert.equal(res.errorCode, 0);
}

export async function endTxn(ctx: ProbeContext, version: number): Promise<void> {
  const id = `every-version-end-txn-v${version}`;
  const producer = await txnProducer(ctx, id);
  await addPartitions(ctx, id, producer);
  const res = await ctx.exchange(API_KEYS.EndTxn, version, { transactionalId: id, ...producer, committed: false }, 'abort');
  assert.equal(res.errorCode, 0);
}

export async function describeTransactions(ctx: ProbeContext, version: number): Promise<void> {
  const id = `every-version-describe-txn-v${version}`;
  const producer = await txnProducer(ctx, id);
  await addPartitions(ctx, id, producer);
  const res = await ctx.exchange(API_KEYS.DescribeTransactions, version, { transactionalIds: [id] }, 'describe');
  const s = res.transactionStates[0]!;
  assert.deepEqual([s.transactionalId, s.transactionState, s.producerId, s.producerEpoch, s.topics.map((t) => [t.topic, t.partitions])], [id, 'Ongoing', producer.producerId, producer.producerEpoch, [[ctx.seeded.name, [1]]]]);
}

export async function listTransactions(ctx: ProbeContext, version: number): Promise<void> {
  const id = `every-version-list-txn-v${version}`;
  const producer = await txnProducer(ctx, id);
  const res = await ctx.exchange(API_KEYS.ListTransactions, version, { stateFilters: ['Empty'], producerIdFilters: [producer.producerId], durationFilter: -1n }, 'list');
  assert.deepEqual(res.transactionStates.map((t) => [t.transactionalId, t.transactionState]), [[id, 'Empty']]);
}

/** A transaction left open on a throwaway topic: its producer is listed with its last sequence and the transaction's first offset. */
export async function describeProducers(ctx: ProbeContext, version: number): Promise<void> {
  const id = `every-version-describe-producers-v${version}`;
  const name = `every-version-describe-producers-v${version}`;
  await ctx.createTopic(name, 1);
  const producer = await txnProducer(ctx, id);
  const added = await ctx.conn.request(API_KEYS.AddPartitionsToTxn, 3, { v3AndBelowTransactionalId: id, v3AndBelowProducerId: producer.producerId, v3AndBelowProducerEpoch: producer.producerEpoch, v3AndBelowTopics: [{ name, partitions: [0] }] });
  assert.equal(added.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode, 0);
  const batch = textBatch(['a', 'b', 'c'], { producerId: producer.producerId, producerEpoch: producer.producerEpoch, baseSequence: 0, transactional: true });
  const produced = await ctx.conn.request(API_KEYS.Produce, 9, { ...produceBody(name, 0, batch), transactionalId: id });
  assert.equal(produced.responses[0]!.partitionResponses[0]!.errorCode, 0);
  const res = await ctx.exchange(API_KEYS.DescribeProducers, version, { topics: [{ name, partitionIndexes: [0] }] }, 'describe');
  const p = res.topics[0]!.partitions[0]!;
  assert.deepEqual(
    p.activeProducers.map((a) => [a.producerId, a.producerEpoch, a.lastSequence, a.currentTxnStartOffset, a.coordinatorEpoch]),
    [[producer.producerId, producer.producerEpoch, 2, 0n, -1]],
  );
  assert.ok(p.activeProducers[0]!.lastTimestamp > 0n);
  await ctx.conn.request(API_KEYS.EndTxn, 3, { transactionalId: id, ...producer, committed: false });
}
