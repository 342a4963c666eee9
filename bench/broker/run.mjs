#!/usr/bin/env node
// Broker benchmark (W1 produce, W2 end-to-end latency, W3 consume catch-up, RSS, start-to-ready),
// side by side with Redis Streams (and NATS JetStream when installed) through ../shared/peerbench, all
// in one run on this machine, so that the ratios compare like with like. Writes bench/results/broker.json.
//
//   node bench/broker/run.mjs [--runs N] [--peerbench DIR] [--ready-gb G] [--quick]
//
// Rows:
//   relaxed  broker storage.syncInterval 1s; peerbench modes relaxed (acks=1) and strict (acks=-1)
//   strict   broker storage.syncInterval 0 (fdatasync before acknowledging); peerbench mode strict
//   capacity kcat with librdkafka's default batching (1 MB batches, linger 5 ms), acks=-1: what the
//            broker sustains when the client is not the limit; broker CPU µs per message from /proc
// Every load is bounded (message counts and peerbench's own timeouts) and stops by itself.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchArgs, benchProvenance, procStat, procStatus, runBench, startBrokerProcess, writeBenchReport } from './broker-procs.mjs';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const args = process.argv.slice(2);
const { flag } = benchArgs(args);
const QUICK = args.includes('--quick');
const RUNS = Number(flag('runs', QUICK ? 1 : 3));
const MESSAGES = Number(flag('messages', QUICK ? 20000 : 200000));
const READY_GB = Number(flag('ready-gb', QUICK ? 0.2 : 5));
const W2_SECONDS = Number(flag('duration', QUICK ? 3 : 15));
const work = mkdtempSync(join(tmpdir(), 'streambus-bench-'));
const FROM_SOURCE = args.includes('--from-source');
const startBroker = (name, env, dataDir = join(work, name)) => startBrokerProcess(name, env, dataDir, FROM_SOURCE);
const log = (...m) => console.error('[bench]', ...m);

function preparePeerbench() {
  const source = resolve(flag('peerbench', join(ROOT, '../shared/peerbench')));
  const copy = join(work, 'peerbench');
  cpSync(source, copy, { recursive: true, filter: (p) => !p.includes('node_modules') && !p.includes('/results') });
  const r = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: copy, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('peerbench npm ci failed');
  return copy;
}

function runPeerbench(dir, extra) {
  const out = join(work, `pb-${Date.now()}`);
  const r = spawnSync(process.execPath, ['bench.mjs', '--out', out, '--runs', String(RUNS), '--messages', String(MESSAGES), '--duration', String(W2_SECONDS), ...extra], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 40 * 60_000,
  });
  const file = existsSync(out) ? readdirSync(out).find((f) => f.endsWith('.json')) : undefined;
  if (!file) throw new Error(`peerbench wrote no results (exit ${r.status})`);
  return JSON.parse(readFileSync(join(out, file), 'utf8'));
}

function kcatInput(count, size) {
  const path = join(work, `kcat-${count}-${size}.txt`);
  const line = Buffer.alloc(size - 1, 'x');
  const chunks = [];
  for (let i = 0; i < count; i++) chunks.push(String(i).padStart(10, '0'), line.subarray(10), '\n');
  writeFileSync(path, chunks.join(''));
  return path;
}

/** W1 at capacity: librdkafka default batching, acks=-1; broker CPU and peak RSS from /proc. */
function capacityRun(broker, input, count, acks = '-1') {
  const topic = `capacity-${Date.now()}`;
  const cpu0 = procStat(broker.pid);
  const t0 = performance.now();
  const r = spawnSync('kcat', ['-P', '-b', `127.0.0.1:${broker.kafkaPort}`, '-t', topic, '-X', `acks=${acks}`, '-l', input], { stdio: 'inherit', timeout: 300_000 });
  const seconds = (performance.now() - t0) / 1000;
  const cpuUs = procStat(broker.pid) - cpu0;
  if (r.status !== 0) throw new Error(`kcat produce failed (${r.status})`);
  return { messages: count, seconds, msgsPerSec: count / seconds, brokerCpuUsPerMsg: cpuUs / count, peakRss: procStatus(broker.pid, 'VmHWM') };
}

