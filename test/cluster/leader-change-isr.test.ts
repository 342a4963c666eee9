// Goal: moving a partition's leadership between replicas that are all in sync never shows it
// under-replicated: the new leader starts from the in-sync replicas last reported (as Kafka keeps the
// ISR across leader elections) instead of only itself until its first sample, which made every planned
// move (preferred-leader elections, rolling restarts) flash "under-replicated" on every broker.
// Method: three real brokers, one partition with three replicas; a reassignment that only reorders its
// replicas makes another broker the preferred leader, and the cluster hands leadership to it. Every
// broker's Metadata is read every 20 ms throughout; each answer naming a leader must list three in-sync
// replicas.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs from 'kafkajs';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { createReplicatedTopic, metadataFrom } from './cluster-requests.ts';
import { OpenClients } from '../helpers/open-clients.ts';

const TOPIC = 'handed-over';

let cluster: BrokerCluster | undefined;
const clients = new OpenClients();

after(async () => {
  await clients.closeAll();
  await cluster?.stop();
});

test('a leadership hand-over between in-sync replicas keeps all three in the ISR on every broker', { timeout: 120_000 }, async () => {
  cluster = await startCluster(3);
  await createReplicatedTopic(cluster.member(1).kafkaPort, TOPIC, 1);
  const before = (await metadataFrom(cluster.member(1).kafkaPort, [TOPIC])).topics[0]!.partitions[0]!;
  const replicas = [...before.replicaNodes];
  const next = replicas[1]!;

  const samples: { broker: number; leader: number; epoch: number; isr: number[] }[] = [];
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const answers = await Promise.all(
        cluster!.members.map(async (m) => {
          const p = (await metadataFrom(m.kafkaPort, [TOPIC])).topics[0]!.partitions[0]!;
          return { broker: m.id, leader: p.leaderId, epoch: p.leaderEpoch, isr: [...p.isrNodes] };
        }),
      );
      samples.push(...answers);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();

  const kafka = new kafkajs.Kafka({ clientId: 'isr-carry', brokers: cluster.bootstrap, logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  await clients.connect(admin);
  // Same brokers, another first: `next` becomes the preferred leader, and leadership follows.
  await admin.alterPartitionReassignments({ topics: [{ topic: TOPIC, partitionAssignment: [{ partition: 0, replicas: [next, replicas[0]!, replicas[2]!] }] }] });
  const deadline = Date.now() + 60_000;
  while (!cluster.members.every((m) => samples.some((s) => s.broker === m.id && s.leader === next)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // A second more of samples after every broker saw the new leader (past one ISR sample of it).
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  polling = false;
  await poll;
  await admin.disconnect();

  const afterMove = samples.filter((s) => s.leader === next);
  assert.ok(cluster.members.every((m) => afterMove.some((s) => s.broker === m.id)), `not every broker saw ${next} lead within 60 s`);
  const short = samples.filter((s) => s.leader >= 0 && s.isr.length < 3);
  assert.deepEqual(short.slice(0, 5), [], `${short.length} of ${samples.length} answers named a leader with fewer than three in-sync replicas`);
  assert.ok(afterMove.some((s) => s.epoch > before.leaderEpoch), 'the hand-over was a new leader epoch');
});
