// Goal: DeleteRecords on a partition replicated over three brokers goes through its leader (another
// broker answers NOT_LEADER_OR_FOLLOWER), is committed like a write, and every replica agrees on the
// new log start: after the leader is killed the next leader answers the same low watermark (ListOffsets
// earliest, Fetch below it out of range), and so does the leader after that, once the killed broker
// has restarted and caught up.
// Method: three real broker processes; raw requests to chosen brokers; SIGKILL of the leader twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { createReplicatedTopic, metadataUntil, withConn } from './cluster-requests.ts';
import { produceBody, textBatch } from '../helpers/raw-kafka.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';

const TOPIC = 'trimmed';
const RECORDS = 20;
const START = 12;

let cluster: BrokerCluster;

before(async () => {
  cluster = await startCluster(3);
  await createReplicatedTopic(cluster.member(1).kafkaPort, TOPIC, 1);
});

after(async () => {
  await cluster?.stop();
});

/** The leader of partition 0 as broker `askId` sees it, once it is led by a broker other than `not`. */
async function leaderSeenBy(askId: number, not: number | null): Promise<number> {
  const md = await metadataUntil(
    cluster.member(askId).kafkaPort,
    [TOPIC],
    (m) => {
      const p = m.topics[0]!.partitions[0];
      return p !== undefined && p.errorCode === 0 && p.leaderId > 0 && p.leaderId !== not;
    },
    `${TOPIC}-0 led by a broker other than ${not}`,
    20_000,
  );
  return md.topics[0]!.partitions[0]!.leaderId;
}

function deleteRecords(brokerId: number, offset: bigint) {
  return withConn(cluster.member(brokerId).kafkaPort, async (conn) => {
    const res = await conn.request(API_KEYS.DeleteRecords, 2, { topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, offset }] }], timeoutMs: 10_000 });
    const p = res.topics[0]!.partitions[0]!;
    return { errorCode: p.errorCode, lowWatermark: p.lowWatermark };
  });
}

/** The leader's log start (ListOffsets earliest) and the error of a fetch just below it. */
function startAt(brokerId: number) {
  return withConn(cluster.member(brokerId).kafkaPort, async (conn) => {
    // A new leader answers NOT_LEADER_OR_FOLLOWER until its replica is ready: retried briefly.
    for (let attempt = 0; ; attempt++) {
      const res = await conn.request(API_KEYS.ListOffsets, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -2n }] }] });
      const p = res.topics[0]!.partitions[0]!;
      if (p.errorCode !== 0 && attempt < 50) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      assert.equal(p.errorCode, 0, `ListOffsets at broker ${brokerId}`);
      const fetched = await conn.request(API_KEYS.Fetch, 11, {
        replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic: TOPIC, partitions: [{ partition: 0, fetchOffset: p.offset - 1n, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1n }] }],
        forgottenTopicsData: [], rackId: '',
      });
      return { logStart: p.offset, fetchBelow: fetched.responses[0]!.partitions[0]!.errorCode };
    }
  });
}

test('DeleteRecords goes through the leader, and every later leader answers the same log start', async () => {
  const first = await leaderSeenBy(1, null);
  const produced = await withConn(cluster.member(first).kafkaPort, (conn) => conn.request(API_KEYS.Produce, 7, produceBody(TOPIC, 0, textBatch(Array.from({ length: RECORDS }, (_, i) => `r${i}`)), -1)));
  assert.equal(produced.responses[0]!.partitionResponses[0]!.errorCode, 0);

  const follower = cluster.members.find((m) => m.id !== first)!.id;
  assert.equal((await deleteRecords(follower, BigInt(START))).errorCode, KafkaErrorCode.NOT_LEADER_OR_FOLLOWER);
  assert.deepEqual(await deleteRecords(first, BigInt(RECORDS + 1)), { errorCode: KafkaErrorCode.OFFSET_OUT_OF_RANGE, lowWatermark: -1n });
  assert.deepEqual(await deleteRecords(first, BigInt(START)), { errorCode: 0, lowWatermark: BigInt(START) });
  assert.deepEqual(await startAt(first), { logStart: BigInt(START), fetchBelow: KafkaErrorCode.OFFSET_OUT_OF_RANGE });

  await cluster.member(first).process!.kill();
  const second = await leaderSeenBy(follower, first);
  assert.deepEqual(await startAt(second), { logStart: BigInt(START), fetchBelow: KafkaErrorCode.OFFSET_OUT_OF_RANGE }, `broker ${second} after failover`);

  // The killed broker restarts (reading the command back from its Raft log) and catches up; then the
  // second leader goes too, and whichever broker leads next agrees.
  await cluster.start(first);
  await metadataUntil(cluster.member(second).kafkaPort, [TOPIC], (m) => m.topics[0]!.partitions[0]!.isrNodes.length === 3, 'three in sync again', 20_000);
  await cluster.member(second).process!.kill();
  const survivor = cluster.members.find((m) => m.id !== second)!.id;
  const third = await leaderSeenBy(survivor, second);
  assert.deepEqual(await startAt(third), { logStart: BigInt(START), fetchBelow: KafkaErrorCode.OFFSET_OUT_OF_RANGE }, `broker ${third} after the second failover`);
});
