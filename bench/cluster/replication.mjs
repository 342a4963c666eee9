// Replicated produce path of a three-broker cluster: throughput and latency of acks=-1 produce to a
// topic with replication factor 3 against one with replication factor 1 (same cluster, same run), and
// partition failover (SIGKILL of a partition leader under acks=-1 produce). Run by run.mjs.
//
// The load is the repository's own client sending prebuilt record batches as Produce requests: the
// batch bytes are built once per run, so the generator's cost per batch is the request framing only,
// and the latency of a batch is from the request being written to its acknowledgement. Every load is
// bounded by a batch count and a time limit.
import { API_KEYS, KafkaResponseError, buildRecordBatch, clientOf, log, median, percentile, ready, sleep } from './cluster-procs.mjs';

/** Produce request timeout of the throughput load (the broker's wait for acks=-1 replication). */
const LOAD_PRODUCE_TIMEOUT_MS = 30_000;
/** Produce request timeout of the failover producer: short, so a lost request is retried soon. */
const FAILOVER_PRODUCE_TIMEOUT_MS = 2_000;
/** The failover producer retries every 20 ms, as the controller failover row does. */
const FAILOVER_RETRY_MS = 20;
/** Acknowledgements the failover producer gets before the kill, so the kill hits a steady stream. */
const ACKS_BEFORE_KILL = 20;
/** Bound on each failover (kill to first acknowledgement) and each rejoin (restart to in sync). */
const FAILOVER_DEADLINE_MS = 30_000;
const REJOIN_DEADLINE_MS = 120_000;

/** Sends one prebuilt batch to `leader` as a Produce request; throws the partition's Kafka error. */
async function sendBatch(client, leader, topic, partition, batch, acks, timeoutMs) {
  const { body } = await client.request(
    { node: leader },
    API_KEYS.Produce,
    () => ({ transactionalId: null, acks, timeoutMs, topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }] }),
    timeoutMs + 5_000,
  );
  const p = body.responses.find((t) => t.name === topic)?.partitionResponses.find((x) => x.index === partition);
  if (!p) throw new Error(`Produce response lacks partition ${topic}-${partition}`);
  if (p.errorCode !== 0) throw new KafkaResponseError(p.errorCode, `produce to ${topic}-${partition}`, p.errorMessage);
}

/** Metadata of `topics` through any running member, with a fresh client. */
async function metadataOf(cluster, topics) {
  const client = clientOf(cluster, { retry: { retries: 2, backoffMs: 50 } });
  try {
    return await client.metadata(topics);
  } finally {
    client.close();
  }
}

/** Polls metadata every 100 ms until `check(topics)` holds; throws after `timeoutMs`. */
export async function metadataUntil(cluster, names, check, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = null;
  while (Date.now() < deadline) {
    try {
      const md = await metadataOf(cluster, names);
      if (check(md.topics)) return md;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${last.message})` : ''}`);
}

const inSync = (t, rf) => t.error === null && t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0 && p.replicas.length === rf && p.isr.length === rf);

/** Creates `topics` ({ name, partitions, replicationFactor }) through the CreateTopics API and waits until every replica is in sync. */
export async function createTopics(cluster, topics) {
  const client = clientOf(cluster);
  try {
    const created = await client.createTopics(topics, { timeoutMs: 10_000 });
    for (const c of created) if (c.error !== null && c.error.kafkaName !== 'TOPIC_ALREADY_EXISTS') throw c.error;
  } finally {
    client.close();
  }
  const byName = new Map(topics.map((t) => [t.name, t]));
  const md = await metadataUntil(cluster, [...byName.keys()], (ts) => ts.length === byName.size && ts.every((t) => t.partitions.length === byName.get(t.name).partitions && inSync(t, byName.get(t.name).replicationFactor)), 'topics created and in sync', 60_000);
  return Object.fromEntries(md.topics.map((t) => [t.name, t.partitions.map((p) => ({ partition: p.partition, leader: p.leader, replicas: p.replicas }))]));
}

function recordsBatch(records, recordBytes) {
  const value = Buffer.alloc(recordBytes, 'x');
  return buildRecordBatch(Array.from({ length: records }, () => ({ value })), { compression: 0 });
}

/**
 * One bounded load on `topic`: `batches` batches of `load.records` records of `load.recordBytes`
 * bytes, acks=-1, `load.inFlight` producers per partition (each its own client and connection, one
 * batch in flight each), until the batches are sent or `load.seconds` have passed.
 */