/** Writes about `gb` GiB into one partition through the broker (kcat), stops it, and times start to ready. */
async function startToReady(input, perFileCount) {
  const dataDir = join(work, 'ready');
  let broker = await startBroker('ready', { STREAMBUS_STORAGE_SYNC_INTERVAL: '1s' }, dataDir);
  const fileBytes = perFileCount * 1024;
  const rounds = Math.max(1, Math.round((READY_GB * 2 ** 30) / fileBytes));
  for (let i = 0; i < rounds; i++) {
    const r = spawnSync('kcat', ['-P', '-b', `127.0.0.1:${broker.kafkaPort}`, '-t', 'ready', '-X', 'acks=1', '-l', input], { stdio: 'inherit', timeout: 600_000 });
    if (r.status !== 0) throw new Error('kcat failed while filling');
  }
  await broker.stop();
  const clean = [];
  for (let i = 0; i < RUNS; i++) {
    broker = await startBroker('ready', {}, dataDir);
    clean.push(broker.readyMs);
    await broker.stop();
  }
  // After a crash: SIGKILL, then the next start scans the active segments' tails.
  broker = await startBroker('ready', {}, dataDir);
  broker.proc.kill('SIGKILL');
  await new Promise((r) => broker.proc.once('exit', r));
  broker = await startBroker('ready', {}, dataDir);
  const afterCrash = broker.readyMs;
  await broker.stop();
  const du = spawnSync('du', ['-sb', join(dataDir, 'data')], { encoding: 'utf8' });
  return { dataBytes: Number(du.stdout.split('\t')[0]), cleanStartMs: median(clean), cleanStartRunsMs: clean, afterCrashStartMs: afterCrash };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : null;
}

/** Median figures of one peerbench row: `system` is peerbench's (redis, nats, kafka = kafkajs, kcat). */
function pick(pb, system, mode) {
  const row = pb.rows.find((r) => r.system === system && r.mode === mode);
  return row?.agg?.median ?? null;
}

/** Headline figures and ratios against Redis, from the raw results (also usable on a saved report). */
function summarize(report) {
  const { relaxedBroker: relaxed, strictBroker: strict } = report.peerbench;
  const redisRelaxed = pick(relaxed, 'redis', 'relaxed');
  const redisStrict = pick(relaxed, 'redis', 'strict');
  // "W1 relaxed" = acks=-1 against a broker syncing every second; "W1 strict" = acks=-1, syncInterval 0.
  const kafkajsRelaxed = pick(relaxed, 'kafka', 'strict');
  const kcatRelaxed = pick(relaxed, 'kcat', 'strict');
  const kcatStrict = pick(strict, 'kcat', 'strict');
  const kafkajsStrict = pick(strict, 'kafka', 'strict');
  const ratio = (a, b) => (a && b ? a / b : null);
  return {
    w1RelaxedKcatMsgs: kcatRelaxed?.w1Msgs ?? null,
    w1RelaxedKafkajsMsgs: kafkajsRelaxed?.w1Msgs ?? null,
    w1StrictKcatMsgs: kcatStrict?.w1Msgs ?? null,
    w1StrictKafkajsMsgs: kafkajsStrict?.w1Msgs ?? null,
    w1CapacityRelaxedMsgs: report.capacityRelaxed.msgsPerSec,
    w1CapacityStrictMsgs: report.capacityStrict.msgsPerSec,
    brokerCpuUsPerMsgCapacity: report.capacityRelaxed.brokerCpuUsPerMsg,
    brokerCpuUsPerMsgPeerbenchKcat: kcatRelaxed?.w1CpuUs ?? null,
    brokerCpuUsPerMsgPeerbenchKcatStrict: kcatStrict?.w1CpuUs ?? null,
    w2P50Ms: kafkajsRelaxed?.p50 ?? null,
    w2P99Ms: kafkajsRelaxed?.p99 ?? null,
    w2P999Ms: kafkajsRelaxed?.p999 ?? null,
    w3Msgs: kafkajsRelaxed?.w3Msgs ?? null,
    idleRssMiB: report.idleRssBytes / 2 ** 20,
    peakRssMiBPeerbenchW1Kcat: kcatRelaxed?.rss ? kcatRelaxed.rss / 2 ** 20 : null,
    peakRssMiBW1Capacity: report.capacityRelaxed.peakRss / 2 ** 20,
    startToReadyMs: report.startToReady.cleanStartMs,
    startToReadyAfterCrashMs: report.startToReady.afterCrashStartMs,
    startToReadyDataBytes: report.startToReady.dataBytes,
    redisRelaxedW1Msgs: redisRelaxed?.w1Msgs ?? null,
    redisStrictW1Msgs: redisStrict?.w1Msgs ?? null,
    redisW3Msgs: redisRelaxed?.w3Msgs ?? null,
    redisW2P99Ms: redisRelaxed?.p99 ?? null,
    ratios: {
      w1RelaxedVsRedisRelaxed_kcat: ratio(kcatRelaxed?.w1Msgs, redisRelaxed?.w1Msgs),
      w1RelaxedVsRedisRelaxed_capacity: ratio(report.capacityRelaxed.msgsPerSec, redisRelaxed?.w1Msgs),
      w1StrictVsRedisStrict_kcat: ratio(kcatStrict?.w1Msgs, redisStrict?.w1Msgs),
      w1StrictVsRedisStrict_capacity: ratio(report.capacityStrict.msgsPerSec, redisStrict?.w1Msgs),
      w3VsRedis: ratio(kafkajsRelaxed?.w3Msgs, redisRelaxed?.w3Msgs),
    },
    targets: { w1RelaxedVsRedis: 2, w1StrictVsRedisStrict: 3, brokerCpuUsPerMsg: 1, w2P99Ms: 1, w3VsRedis: 1, peakRssMiB: 80, startToReadyMs: 1000 },
  };
}

