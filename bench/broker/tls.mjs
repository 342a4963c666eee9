#!/usr/bin/env node
// What TLS costs: W1 (kcat produce at capacity: librdkafka's default batching, acks=-1, 1 KiB
// messages) and W3 (kcat reading the topic back from the beginning) against a plaintext broker and a
// broker with the deployment guide's security settings (TLS with client certificates, mtls), in
// alternating runs on this machine; medians and the TLS / plaintext ratios. Certificates are made with
// the guide's openssl commands. Writes bench/results/tls.json.
//
//   node bench/broker/tls.mjs [--runs N] [--messages N] [--quick] [--from-source]
//
// Every load is bounded (a message count, a kcat time limit) and stops by itself.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs, benchProvenance, makeGuideCertificates, median, procStat, runBench, startBrokerProcess, tlsBrokerEnv, writeBenchReport } from './broker-procs.mjs';

const args = process.argv.slice(2);
const { flag } = benchArgs(args);
const QUICK = args.includes('--quick');
const RUNS = Number(flag('runs', QUICK ? 1 : 3));
const MESSAGES = Number(flag('messages', QUICK ? 20_000 : 200_000));
const FROM_SOURCE = args.includes('--from-source');
const work = mkdtempSync(join(tmpdir(), 'streambus-tls-bench-'));
const log = (...m) => console.error('[tls-bench]', ...m);

function kcatInput(count) {
  const path = join(work, 'input.txt');
  const line = 'x'.repeat(1013);
  const chunks = [];
  for (let i = 0; i < count; i++) chunks.push(String(i).padStart(10, '0'), line, '\n');
  writeFileSync(path, chunks.join(''));
  return path;
}

function timed(argv) {
  const t0 = performance.now();
  const r = spawnSync('kcat', argv, { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
  if (r.status !== 0) throw new Error(`kcat ${argv.join(' ')} failed (${r.status ?? r.signal})`);
  return (performance.now() - t0) / 1000;
}

async function oneRun(variant, certs, input, run) {
  const tls = variant === 'tls';
  const env = {
    STREAMBUS_STORAGE_SYNC_INTERVAL: '1s',
    ...(tls
      ? {
          ...tlsBrokerEnv(certs, true),
          STREAMBUS_SECURITY_AUTHENTICATION_ENABLED: 'true',
          STREAMBUS_SECURITY_AUTHENTICATION_METHOD: 'mtls',
        }
      : {}),
  };
  const broker = await startBrokerProcess(`${variant}-${run}`, env, join(work, `${variant}-${run}`), FROM_SOURCE, tls ? certs.ca : undefined);
  const client = ['-b', `127.0.0.1:${broker.kafkaPort}`, ...(tls ? ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${certs.ca}`, '-X', `ssl.certificate.location=${certs.clientCert}`, '-X', `ssl.key.location=${certs.clientKey}`] : [])];
  try {
    const topic = `bench-${run}`;
    const cpu0 = procStat(broker.pid);
    const w1Seconds = timed([...client, '-P', '-t', topic, '-X', 'acks=-1', '-l', input]);
    const cpu1 = procStat(broker.pid);
    const w3Seconds = timed([...client, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-c', String(MESSAGES)]);
    const cpu2 = procStat(broker.pid);
    return {
      w1MsgsPerSec: MESSAGES / w1Seconds,
      w3MsgsPerSec: MESSAGES / w3Seconds,
      w1BrokerCpuUsPerMsg: (cpu1 - cpu0) / MESSAGES,
      w3BrokerCpuUsPerMsg: (cpu2 - cpu1) / MESSAGES,
    };
  } finally {
    await broker.stop();
  }
}

async function main() {
  const certs = makeGuideCertificates(join(work, 'certs'));
  const input = kcatInput(MESSAGES);
  const runs = { plaintext: [], tls: [] };
  for (let run = 0; run < RUNS; run++) {
    // Alternate, so drift in the machine's load touches both alike.
    for (const variant of run % 2 === 0 ? ['plaintext', 'tls'] : ['tls', 'plaintext']) {
      log(`run ${run + 1}/${RUNS}: ${variant}`);
      runs[variant].push(await oneRun(variant, certs, input, run));
    }
  }
  const med = (variant, key) => median(runs[variant].map((r) => r[key]));
  const summary = {
    w1PlaintextMsgs: med('plaintext', 'w1MsgsPerSec'),
    w1TlsMsgs: med('tls', 'w1MsgsPerSec'),
    w1Ratio: med('tls', 'w1MsgsPerSec') / med('plaintext', 'w1MsgsPerSec'),
    w3PlaintextMsgs: med('plaintext', 'w3MsgsPerSec'),
    w3TlsMsgs: med('tls', 'w3MsgsPerSec'),
    w3Ratio: med('tls', 'w3MsgsPerSec') / med('plaintext', 'w3MsgsPerSec'),
    w1BrokerCpuUsPerMsg: { plaintext: med('plaintext', 'w1BrokerCpuUsPerMsg'), tls: med('tls', 'w1BrokerCpuUsPerMsg') },
    w3BrokerCpuUsPerMsg: { plaintext: med('plaintext', 'w3BrokerCpuUsPerMsg'), tls: med('tls', 'w3BrokerCpuUsPerMsg') },
    target: 'w1Ratio and w3Ratio >= 0.7',
  };
  const report = {
    tool: 'bench/broker/tls.mjs',
    startedAt: new Date().toISOString(),
    ...benchProvenance(FROM_SOURCE),
    params: { runs: RUNS, messages: MESSAGES, messageBytes: 1024 },
    runs,
    summary,
    finishedAt: new Date().toISOString(),
  };
  log(`wrote ${writeBenchReport('tls', QUICK, report)}`);
}

runBench(main, work);
