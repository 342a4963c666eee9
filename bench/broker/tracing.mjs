#!/usr/bin/env node
// What tracing costs on the produce path: produce throughput and broker CPU per request with
// observability.tracing off and on (samplingRate 0.1, exporting with OTLP/gRPC to a local receiver,
// test/helpers/otlp-receiver.ts), two broker processes side by side in one run, runs alternating.
// Each request carries one record (the worst case for per-request costs) with a `traceparent`
// header whose sampled flag is set for a tenth of them, as a producer tracing at 0.1 would send: the
// traced broker reads every request's first record header and records about a tenth of the requests.
// Writes bench/results/tracing-overhead.json.
//
//   node bench/broker/tracing.mjs [--runs N] [--seconds S] [--in-flight K] [--sampling-rate R] [--quick] [--from-source]
//
// Needs `node scripts/build.mjs` (lib/). Every load is bounded by time; the whole run by --runs x 2 x S.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import kafkajs from 'kafkajs';
import { benchArgs, benchProvenance, median, procStat, runBench, startBrokerProcess, writeBenchReport } from './broker-procs.mjs';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const { startOtlpReceiver } = await import(join(ROOT, 'lib/test/helpers/otlp-receiver.js'));

const args = process.argv.slice(2);
const { flag } = benchArgs(args);
const QUICK = args.includes('--quick');
const RUNS = Number(flag('runs', QUICK ? 1 : 3));
const SECONDS = Number(flag('seconds', QUICK ? 2 : 6));
const IN_FLIGHT = Number(flag('in-flight', 32));
const SAMPLING_RATE = Number(flag('sampling-rate', 0.1));
const FROM_SOURCE = args.includes('--from-source');
const work = mkdtempSync(join(tmpdir(), 'streambus-tracing-bench-'));
const log = (...m) => console.error('[tracing-bench]', ...m);

const traceparent = (sampled) => `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-${sampled ? '01' : '00'}`;

/** K concurrent senders of one-record requests (acks=1) for `seconds`; requests per second and broker CPU per request. */
async function produceRun(broker, producer, topic, seconds) {
  const value = Buffer.alloc(100, 'x');
  const cpu0 = procStat(broker.pid);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let requests = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < end) {
        await producer.send({ topic, acks: 1, messages: [{ value, headers: { traceparent: traceparent(Math.random() < SAMPLING_RATE) } }] });
        requests++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const cpuUs = procStat(broker.pid) - cpu0;
  return { requests, seconds: elapsed, requestsPerSec: requests / elapsed, brokerCpuUsPerRequest: cpuUs / requests };
}

async function metricValue(broker, name) {
  const text = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line === undefined ? null : Number(line.split(' ').pop());
}

async function main() {
  const loadAverageAtStart = loadavg();
  const receiver = await startOtlpReceiver();
  const brokers = {
    off: await startBrokerProcess('off', {}, join(work, 'off'), FROM_SOURCE),
    on: await startBrokerProcess(
      'on',
      {
        STREAMBUS_OBSERVABILITY_TRACING_ENABLED: 'true',
        STREAMBUS_OBSERVABILITY_TRACING_ENDPOINT: `127.0.0.1:${receiver.port}`,
        STREAMBUS_OBSERVABILITY_TRACING_SAMPLING_RATE: String(SAMPLING_RATE),
      },
      join(work, 'on'),
      FROM_SOURCE,
    ),
  };
  const clients = {};
  const warmUpRequests = {};
  try {
    for (const [mode, broker] of Object.entries(brokers)) {
      const kafka = new kafkajs.Kafka({ clientId: `tracing-bench-${mode}`, brokers: [`127.0.0.1:${broker.kafkaPort}`], logLevel: kafkajs.logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'bench', numPartitions: 1 }] });
      await admin.disconnect();
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      clients[mode] = producer;
      warmUpRequests[mode] = (await produceRun(broker, producer, 'bench', 1)).requests;
    }
    const runs = { off: [], on: [] };
    for (let run = 0; run < RUNS; run++) {
      // Alternate which goes first, so a drift in the machine's load does not favour one mode.
      const order = run % 2 === 0 ? ['off', 'on'] : ['on', 'off'];
      for (const mode of order) {
        const r = await produceRun(brokers[mode], clients[mode], 'bench', SECONDS);
        runs[mode].push(r);
        log(`run ${run + 1}/${RUNS} ${mode}: ${Math.round(r.requestsPerSec)} requests/s, ${r.brokerCpuUsPerRequest.toFixed(1)} µs broker CPU/request`);
      }
    }
    const exported = await metricValue(brokers.on, 'streambus_tracing_spans_exported_total');
    const dropped = await metricValue(brokers.on, 'streambus_tracing_spans_dropped_total{reason="queue_full"');
    for (const p of Object.values(clients)) await p.disconnect();
    for (const b of Object.values(brokers)) await b.stop();
    await receiver.stop();
    const summarize = (xs) => ({ requestsPerSec: Math.round(median(xs.map((r) => r.requestsPerSec))), brokerCpuUsPerRequest: Number(median(xs.map((r) => r.brokerCpuUsPerRequest)).toFixed(1)) });
    const off = summarize(runs.off);
    const on = summarize(runs.on);
    const spread = (xs) => {
      const v = xs.map((r) => r.requestsPerSec);
      return Number(((Math.max(...v) - Math.min(...v)) / median(v)).toFixed(3));
    };
    const produceSpans = receiver.spans.filter((s) => s.attributes['messaging.operation.name'] === 'produce').length;
    // Warm-up requests included: the receiver saw their spans too.
    const totalOnRequests = warmUpRequests.on + runs.on.reduce((n, r) => n + r.requests, 0);
    writeBenchReport('tracing-overhead', QUICK, {
      tool: 'bench/broker/tracing.mjs',
      startedAt: new Date().toISOString(),
      ...benchProvenance(FROM_SOURCE),
      loadAverageAtStart,
      loadAverageAtEnd: loadavg(),
      params: { runs: RUNS, seconds: SECONDS, inFlight: IN_FLIGHT, samplingRate: SAMPLING_RATE, recordsPerRequest: 1, valueBytes: 100, acks: 1, client: 'kafkajs 2.2.4' },
      runs,
      summary: {
        off,
        on,
        throughputRatioOnOverOff: Number((on.requestsPerSec / off.requestsPerSec).toFixed(3)),
        cpuPerRequestRatioOnOverOff: Number((on.brokerCpuUsPerRequest / off.brokerCpuUsPerRequest).toFixed(3)),
        spreadOff: spread(runs.off),
        spreadOn: spread(runs.on),
        spansExported: exported,
        spansDroppedQueueFull: dropped,
        produceSpansReceived: produceSpans,
        produceRequestsOnTracedBroker: totalOnRequests,
      },
    });
  } catch (err) {
    for (const b of Object.values(brokers)) await b.stop().catch(() => undefined);
    await receiver.stop();
    throw err;
  }
}

runBench(main, work);
