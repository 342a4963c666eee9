// Transactional produce against idempotent produce, and read_committed fetch against
// read_uncommitted, on one broker in the same run (the benchmark; docs/benchmarks.md).
//
// Produce: kafkajs producers writing 1 KiB records to a topic of one partition, acks=-1, one request
// in flight: "idempotent" sends batches of 100 records; "transactional" wraps each batch of 100 in its
// own transaction (begin, send, commit: AddPartitionsToTxn + Produce + EndTxn, markers). Each mode runs
// for --seconds (default 8), modes alternating, --runs rounds (default 3); records/s, medians per mode
// and their ratio. Fetch: a kafkajs consumer reading the whole topic from the start, read_committed
// against read_uncommitted, alternating, records/s medians and ratio.
//
//   npm run build && node bench/broker/txn-throughput.mjs          # about 2 minutes; bench/results/txn-throughput.json
//   node bench/broker/txn-throughput.mjs --quick                   # one round of 3 s; prints only
//
// Bounded: each run stops after its seconds; the fetch runs stop at the records written or 60 s.
import { join, resolve } from 'node:path';
import kafkajs from 'kafkajs';
import { benchArgs, benchProvenance, median, runBench, startBrokerProcess, writeBenchReport } from './broker-procs.mjs';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const WORK = join(ROOT, 'bench/results/tmp/txn-throughput');
const { flag } = benchArgs(process.argv.slice(2));
const quick = process.argv.includes('--quick');
const seconds = Math.min(60, Number(flag('seconds', quick ? 3 : 8)));
const runs = Math.min(9, Number(flag('runs', quick ? 1 : 3)));
const BATCH = 100;
const VALUE = Buffer.alloc(1024, 'x');
const FETCH_DEADLINE_MS = 60_000;

async function produceFor(kafka, topic, transactional, runIndex) {
  const producer = kafka.producer(transactional ? { transactionalId: `bench-${runIndex}`, idempotent: true, maxInFlightRequests: 1 } : { idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages = Array.from({ length: BATCH }, () => ({ value: VALUE }));
  let records = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  try {
    while (performance.now() < end) {
      if (transactional) {
        const txn = await producer.transaction();
        await txn.send({ topic, acks: -1, messages });
        await txn.commit();
      } else {
        await producer.send({ topic, acks: -1, messages });
      }
      records += BATCH;
    }
  } finally {
    await producer.disconnect();
  }
  return { records, perSec: records / ((performance.now() - started) / 1000) };
}

async function fetchAll(kafka, topic, readUncommitted, expected, runIndex) {
  const consumer = kafka.consumer({ groupId: `bench-reader-${readUncommitted}-${runIndex}`, readUncommitted, maxBytesPerPartition: 4 << 20, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let records = 0;
  const started = performance.now();
  await new Promise((done) => {
    const timer = setTimeout(done, FETCH_DEADLINE_MS);
    void consumer.run({
      eachBatch: async ({ batch }) => {
        records += batch.messages.length;
        if (records >= expected) {
          clearTimeout(timer);
          done();
        }
      },
    });
  });
  const ms = performance.now() - started;
  await consumer.disconnect();
  return { records, perSec: records / (ms / 1000) };
}

async function main() {
  const broker = await startBrokerProcess('txn-throughput', { STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0', STREAMBUS_LOGGING_LEVEL: 'warn' }, join(WORK, 'data'));
  const kafka = new kafkajs.Kafka({ clientId: 'txn-bench', brokers: [`127.0.0.1:${broker.kafkaPort}`], logLevel: process.env.BENCH_KAFKAJS_LOG ? kafkajs.logLevel.ERROR : kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const produce = { idempotent: [], transactional: [] };
  const fetch = { readUncommitted: [], readCommitted: [] };
  try {
    await admin.createTopics({ topics: [{ topic: 'bench-idempotent', numPartitions: 1 }, { topic: 'bench-transactional', numPartitions: 1 }] });
    let written = { idempotent: 0, transactional: 0 };
    for (let r = 0; r < runs; r++) {
      const order = r % 2 === 0 ? ['idempotent', 'transactional'] : ['transactional', 'idempotent'];
      for (const mode of order) {
        const result = await produceFor(kafka, `bench-${mode}`, mode === 'transactional', r);
        produce[mode].push(result.perSec);
        written[mode] += result.records;
        console.log(`produce ${mode} run ${r + 1}: ${Math.round(result.perSec)} records/s`);
      }
    }
    // Reads of the transactional topic (markers after every 100 records), both isolation levels.
    for (let r = 0; r < runs; r++) {
      const order = r % 2 === 0 ? [true, false] : [false, true];
      for (const readUncommitted of order) {
        const result = await fetchAll(kafka, 'bench-transactional', readUncommitted, written.transactional, `${r}`);
        fetch[readUncommitted ? 'readUncommitted' : 'readCommitted'].push(result.perSec);
        console.log(`fetch ${readUncommitted ? 'read_uncommitted' : 'read_committed'} run ${r + 1}: ${Math.round(result.perSec)} records/s (${result.records})`);
      }
    }
  } finally {
    await admin.disconnect();
    await broker.stop();
  }
  const m = (xs) => Math.round(median(xs));
  const summary = {
    produceRecordsPerSec: { idempotent: m(produce.idempotent), transactional: m(produce.transactional) },
    transactionalToIdempotent: Number((median(produce.transactional) / median(produce.idempotent)).toFixed(3)),
    fetchRecordsPerSec: { readUncommitted: m(fetch.readUncommitted), readCommitted: m(fetch.readCommitted) },
    readCommittedToUncommitted: Number((median(fetch.readCommitted) / median(fetch.readUncommitted)).toFixed(3)),
  };
  const report = { ...benchProvenance(false), date: new Date().toISOString(), settings: { seconds, runs, batch: BATCH, recordBytes: VALUE.length, client: 'kafkajs 2.2.4' }, runs: { produce, fetch }, summary };
  if (quick) console.log(JSON.stringify(summary, null, 2));
  else console.log(`written to ${writeBenchReport('txn-throughput', false, report)}`);
}

runBench(main, WORK);
