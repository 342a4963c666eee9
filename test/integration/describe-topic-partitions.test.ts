// Goal: DescribeTopicPartitions pages as Kafka's does: topics in name order, at most the partition
// limit per answer, a cursor naming where the next answer starts (inside a topic, or at the start of
// the next one), topics before the cursor left out, unknown topics answered in their place; bad
// cursors refused and a limit below one taken as one, so a client always moves on.
// Method: one broker; three topics of 2, 3 and 1 partitions; the same topics walked with a limit of
// two partitions, named (with an unknown one among them) and unnamed (all topics).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { createTopic, RawKafka } from '../helpers/raw-kafka.ts';

let broker: BrokerProcess;
let conn: RawKafka;

before(async () => {
  broker = await startBroker();
  conn = await RawKafka.connect(broker.kafkaPort);
  for (const [name, partitions] of [['dtp-b', 3], ['dtp-a', 2], ['dtp-c', 1]] as const) assert.equal(await createTopic(conn, name, partitions), 0);
});

after(async () => {
  conn?.close();
  assert.equal(await broker?.stop(), 0, broker?.output());
});

type Cursor = { topicName: string; partitionIndex: number } | null;

/** One answer as [name, error, partition indexes] per topic, and its cursor. */
async function describe(names: readonly string[], limit: number, cursor: Cursor): Promise<{ topics: [string, number, number[]][]; next: Cursor }> {
  const res = await conn.request(API_KEYS.DescribeTopicPartitions, 0, { topics: names.map((name) => ({ name })), responsePartitionLimit: limit, cursor });
  return { topics: res.topics.map((t) => [t.name!, t.errorCode, t.partitions.map((p) => p.partitionIndex)]), next: res.nextCursor };
}

test('named topics are walked two partitions at a time, in name order, an unknown one in its place', async () => {
  const names = ['dtp-c', 'dtp-b', 'dtp-0-missing', 'dtp-a'];
  const first = await describe(names, 2, null);
  assert.deepEqual(first.topics, [
    ['dtp-0-missing', KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, []],
    ['dtp-a', 0, [0, 1]],
  ]);
  // The limit ran out exactly at a topic's end: the next answer starts at the next topic.
  assert.deepEqual(first.next, { topicName: 'dtp-b', partitionIndex: 0 });
  const second = await describe(names, 2, first.next);
  assert.deepEqual(second.topics, [['dtp-b', 0, [0, 1]]]);
  assert.deepEqual(second.next, { topicName: 'dtp-b', partitionIndex: 2 });
  const third = await describe(names, 2, second.next);
  assert.deepEqual(third.topics, [['dtp-b', 0, [2]], ['dtp-c', 0, [0]]]);
  assert.equal(third.next, null);
});

test('with no topics named, every topic from the cursor on', async () => {
  const from = await describe([], 2000, { topicName: 'dtp-b', partitionIndex: 1 });
  assert.deepEqual(from.topics, [['dtp-b', 0, [1, 2]], ['dtp-c', 0, [0]]]);
  assert.equal(from.next, null);
  const all = await conn.request(API_KEYS.DescribeTopicPartitions, 0, { topics: [], responsePartitionLimit: 2000, cursor: null });
  // The broker's own __consumer_offsets sorts first, marked internal.
  assert.deepEqual(all.topics.map((t) => [t.name, t.isInternal]), [['__consumer_offsets', true], ['dtp-a', false], ['dtp-b', false], ['dtp-c', false]]);
});

test('a cursor outside the topics asked for, or before a first partition, is refused on each of them', async () => {
  const refused = [['dtp-a', KafkaErrorCode.INVALID_REQUEST, []], ['dtp-c', KafkaErrorCode.INVALID_REQUEST, []]];
  assert.deepEqual(await describe(['dtp-a', 'dtp-c'], 2000, { topicName: 'dtp-b', partitionIndex: 0 }), { topics: refused, next: null });
  assert.deepEqual(await describe(['dtp-a', 'dtp-c'], 2000, { topicName: 'dtp-a', partitionIndex: -1 }), { topics: refused, next: null });
  assert.deepEqual(await describe([], 2000, { topicName: 'dtp-a', partitionIndex: -1 }), { topics: [], next: null });
});

test('a limit of zero or less still moves on, one partition per answer', async () => {
  for (const limit of [0, -5]) {
    const res = await describe(['dtp-a'], limit, null);
    assert.deepEqual(res, { topics: [['dtp-a', 0, [0]]], next: { topicName: 'dtp-a', partitionIndex: 1 } }, `limit ${limit}`);
  }
});
