// Restart after kill -9 with a large partition: the time from starting a broker process to its
// /health/ready answering 200, for this checkout and for other commits built beside it (by default
// main before transactions, 1943da2, and the transactions branch before its checkpoints, d7af307).
//
// Per variant: a fresh single broker; one topic of one partition; (variants that serve transactions)
// a producer's aborted transaction and another's open one at the start; then --gib GiB of plain data
// in 16 KiB batches (Kafka's default batch.size), one per Produce request (v3+ carries one batch per
// partition), 32 requests in flight, acks=-1; 2 s of
// idling (the periodic sync and checkpoint a running broker would have done), then SIGKILL. Then
// --runs rounds, variants alternating within each round: start, time to ready, check the partition's
// last stable offset (ListOffsets read_committed) and high watermark, SIGKILL again. Medians per
// variant. The page cache stays warm: this measures the broker's work, not the disk. With --cold, the
// data folder's files are synced and dropped from the page cache before each start (fadvise
// DONTNEED through `dd iflag=nocache`, these files only), so the reads come from the disk.
//
//   npm run build && node bench/broker/txn-recovery.mjs            # about 10 minutes; bench/results/txn-recovery.json
//   node bench/broker/txn-recovery.mjs --quick                     # 64 MiB, one round; prints only
//   node bench/broker/txn-recovery.mjs --compare main=1943da2 --gib 1 --runs 3
//   node bench/broker/txn-recovery.mjs --cold                      # bench/results/txn-recovery-cold.json
//
// Other variants are extracted with `git archive` into the work folder (node_modules and the native
// build linked from this checkout) and built there; everything under bench/results/tmp/txn-recovery
// is removed at the end. Bounded: every wait has a deadline, the data size is --gib (at most 4).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchArgs, benchProvenance, median, runBench, startBrokerProcess, writeBenchReport } from './broker-procs.mjs';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const WORK = join(ROOT, 'bench/results/tmp/txn-recovery');
const { flag } = benchArgs(process.argv.slice(2));
const quick = process.argv.includes('--quick');
const cold = process.argv.includes('--cold');
const gib = Math.min(4, Number(flag('gib', quick ? 1 / 16 : 1)));
const runs = Math.min(9, Number(flag('runs', quick ? 1 : 3)));
const compare = String(flag('compare', 'main=1943da2,txn16=d7af307'))
  .split(',')
  .filter(Boolean)
  .map((s) => s.split('='));
const TOPIC = 'recovery';
const BATCH_BYTES = 16 * 1024;
const IN_FLIGHT = 32;
const READY_DEADLINE_MS = 600_000;

const { RawKafka, createTopic, produceBody, textBatch } = await import(join(ROOT, 'lib/test/helpers/raw-kafka.js'));

/** A checkout of `commit` built in the work folder; returns its root. */
function prepare(name, commit) {
  const dir = join(WORK, `src-${name}`);
  mkdirSync(dir, { recursive: true });
  const archive = spawnSync('sh', ['-c', `git -C "${ROOT}" archive ${commit} | tar -x -C "${dir}"`], { stdio: 'inherit' });
  if (archive.status !== 0) throw new Error(`git archive ${commit} failed`);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  if (existsSync(join(ROOT, 'build'))) symlinkSync(join(ROOT, 'build'), join(dir, 'build'));
  const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: dir, stdio: 'inherit', timeout: 600_000 });
  if (build.status !== 0) throw new Error(`building ${name} (${commit}) failed`);
  return dir;
}

/** Syncs every file under `dir` and drops it from the page cache. */
function dropCache(dir) {
  const script = `find "${dir}" -type f -print0 | xargs -0 -r sync -d && find "${dir}" -type f -exec dd if={} iflag=nocache count=0 status=none \\;`;
  const r = spawnSync('sh', ['-c', script], { stdio: 'inherit', timeout: 120_000 });
  if (r.status !== 0) throw new Error('dropping the page cache failed');
}

/** Starts the variant's broker on `dataDir` and resolves once /health/ready says 200, with the time it took. */
async function start(variant, dataDir) {
  const broker = await startBrokerProcess(variant.name, {}, dataDir, true, undefined, { root: variant.root, readyDeadlineMs: READY_DEADLINE_MS });
  return {
    readyMs: broker.readyMs,
    kafkaPort: broker.kafkaPort,
    async kill() {
      broker.proc.kill('SIGKILL');
      await new Promise((r) => (broker.proc.exitCode !== null || broker.proc.signalCode !== null ? r() : broker.proc.once('exit', r)));
    },
  };
}

