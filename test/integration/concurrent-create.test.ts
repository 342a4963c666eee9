// Goal: topics created by many clients at once never make Metadata answer a non-retriable error:
// while 20 admin clients each create 10 topics at the same time, another client polls Metadata for
// every topic and every partition error it sees must be 0 or a retriable one (LEADER_NOT_AVAILABLE,
// NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION); afterwards every topic takes a record and
// gives it back.
// Method: one broker process; kafkajs admins for the creations and a raw connection polling Metadata
// v12 (all topics) in a loop until the creations are done. A partition whose topic is committed but
// whose log is still being opened must read as LEADER_NOT_AVAILABLE, never KAFKA_STORAGE_ERROR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { type Kafka } from 'kafkajs';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { RawKafka, fetchAll } from '../helpers/raw-kafka.ts';
import { withTimeout } from '../helpers/timeout.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';

const { Kafka: KafkaClient, logLevel } = kafkajs;
const CLIENTS = 20;
const TOPICS_PER_CLIENT = 10;
const RETRIABLE = new Set<number>([0, KafkaErrorCode.LEADER_NOT_AVAILABLE, KafkaErrorCode.NOT_LEADER_OR_FOLLOWER, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);

let broker: BrokerProcess;
let kafka: Kafka;

before(async () => {
  broker = await startBroker({ env: { STREAMBUS_KAFKA_DEFAULT_PARTITIONS: '3' } });
  kafka = new KafkaClient({ clientId: 'concurrent-create', brokers: [`127.0.0.1:${broker.kafkaPort}`], logLevel: logLevel.NOTHING });
});

after(async () => {
  const code = await broker?.stop();
  assert.equal(code, 0, broker?.output());
});

test('20 clients creating 10 topics each while Metadata is polled: only retriable errors, every topic usable', { timeout: 120_000 }, async () => {
  const seen = new Map<number, string>();
  let polls = 0;
  let creating = true;
  const poller = (async () => {
    const conn = await RawKafka.connect(broker.kafkaPort);
    try {
      while (creating) {
        const res = await conn.request(3, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
        polls++;
        for (const t of res.topics) {
          if (t.errorCode !== 0) seen.set(t.errorCode, `topic ${t.name}`);
          for (const p of t.partitions) if (p.errorCode !== 0) seen.set(p.errorCode, `${t.name}-${p.partitionIndex}`);
        }
      }
    } finally {
      conn.close();
    }
  })();
  const names: string[] = [];
  const admins = Array.from({ length: CLIENTS }, () => kafka.admin());
  try {
    await Promise.all(admins.map((a) => a.connect()));
    await withTimeout(
      Promise.all(
        admins.map((a, c) => {
          const topics = Array.from({ length: TOPICS_PER_CLIENT }, (_, i) => ({ topic: `cc-${c}-${i}`, numPartitions: 3 }));
          names.push(...topics.map((t) => t.topic));
          return a.createTopics({ topics });
        }),
      ),
      90_000,
      'concurrent topic creation',
    );
  } finally {
    creating = false;
    await poller;
    await Promise.all(admins.map((a) => a.disconnect()));
  }
  assert.ok(polls > 0, 'Metadata was polled');
  const fatal = [...seen].filter(([code]) => !RETRIABLE.has(code));
  assert.deepEqual(fatal, [], `non-retriable errors seen while topics were created: ${JSON.stringify(fatal)}`);

  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.sendBatch({ topicMessages: names.map((topic) => ({ topic, messages: [{ partition: 0, value: topic }] })) });
  } finally {
    await producer.disconnect();
  }
  const conn = await RawKafka.connect(broker.kafkaPort);
  try {
    for (const topic of names) {
      const { records } = await fetchAll(conn, topic, 0);
      assert.deepEqual(records.map((r) => r.value), [topic]);
    }
  } finally {
    conn.close();
  }
});
