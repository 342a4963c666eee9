// Rebalancing a three-broker cluster: how fast partition moves copy data (MB/s moved), with and without
// client load, and what the moves cost the clients. Run by run.mjs (--only rebalance).
//
// Topic `moves` has three partitions with replication factor 1 (one per broker), filled with
// `fillMiB` MiB each. One round reassigns every partition to the next broker (AlterPartitionReassignments:
// each broker sends one partition and receives one, the leader adds the new broker as a learner,
// copies the log to it, promotes it and removes itself) and waits until no reassignment is listed and
// Metadata shows the new replicas. Rounds alternate direction, so each moves the same bytes.
//   idle      one round with no client load
//   underLoad one round while acks=-1 producers write to topic `load` (replication factor 3); the
//             same load alone, just before, is the baseline: clientImpact = MB/s during / MB/s alone
// MB/s moved: the partitions' log bytes over the time a round took; `learnerBytesSent` is the sum of
// `streambus_learner_recovery_bytes_total` over the brokers (bytes sent to the replicas being added,
// counted only under a rate limit). Balancing is off, so only the reassignments move data.
import { API_KEYS, clientOf, log, sleep } from './cluster-procs.mjs';
import { createTopics, metadataUntil, produceLoad } from './replication.mjs';

const MOVE_DEADLINE_MS = 600_000;
const round = (x, digits) => Math.round(x * 10 ** digits) / 10 ** digits;

async function metricSum(cluster, name, filter = () => true) {
  let total = 0;
  for (const m of cluster.members) {
    const text = await (await fetch(`http://127.0.0.1:${m.http}/metrics`)).text();
    for (const line of text.split('\n')) if (line.startsWith(name) && !line.startsWith('#') && filter(line)) total += Number(line.split(' ').pop());
  }
  return total;
}

/** Reassigns every partition of `moves` to the broker after its current one; resolves once done. */
async function moveRound(cluster) {
  const md = await metadataUntil(cluster, ['moves'], (ts) => ts[0]?.partitions.every((p) => p.leader >= 0), 'moves led', 30_000);
  const ids = cluster.members.map((m) => m.id);
  const targets = md.topics[0].partitions.map((p) => ({ partitionIndex: p.partition, replicas: [ids[(ids.indexOf(p.replicas[0]) + 1) % ids.length]] }));
  const client = clientOf(cluster, { requestTimeoutMs: 30_000 });
  const sentBefore = await metricSum(cluster, 'streambus_learner_recovery_bytes_total');
  const throttledBefore = await metricSum(cluster, 'streambus_learner_recovery_throttled_total');
  const t0 = performance.now();
  try {
    const { body } = await client.request('controller', API_KEYS.AlterPartitionReassignments, () => ({ timeoutMs: 30_000, topics: [{ name: 'moves', partitions: targets }] }));
    const failed = body.responses.flatMap((t) => t.partitions).filter((p) => p.errorCode !== 0);
    if (body.errorCode !== 0 || failed.length > 0) throw new Error(`reassignment refused: ${body.errorMessage ?? JSON.stringify(failed)}`);
    for (const deadline = Date.now() + MOVE_DEADLINE_MS; ; ) {
      const listed = await client.request('controller', API_KEYS.ListPartitionReassignments, () => ({ timeoutMs: 10_000, topics: null }));
      if (listed.body.topics.length === 0) break;
      if (Date.now() > deadline) throw new Error(`moves not done within ${MOVE_DEADLINE_MS} ms`);
      await sleep(100);
    }
  } finally {
    client.close();
  }
  await metadataUntil(cluster, ['moves'], (ts) => ts[0]?.partitions.every((p) => p.replicas.length === 1 && p.replicas[0] === targets.find((t) => t.partitionIndex === p.partition).replicas[0] && p.leader === p.replicas[0]), 'moves complete in metadata', 60_000);
  const seconds = (performance.now() - t0) / 1000;
  const bytes = (await metricSum(cluster, 'streambus_learner_recovery_bytes_total')) - sentBefore;
  const throttled = (await metricSum(cluster, 'streambus_learner_recovery_throttled_total')) - throttledBefore;
  return { seconds: round(seconds, 2), learnerBytesSent: bytes, throttledSends: throttled };
}

/** The rows of one cluster (its learnerRecoveryRate set by the caller). */
export async function rebalance(cluster, { fillMiB, load }) {
  await createTopics(cluster, [
    { name: 'moves', partitions: 3, replicationFactor: 1 },
    { name: 'load', partitions: 3, replicationFactor: 3 },
  ]);
  // 100 KB batches until each partition holds fillMiB.
  const fillBatches = Math.ceil((fillMiB * 1024 * 1024 * 3) / (100 * 1000));
  const fill = await produceLoad(cluster, 'moves', fillBatches, { records: 100, recordBytes: 1000, inFlight: 2, seconds: 300 });
  if (fill.timedOut) throw new Error('filling topic moves timed out');
  const logBytes = await metricSum(cluster, 'streambus_partition_log_size_bytes', (l) => l.includes('topic="moves"'));
  log(`rebalance: moves filled with ${round(logBytes / 1e6, 1)} MB`);
  // A round moves every partition's whole log: its MB/s is the log bytes over the round's time (the
  // learner byte counter stays 0 without a rate limit, and counts resends with one).
  const withRate = (r) => ({ ...r, mbPerSec: round(logBytes / r.seconds / 1e6, 1) });
  const idle = withRate(await moveRound(cluster));
  log(`rebalance: idle round ${idle.mbPerSec} MB/s (${idle.seconds} s)`);
  // The client load lasts about as long as a round of moves took idle, alone and then beside the moves.
  const clientLoad = { ...load, seconds: Math.max(3, Math.ceil(idle.seconds)) };
  const baseline = await produceLoad(cluster, 'load', clientLoad.batches, clientLoad);
  let during = null;
  const loadRun = (async () => {
    during = await produceLoad(cluster, 'load', clientLoad.batches, clientLoad);
  })();
  const underLoad = withRate(await moveRound(cluster));
  await loadRun;
  log(`rebalance: under load ${underLoad.mbPerSec} MB/s (${underLoad.seconds} s); client ${during.mbPerSec} MB/s against ${baseline.mbPerSec} alone`);
  return {
    logBytes,
    idle,
    underLoad: {
      ...underLoad,
      clientAloneMbPerSec: baseline.mbPerSec,
      clientDuringMbPerSec: during.mbPerSec,
      clientImpact: round(during.mbPerSec / baseline.mbPerSec, 2),
      clientP99AloneMs: baseline.p99Ms,
      clientP99DuringMs: during.p99Ms,
      loadSecondsDuring: during.seconds,
    },
  };
}