async function producerId(conn) {
  const res = await conn.request(22, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  if (res.errorCode !== 0) throw new Error(`InitProducerId: ${res.errorCode}`);
  return res.producerId;
}

async function produce(conn, batch) {
  const res = await conn.request(0, 7, produceBody(TOPIC, 0, batch));
  const p = res.responses[0].partitionResponses[0];
  if (p.errorCode !== 0) throw new Error(`produce: error ${p.errorCode}`);
  return Number(p.baseOffset);
}

/** The partition's (high watermark, last stable offset) through ListOffsets v5 latest. */
async function offsets(conn) {
  const at = async (isolationLevel) => {
    const res = await conn.request(2, 5, { replicaId: -1, isolationLevel, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }] });
    return Number(res.topics[0].partitions[0].offset);
  };
  return { hw: await at(0), lso: await at(1) };
}

/** Fills the variant's data folder and leaves it as a SIGKILL does; returns the offsets to expect. */
async function fill(variant) {
  const broker = await start(variant, variant.dataDir);
  const conn = await RawKafka.connect(broker.kafkaPort);
  try {
    if ((await createTopic(conn, TOPIC, 1)) !== 0) throw new Error('create topic failed');
    let openAt = -1;
    if (variant.transactions) {
      const aborted = await producerId(conn);
      const open = await producerId(conn);
      await produce(conn, textBatch(['a0', 'a1'], { transactional: true, producerId: aborted, producerEpoch: 0, baseSequence: 0 }));
      openAt = await produce(conn, textBatch(['o0'], { transactional: true, producerId: open, producerEpoch: 0, baseSequence: 0 }));
      const res = await conn.request(27, 1, {
        markers: [{ producerId: aborted, producerEpoch: 0, transactionResult: false, coordinatorEpoch: 0, topics: [{ name: TOPIC, partitionIndexes: [0] }] }],
      });
      if (res.markers[0].topics[0].partitions[0].errorCode !== 0) throw new Error('WriteTxnMarkers failed');
    }
    const value = 'x'.repeat(BATCH_BYTES / 16 - 8);
    // One batch sent again and again: the request carries a copy of its bytes.
    const batch = textBatch(Array.from({ length: 16 }, () => value));
    const requests = Math.ceil((gib * 1024 * 1024 * 1024) / BATCH_BYTES);
    const started = performance.now();
    for (let i = 0; i < requests; i += IN_FLIGHT) {
      await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, requests - i) }, () => produce(conn, batch)));
    }
    const produceMs = performance.now() - started;
    const expected = await offsets(conn);
    if (variant.transactions && expected.lso !== openAt) throw new Error(`LSO ${expected.lso}, expected ${openAt}`);
    await new Promise((r) => setTimeout(r, 2000));
    return { ...expected, produceMs };
  } finally {
    conn.close();
    await broker.kill();
  }
}

async function main() {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const variants = [{ name: 'this', root: ROOT, commit: benchProvenance(true).commit }];
  for (const [name, commit] of compare) variants.push({ name, root: prepare(name, commit), commit });
  for (const v of variants) {
    v.dataDir = join(WORK, `data-${v.name}`);
    mkdirSync(v.dataDir, { recursive: true });
    // Versions before transactions refuse transactional batches (and WriteTxnMarkers).
    v.transactions = existsSync(join(v.root, 'src/replication/partition-transactions.ts'));
    v.expected = await fill(v);
    v.readyMs = [];
    console.log(`${v.name} (${v.commit}): filled, hw ${v.expected.hw}, lso ${v.expected.lso}, produce ${(v.expected.produceMs / 1000).toFixed(1)} s`);
  }
  for (let round = 0; round < runs; round++) {
    for (const v of variants) {
      if (cold) dropCache(v.dataDir);
      const broker = await start(v, v.dataDir);
      const conn = await RawKafka.connect(broker.kafkaPort);
      const got = await offsets(conn);
      conn.close();
      await broker.kill();
      if (got.hw !== v.expected.hw || got.lso !== v.expected.lso) throw new Error(`${v.name}: after the kill hw ${got.hw} lso ${got.lso}, expected ${JSON.stringify(v.expected)}`);
      v.readyMs.push(Math.round(broker.readyMs));
      console.log(`round ${round + 1}: ${v.name} ready after ${Math.round(broker.readyMs)} ms`);
    }
  }
  const summary = Object.fromEntries(variants.map((v) => [v.name, { commit: v.commit, transactions: v.transactions, medianReadyMs: median(v.readyMs), readyMs: v.readyMs }]));
  const report = {
    ...benchProvenance(true),
    what: 'time from starting a single broker to /health/ready after kill -9, one partition',
    gib,
    pageCache: cold ? 'dropped before each start' : 'warm',
    batchBytes: BATCH_BYTES,
    runs,
    loadAverage: (await import('node:os')).loadavg(),
    variants: variants.map((v) => ({ name: v.name, commit: v.commit, transactions: v.transactions, hw: v.expected.hw, lso: v.expected.lso, produceMs: Math.round(v.expected.produceMs), readyMs: v.readyMs })),
    summary,
  };
  if (quick) console.log(JSON.stringify(summary, null, 2));
  else writeBenchReport(cold ? 'txn-recovery-cold' : 'txn-recovery', false, report);
}

runBench(main, WORK);
