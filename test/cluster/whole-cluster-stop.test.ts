// Goal: stopping every broker of a cluster at once (SIGTERM to all, as `systemctl stop` on every host
// together) is quick and quiet: no broker hands a group's leadership to another that is stopping too,
// so leaderships do not go round among the stopping brokers until they exit, every broker exits 0
// without waiting out its hand-over timeout, and the cluster starts again with every partition led.
// Method: three real brokers, a topic of 12 partitions with three replicas (leaders spread over the
// brokers; `__consumer_offsets` adds its partitions); all three get SIGTERM together. Each broker's
// output after the signal is searched for partitions becoming led there ("partition leader ready").
// Before stopping brokers told each other, a partition went round them for as long as they ran (one
// reached term 83 within 1.5 s); now a broker takes a partition at most once, from a peer that handed
// it over before hearing of this broker's stop.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { createReplicatedTopic, metadataUntil } from './cluster-requests.ts';

const TOPIC = 'whole-stop';
const PARTITIONS = 12;

let cluster: BrokerCluster | undefined;

after(async () => {
  await cluster?.stop();
});

test('all brokers stopped together hand nothing to each other and exit promptly; the cluster comes back', { timeout: 180_000 }, async () => {
  // Long hand-over timeout (shutdownTimeout / 2): a stop that waited it out would show in the time.
  cluster = await startCluster(3, { env: { STREAMBUS_SERVER_SHUTDOWN_TIMEOUT: '40s' } });
  await createReplicatedTopic(cluster.member(1).kafkaPort, TOPIC, PARTITIONS);
  const md = await metadataUntil(cluster.member(1).kafkaPort, [TOPIC], (m) => new Set(m.topics[0]!.partitions.map((p) => p.leaderId)).size === 3, 'leaders on all three brokers', 30_000);
  assert.equal(md.topics[0]!.partitions.length, PARTITIONS);

  const marks = cluster.members.map((m) => m.process!.output().length);
  const began = Date.now();
  const codes = await Promise.all(cluster.members.map((m) => m.process!.stop()));
  const stoppedMs = Date.now() - began;
  // Per broker: how many times it became leader of each partition after the signal.
  const gains = cluster.members.map((m, i) => {
    const counts = new Map<string, number>();
    for (const line of m.process!.output().slice(marks[i]).split('\n')) {
      if (!line.includes('partition leader ready')) continue;
      const { topic, partition } = JSON.parse(line) as { topic: string; partition: number };
      counts.set(`${topic}-${partition}`, (counts.get(`${topic}-${partition}`) ?? 0) + 1);
    }
    return counts;
  });
  const gained = gains.map((c) => [...c.values()].reduce((a, b) => a + b, 0));
  const mostOfOne = gains.map((c) => Math.max(0, ...c.values()));
  const handOvers = cluster.members.map((m, i) => m.process!.output().slice(marks[i]).split('\n').find((l) => l.includes('leadership not handed over') || l.includes('leadership handed over')) ?? '(none)');
  const detail = `exit codes ${codes.join(',')}, ${stoppedMs} ms, leaderships gained while stopping ${gained.join(',')} (at most ${mostOfOne.join(',')} of one partition); hand-over lines: ${handOvers.join(' | ')}`;
  assert.deepEqual(codes, [0, 0, 0], detail);
  // The signals arrive together, so a broker may take a peer's groups once, handed over before the
  // peer heard of its stop; but never the same partition twice (going round gave dozens each).
  for (const n of mostOfOne) assert.ok(n <= 1, detail);
  assert.ok(stoppedMs < 15_000, `the stop waited for hand-overs that could not happen: ${detail}`);

  await Promise.all(cluster.members.map((m) => cluster!.start(m.id)));
  await metadataUntil(cluster.member(2).kafkaPort, [TOPIC], (m) => m.topics[0]!.partitions.every((p) => p.errorCode === 0 && p.leaderId > 0), `every partition of ${TOPIC} led after the restart`, 30_000);
});