async function main() {
  if (args.includes('--summarize')) {
    const file = flag('summarize');
    const report = JSON.parse(readFileSync(file, 'utf8'));
    report.summary = summarize(report);
    writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
    console.log(JSON.stringify(report.summary, null, 2));
    return;
  }
  const pbDir = preparePeerbench();
  const hasNats = spawnSync('sh', ['-c', 'command -v nats-server'], { stdio: 'ignore' }).status === 0;
  const report = {
    tool: 'bench/broker/run.mjs',
    startedAt: new Date().toISOString(),
    ...benchProvenance(FROM_SOURCE),
    params: { runs: RUNS, messages: MESSAGES, w2Seconds: W2_SECONDS, readyGb: READY_GB },
  };

  log('relaxed broker (syncInterval 1s)');
  let broker = await startBroker('relaxed', { STREAMBUS_STORAGE_SYNC_INTERVAL: '1s' });
  report.idleRssBytes = procStatus(broker.pid, 'VmRSS');
  const peers = ['redis', ...(hasNats ? ['nats'] : [])];
  const relaxed = runPeerbench(pbDir, ['--systems', [...peers, 'kafka', 'kcat'].join(','), '--baseline', 'redis', '--kafka', `127.0.0.1:${broker.kafkaPort}`, '--kafka-pid', String(broker.pid), '--kafka-label', 'streambus']);
  const input = kcatInput(MESSAGES, 1024);
  report.capacityRelaxed = capacityRun(broker, input, MESSAGES);
  await broker.stop();

  log('strict broker (syncInterval 0)');
  broker = await startBroker('strict', { STREAMBUS_STORAGE_SYNC_INTERVAL: '0' });
  const strict = runPeerbench(pbDir, ['--systems', 'kafka,kcat', '--modes', 'strict', '--kafka', `127.0.0.1:${broker.kafkaPort}`, '--kafka-pid', String(broker.pid), '--kafka-label', 'streambus-strict']);
  report.capacityStrict = capacityRun(broker, input, MESSAGES);
  await broker.stop();

  log(`start to ready with ${READY_GB} GiB`);
  report.startToReady = await startToReady(input, MESSAGES);

  report.peerbench = { relaxedBroker: relaxed, strictBroker: strict };
  report.summary = summarize(report);
  report.finishedAt = new Date().toISOString();
  log(`wrote ${writeBenchReport('broker', QUICK, report)}`);
}

runBench(main, work);