export async function produceLoad(cluster, topic, batches, load) {
  const md = await metadataOf(cluster, [topic]);
  const partitions = md.topics[0].partitions.map((p) => ({ partition: p.partition, leader: p.leader }));
  const batch = recordsBatch(load.records, load.recordBytes);
  const producers = [];
  for (const p of partitions) for (let i = 0; i < load.inFlight; i++) producers.push({ ...p, client: clientOf(cluster, { requestTimeoutMs: LOAD_PRODUCE_TIMEOUT_MS + 5_000 }) });
  try {
    // One batch per producer first, outside the measurement: it opens the connection to the leader.
    await Promise.all(producers.map((pr) => sendBatch(pr.client, pr.leader, topic, pr.partition, batch, -1, LOAD_PRODUCE_TIMEOUT_MS)));
    const cpuBefore = cluster.cpu();
    const generatorBefore = process.cpuUsage();
    const latenciesMs = [];
    let issued = 0;
    let errors = 0;
    let lastError = null;
    const t0 = performance.now();
    const deadline = t0 + load.seconds * 1000;
    await Promise.all(
      producers.map(async (pr) => {
        while (issued < batches && performance.now() < deadline) {
          issued++;
          const sentAt = performance.now();
          try {
            await sendBatch(pr.client, pr.leader, topic, pr.partition, batch, -1, LOAD_PRODUCE_TIMEOUT_MS);
            latenciesMs.push(performance.now() - sentAt);
          } catch (err) {
            errors++;
            lastError = err;
            await sleep(20);
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cluster.cpu().map((c, i) => c - cpuBefore[i]);
    const generator = process.cpuUsage(generatorBefore);
    if (errors > 0) log(`${topic}: ${errors} failed batches (${lastError?.message})`);
    const records = latenciesMs.length * load.records;
    return {
      topic,
      batches: latenciesMs.length,
      failedBatches: errors,
      seconds: round(seconds, 2),
      recordsPerSec: Math.round(records / seconds),
      mbPerSec: round((records * load.recordBytes) / seconds / 1e6, 2),
      p50Ms: round(percentile(latenciesMs, 0.5), 2),
      p99Ms: round(percentile(latenciesMs, 0.99), 2),
      maxMs: round(Math.max(...latenciesMs), 2),
      brokerCpuPercentOfCore: cpu.map((micros) => round((micros / 1e6 / seconds) * 100, 1)),
      generatorCpuPercentOfCore: round(((generator.user + generator.system) / 1e6 / seconds) * 100, 1),
      timedOut: issued < batches,
    };
  } finally {
    for (const pr of producers) pr.client.close();
  }
}

const round = (x, digits) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * RF 3 against RF 1: topics rf1 and rf3 (`load.partitions` partitions each), one short warm-up load on
 * each, then `load.runs` alternating pairs of loads (rf1, rf3, rf1, rf3, ...); medians per topic and
 * the ratio rf3 / rf1 of the medians.
 */
export async function replicationThroughput(cluster, load) {
  const placement = await createTopics(cluster, [
    { name: 'rf1', partitions: load.partitions, replicationFactor: 1 },
    { name: 'rf3', partitions: load.partitions, replicationFactor: 3 },
  ]);
  log(`replication: leaders ${JSON.stringify(Object.fromEntries(Object.entries(placement).map(([t, ps]) => [t, ps.map((p) => p.leader)])))}`);
  const warmup = Math.max(load.inFlight * load.partitions * 5, Math.round(load.batches / 10));
  for (const topic of ['rf1', 'rf3']) await produceLoad(cluster, topic, warmup, load);
  const runs = [];
  for (let i = 0; i < load.runs; i++) {
    for (const topic of ['rf1', 'rf3']) {
      const r = await produceLoad(cluster, topic, load.batches, load);
      log(`replication: run ${i + 1}/${load.runs} ${topic}: ${r.recordsPerSec} records/s, ${r.mbPerSec} MB/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, CPU brokers ${r.brokerCpuPercentOfCore.join('/')} %, generator ${r.generatorCpuPercentOfCore} %`);
      runs.push({ run: i + 1, ...r });
    }
  }
  const summary = (topic) => {
    const rs = runs.filter((r) => r.topic === topic);
    const m = (key) => round(median(rs.map((r) => r[key])), 2);
    return { recordsPerSec: Math.round(m('recordsPerSec')), mbPerSec: m('mbPerSec'), p50Ms: m('p50Ms'), p99Ms: m('p99Ms'), leaders: placement[topic].map((p) => p.leader) };
  };
  const rf1 = summary('rf1');
  const rf3 = summary('rf3');
  return {
    load: { batches: load.batches, records: load.records, recordBytes: load.recordBytes, partitions: load.partitions, inFlightPerPartition: load.inFlight, acks: -1, secondsMax: load.seconds, warmupBatches: warmup },
    rf1,
    rf3,
    ratio: {
      recordsPerSec: round(rf3.recordsPerSec / rf1.recordsPerSec, 2),
      p50Ms: round(rf3.p50Ms / rf1.p50Ms, 2),
      p99Ms: round(rf3.p99Ms / rf1.p99Ms, 2),
      // rf3 / rf1 records/s of each pair of neighbouring runs: how much of the spread is the machine.
      recordsPerSecByRun: Array.from({ length: load.runs }, (_, i) => round(runs[2 * i + 1].recordsPerSec / runs[2 * i].recordsPerSec, 2)),
    },
    runs,
  };
}

/**
 * One partition failover: SIGKILL of the leader of `topic`-0 (the broker that acknowledged the last
 * batch) while a producer (bootstrapped with all three brokers, no client retries of its own) sends
 * acks=-1 batches of ten 100-byte records to that partition in a loop, retrying every 20 ms after an
 * error and refreshing metadata then. The time is from the kill to the
 * first acknowledgement of a batch sent after the kill. The killed broker is then restarted, and the
 * time until it is an in-sync replica of every partition of `topic` again is recorded too.
 */
async function killPartitionLeader(cluster, topic, partitionCount) {
  await metadataUntil(cluster, [topic], (ts) => inSync(ts[0], 3), `${topic} in sync before the kill`, REJOIN_DEADLINE_MS);
  const md = await metadataOf(cluster, [topic]);
  const batch = recordsBatch(10, 100);
  const client = clientOf(cluster, { retry: { retries: 0 }, requestTimeoutMs: FAILOVER_PRODUCE_TIMEOUT_MS + 5_000 });
  const state = { acks: 0, lastAckBy: -1, killedAt: null, ackedMs: null, ackedBy: -1, failedAttempts: 0, lastError: null, stop: false };
  // The producer runs on its own; the kill below lands while it has a batch in flight.
  let victim = null;
  const producing = (async () => {
    while (!state.stop && state.ackedMs === null) {
      const sentAt = performance.now();
      try {
        const leader = await client.leaderOf(topic, 0);
        await sendBatch(client, leader, topic, 0, batch, -1, FAILOVER_PRODUCE_TIMEOUT_MS);
        state.acks++;
        state.lastAckBy = leader;
        if (state.killedAt !== null && sentAt >= state.killedAt) {
          state.ackedMs = performance.now() - state.killedAt;
          state.ackedBy = leader;
        }
      } catch (err) {
        if (state.killedAt !== null) state.failedAttempts++;
        state.lastError = err;
        await sleep(FAILOVER_RETRY_MS);
        // Whatever the error, the next attempt asks for the partition's leader again.
        await client.metadata([topic]).catch(() => undefined);
      }
    }
  })();
  try {
    for (const deadline = performance.now() + FAILOVER_DEADLINE_MS; state.acks < ACKS_BEFORE_KILL && performance.now() < deadline; ) await sleep(5);
    if (state.acks < ACKS_BEFORE_KILL) throw new Error(`${topic}-0: no steady produce before the kill (${state.lastError?.message})`);
    // The victim is the broker that acknowledged the last batch, not the one metadata named a moment
    // ago: leadership may have moved since (a preferred leader returning), and the kill must hit the
    // leader the producer is really writing to.
    victim = cluster.member(state.lastAckBy);
    state.killedAt = performance.now();
    victim.proc.kill('SIGKILL');
    for (const deadline = state.killedAt + FAILOVER_DEADLINE_MS; state.ackedMs === null && performance.now() < deadline; ) await sleep(5);
  } finally {
    state.stop = true;
    await producing;
    client.close();
  }
  const leaderId = victim.id;
  await victim.exited;
  if (state.ackedMs === null) log(`${topic}-0: no acknowledgement within ${FAILOVER_DEADLINE_MS} ms of the kill (${state.lastError?.message})`);
  const restartedAt = performance.now();
  cluster.start(victim);
  await ready(victim.http, Date.now() + 60_000);
  await metadataUntil(cluster, [topic], (ts) => ts[0].partitions.length === partitionCount && ts[0].partitions.every((p) => p.isr.includes(leaderId)), `broker ${leaderId} back in the ISR of ${topic}`, REJOIN_DEADLINE_MS);
  const rejoinMs = performance.now() - restartedAt;
  return { killed: leaderId, wasController: md.controllerId === leaderId, ackedBy: state.ackedBy, ackedMs: state.ackedMs === null ? null : round(state.ackedMs, 1), failedAttempts: state.failedAttempts, rejoinMs: Math.round(rejoinMs) };
}

/** `kills` partition failovers on `topic` (replication factor 3); median and max of kill to first acknowledgement. */
export async function partitionFailover(cluster, kills, label, topic = 'rf3') {
  const md = await metadataOf(cluster, [topic]);
  const partitionCount = md.topics[0].partitions.length;
  const rows = [];
  for (let i = 0; i < kills; i++) {
    const k = await killPartitionLeader(cluster, topic, partitionCount);
    log(`${label}: partition kill ${i + 1}/${kills} of broker ${k.killed}${k.wasController ? ' (controller)' : ''}: acknowledged after ${k.ackedMs} ms on broker ${k.ackedBy}, back in sync after ${k.rejoinMs} ms`);
    rows.push(k);
  }
  const times = rows.map((k) => k.ackedMs).filter((x) => x !== null);
  return {
    topic,
    partition: 0,
    kills: rows,
    medianMs: times.length ? Math.round(median(times)) : null,
    maxMs: times.length ? Math.round(Math.max(...times)) : null,
    failed: rows.length - times.length,
    rejoinMedianMs: Math.round(median(rows.map((k) => k.rejoinMs))),
  };
}

/**
 * A rolling restart under load: every broker in turn gets SIGTERM (it hands its leaderships over,
 * then exits), is started again and waited for until it is in the ISR of every partition of `topic`,
 * while one producer per partition sends acks=-1 batches of ten 100-byte records in a loop (retrying
 * every 20 ms after an error, with fresh metadata). Per partition, the longest time between two
 * acknowledgements over the whole restart: the produce stall a client sees. Per broker, how long its
 * stop took (hand-over included) and how long until it was back in sync.
 */
export async function rollingRestart(cluster, topic = 'rf3') {
  await metadataUntil(cluster, [topic], (ts) => inSync(ts[0], 3), `${topic} in sync before the restarts`, REJOIN_DEADLINE_MS);
  const partitionCount = (await metadataOf(cluster, [topic])).topics[0].partitions.length;
  const batch = recordsBatch(10, 100);
  const client = clientOf(cluster, { retry: { retries: 0 }, requestTimeoutMs: FAILOVER_PRODUCE_TIMEOUT_MS + 5_000 });
  const state = { stop: false, acks: Array(partitionCount).fill(0), lastAckAt: Array(partitionCount).fill(null), maxGapMs: Array(partitionCount).fill(0), errors: 0 };
  const producer = async (p) => {
    while (!state.stop) {
      try {
        const leader = await client.leaderOf(topic, p);
        await sendBatch(client, leader, topic, p, batch, -1, FAILOVER_PRODUCE_TIMEOUT_MS);
        const now = performance.now();
        if (state.lastAckAt[p] !== null) state.maxGapMs[p] = Math.max(state.maxGapMs[p], now - state.lastAckAt[p]);
        state.lastAckAt[p] = now;
        state.acks[p]++;
      } catch {
        state.errors++;
        await sleep(FAILOVER_RETRY_MS);
        await client.metadata([topic]).catch(() => undefined);
      }
    }
  };
  const producing = Promise.all(Array.from({ length: partitionCount }, (_, p) => producer(p)));
  const brokers = [];
  try {
    for (const deadline = performance.now() + FAILOVER_DEADLINE_MS; state.acks.some((a) => a < ACKS_BEFORE_KILL) && performance.now() < deadline; ) await sleep(5);
    for (const m of cluster.members) {
      const stoppedAt = performance.now();
      m.proc.kill('SIGTERM');
      await m.exited;
      const stopMs = performance.now() - stoppedAt;
      cluster.start(m);
      await ready(m.http, Date.now() + 60_000);
      await metadataUntil(cluster, [topic], (ts) => ts[0].partitions.length === partitionCount && ts[0].partitions.every((p) => p.isr.includes(m.id)), `broker ${m.id} back in the ISR of ${topic}`, REJOIN_DEADLINE_MS);
      brokers.push({ broker: m.id, stopMs: Math.round(stopMs), backInSyncMs: Math.round(performance.now() - stoppedAt) });
      log(`rolling restart: broker ${m.id} stopped in ${Math.round(stopMs)} ms, back in sync after ${brokers.at(-1).backInSyncMs} ms`);
    }
    // A last stretch of produce after the last broker is back.
    await sleep(2_000);
  } finally {
    state.stop = true;
    await producing;
    client.close();
  }
  const gaps = state.maxGapMs.map((g) => Math.round(g));
  return { topic, brokers, maxStallMsByPartition: gaps, maxStallMs: Math.max(...gaps), medianOfPartitionMaxStallMs: Math.round(median(gaps)), acknowledgedBatches: state.acks.reduce((a, b) => a + b, 0), failedAttempts: state.errors };
}
