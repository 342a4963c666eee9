// Many partitions on a three-broker cluster: how long creating them takes, and what they cost once
// idle. Run by run.mjs (the `scale` row).
//
// N partitions with replication factor 3 are created through CreateTopics as topics of
// SCALE_TOPIC_PARTITIONS partitions each, in one request; the time runs from that request until
// Metadata shows every partition with a leader and three in-sync replicas. The cluster then idles for
// SCALE_SETTLE_MS (idle groups quiesce after two heartbeat intervals) before CPU (percent of one core)
// and RSS are read per broker over the idle window, with the number of quiesced Raft groups each
// broker reports (streambus_raft_groups_quiesced). Last, the leader of one partition is SIGKILLed
// while everything is idle: the time until Metadata shows that partition, and every partition the
// killed broker led, led by a survivor.
import { clientOf, cpuMicros, log, rss, sleep } from './cluster-procs.mjs';

export const SCALE_TOPIC_PARTITIONS = 100;
const CREATE_TIMEOUT_MS = 300_000;
const SCALE_SETTLE_MS = 5_000;
const FAILOVER_DEADLINE_MS = 60_000;

const inSync = (t, rf) => t.error === null && t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0 && p.replicas.length === rf && p.isr.length === rf);

/** Sum of a Prometheus gauge on one broker, or null when it is not exported. */
async function gauge(httpPort, name) {
  try {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    // Default labels (broker_id) may follow the name.
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
  } catch {
    return null;
  }
}

export async function scale(cluster, partitions, idleSeconds) {
  const topicCount = Math.ceil(partitions / SCALE_TOPIC_PARTITIONS);
  const topics = Array.from({ length: topicCount }, (_, i) => ({
    name: `scale-${i}`,
    partitions: Math.min(SCALE_TOPIC_PARTITIONS, partitions - i * SCALE_TOPIC_PARTITIONS),
    replicationFactor: 3,
  }));
  const names = topics.map((t) => t.name);
  const t0 = performance.now();
  const client = clientOf(cluster, { requestTimeoutMs: CREATE_TIMEOUT_MS });
  try {
    const created = await client.createTopics(topics, { timeoutMs: CREATE_TIMEOUT_MS });
    for (const c of created) if (c.error !== null) throw c.error;
  } finally {
    client.close();
  }
  const createdMs = performance.now() - t0;
  let ledMs = null;
  let last = null;
  for (const deadline = Date.now() + CREATE_TIMEOUT_MS; Date.now() < deadline; ) {
    const md = clientOf(cluster, { requestTimeoutMs: 10_000 });
    try {
      const { topics: ts } = await md.metadata(names);
      const done = ts.filter((t) => inSync(t, 3));
      last = `${done.length}/${topicCount} topics in sync`;
      if (done.length === topicCount) {
        ledMs = performance.now() - t0;
        break;
      }
    } catch (err) {
      last = err.message;
    } finally {
      md.close();
    }
    await sleep(200);
  }
  if (ledMs === null) throw new Error(`scale: ${partitions} partitions not led and in sync within ${CREATE_TIMEOUT_MS} ms (${last})`);
  log(`scale: ${partitions} partitions answered in ${createdMs.toFixed(0)} ms, led with 3 in-sync replicas after ${ledMs.toFixed(0)} ms`);
  await sleep(SCALE_SETTLE_MS);
  const before = cluster.members.map((m) => cpuMicros(m.proc.pid));
  const t1 = performance.now();
  await sleep(idleSeconds * 1000);
  const seconds = (performance.now() - t1) / 1000;
  const idle = [];
  for (const [i, m] of cluster.members.entries()) {
    idle.push({
      broker: m.id,
      cpuPercentOfCore: Math.round(((cpuMicros(m.proc.pid) - before[i]) / 1e6 / seconds) * 1000) / 10,
      rssBytes: rss(m.proc.pid),
      groupsQuiesced: await gauge(m.http, 'streambus_raft_groups_quiesced'),
    });
  }
  const failover = await killLeader(cluster, names);
  log(`scale: SIGKILL of broker ${failover.killed}: partition 0 led again after ${failover.firstMs} ms, all ${failover.moved} partitions it led after ${failover.allMs} ms`);
  return { partitions, topics: topicCount, createResponseMs: Math.round(createdMs), createToInSyncMs: Math.round(ledMs), idleSeconds, idle, failover };
}

/**
 * SIGKILLs the leader of partition 0 of the first topic while every group is idle (quiesced, when
 * enabled) and times, from the kill, until Metadata shows that partition led by another broker, and
 * until every partition the killed broker led is. The broker is not restarted (the row ends here).
 */
async function killLeader(cluster, names) {
  const leaders = async () => {
    const md = clientOf(cluster, { requestTimeoutMs: 5_000 });
    try {
      return (await md.metadata(names)).topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition, leader: p.leader })));
    } finally {
      md.close();
    }
  };
  const before = await leaders();
  const killed = before.find((p) => p.topic === names[0] && p.partition === 0).leader;
  const led = new Set(before.filter((p) => p.leader === killed).map((p) => `${p.topic}/${p.partition}`));
  const t0 = performance.now();
  await cluster.kill(cluster.member(killed));
  let firstMs = null;
  let allMs = null;
  for (const deadline = t0 + FAILOVER_DEADLINE_MS; performance.now() < deadline && allMs === null; ) {
    try {
      const now = await leaders();
      const moved = now.filter((p) => led.has(`${p.topic}/${p.partition}`) && p.leader >= 0 && p.leader !== killed);
      if (firstMs === null && moved.some((p) => p.topic === names[0] && p.partition === 0)) firstMs = Math.round(performance.now() - t0);
      if (moved.length === led.size) allMs = Math.round(performance.now() - t0);
    } catch {
      // A survivor busy electing may time out a metadata request; ask again.
    }
    await sleep(20);
  }
  return { killed, moved: led.size, firstMs, allMs };
}
