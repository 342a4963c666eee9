// Goal: Kafka's client quotas hold clients to their byte rates on a real broker. kcat producing as fast
// as it can under producer_byte_rate 2 MB/s is held to it within 10% (measured by the broker's bytes
// appended, not by the client); raised through AlterClientQuotas, the new rate applies within a second;
// a consumer under consumer_byte_rate is held to it too; a produce over quota is answered with
// throttle_time_ms (KIP-219) rather than refused. DescribeClientQuotas lists what was set.
// Method: one broker process, kcat (librdkafka) with its client.id, raw AlterClientQuotas /
// DescribeClientQuotas / Produce, the broker's /metrics, and `streambus quota`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { createTopic, produceBody, RawKafka, textBatch } from '../helpers/raw-kafka.ts';
import { API_KEYS } from '../../src/protocol/kafka/generated/index.ts';
import { requireTool } from '../helpers/tools.ts';
import { runCli } from '../helpers/run-cli.ts';

let broker: BrokerProcess;
let conn: RawKafka;

before(async () => {
  broker = await startBroker();
  conn = await RawKafka.connect(broker.kafkaPort);
});

after(async () => {
  conn?.close();
  await broker?.stop();
});

async function setQuota(clientId: string, key: string, value: number | null): Promise<void> {
  const res = await conn.request(API_KEYS.AlterClientQuotas, 1, { entries: [{ entity: [{ entityType: 'client-id', entityName: clientId }], ops: [{ key, value: value ?? 0, remove: value === null }] }], validateOnly: false });
  assert.deepEqual(res.entries.map((e) => e.errorCode), [0], res.entries[0]?.errorMessage ?? '');
}

async function topicMetric(name: string, topic: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{topic="${topic}"`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

/** kcat with `args`, fed `input` (or nothing), until stopped; bounded by `limitMs` whatever happens. */
function kcat(args: string[], input: string | null, limitMs: number): { proc: ChildProcess; done: Promise<void> } {
  const proc = spawn('kcat', args, { stdio: [input === null ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
  const timer = setTimeout(() => proc.kill('SIGKILL'), limitMs);
  const done = new Promise<void>((resolve) => proc.once('close', () => (clearTimeout(timer), resolve())));
  if (input !== null) {
    proc.stdin!.on('error', () => undefined);
    proc.stdin!.end(input);
  }
  return { proc, done };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes per second the broker counted for `topic` between now and `ms` later. */
async function rateOver(metric: string, topic: string, ms: number): Promise<number> {
  const before = await topicMetric(metric, topic);
  const t0 = performance.now();
  await sleep(ms);
  return ((await topicMetric(metric, topic)) - before) / ((performance.now() - t0) / 1000);
}

test('a producer at full speed is held to producer_byte_rate; a raised quota applies within a second', { timeout: 60_000 }, async (t) => {
  if (!requireTool(t, 'kcat', { probeArgs: ['-V'] })) return;
  assert.equal(await createTopic(conn, 'quota-produce', 1), 0);
  await setQuota('limited', 'producer_byte_rate', 2e6);
  const line = 'x'.repeat(999);
  const input = Array.from({ length: 120_000 }, () => line).join('\n') + '\n';
  const producer = kcat(['-P', '-b', `127.0.0.1:${broker.kafkaPort}`, '-t', 'quota-produce', '-p', '0', '-z', 'none', '-X', 'client.id=limited', '-X', 'queue.buffering.max.kbytes=65536'], input, 40_000);
  try {
    await sleep(2_000);
    const held = await rateOver('streambus_topic_bytes_in_total', 'quota-produce', 8_000);
    t.diagnostic(`held at ${(held / 1e6).toFixed(2)} MB/s under a 2 MB/s quota`);
    assert.ok(Math.abs(held - 2e6) / 2e6 <= 0.1, `produce rate ${held} B/s, quota 2e6`);
    await setQuota('limited', 'producer_byte_rate', 8e6);
    await sleep(1_000);
    const raised = await rateOver('streambus_topic_bytes_in_total', 'quota-produce', 3_000);
    t.diagnostic(`after raising the quota to 8 MB/s: ${(raised / 1e6).toFixed(2)} MB/s`);
    assert.ok(raised > 2 * held && raised <= 8e6 * 1.1, `raised rate ${raised} B/s`);
  } finally {
    producer.proc.kill('SIGKILL');
    await producer.done;
  }
});

test('a consumer is held to consumer_byte_rate', { timeout: 60_000 }, async (t) => {
  if (!requireTool(t, 'kcat', { probeArgs: ['-V'] })) return;
  assert.equal(await createTopic(conn, 'quota-fetch', 1), 0);
  // 24 MB to read, far more than 8 s at the quota.
  for (let i = 0; i < 24; i++) {
    const res = await conn.request(API_KEYS.Produce, 9, produceBody('quota-fetch', 0, textBatch(Array.from({ length: 1000 }, () => 'y'.repeat(1000)))));
    assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, 0);
  }
  await setQuota('slow-reader', 'consumer_byte_rate', 1e6);
  const consumer = kcat(['-C', '-b', `127.0.0.1:${broker.kafkaPort}`, '-t', 'quota-fetch', '-p', '0', '-o', 'beginning', '-q', '-X', 'client.id=slow-reader'], null, 30_000);
  try {
    await sleep(2_000);
    const held = await rateOver('streambus_topic_bytes_out_total', 'quota-fetch', 8_000);
    t.diagnostic(`read at ${(held / 1e6).toFixed(2)} MB/s under a 1 MB/s quota`);
    assert.ok(Math.abs(held - 1e6) / 1e6 <= 0.15, `fetch rate ${held} B/s, quota 1e6`);
  } finally {
    consumer.proc.kill('SIGKILL');
    await consumer.done;
  }
});

test('over quota, a produce is answered with throttle_time_ms, not refused; DescribeClientQuotas lists the quotas', async () => {
  assert.equal(await createTopic(conn, 'quota-raw', 1), 0);
  // RawKafka sends client id raw-test.
  await setQuota('raw-test', 'producer_byte_rate', 10_000);
  const big = textBatch(Array.from({ length: 40 }, () => 'z'.repeat(1000)));
  const first = await conn.request(API_KEYS.Produce, 9, produceBody('quota-raw', 0, big));
  assert.equal(first.responses[0]!.partitionResponses[0]!.errorCode, 0);
  assert.ok(first.throttleTimeMs >= 2_000 && first.throttleTimeMs <= 4_000, `throttle ${first.throttleTimeMs} ms for 40 KB at 10 KB/s`);
  const listed = await conn.request(API_KEYS.DescribeClientQuotas, 1, { components: [{ entityType: 'client-id', matchType: 2, match: null }], strict: true });
  const byClient = new Map((listed.entries ?? []).map((e) => [e.entity[0]!.entityName, Object.fromEntries(e.values.map((v) => [v.key, v.value]))]));
  assert.deepEqual(byClient.get('raw-test'), { producer_byte_rate: 10_000 });
  assert.deepEqual(byClient.get('slow-reader'), { consumer_byte_rate: 1e6 });
  await setQuota('raw-test', 'producer_byte_rate', null);
  const bad = await conn.request(API_KEYS.AlterClientQuotas, 1, { entries: [{ entity: [{ entityType: 'ip', entityName: null }], ops: [{ key: 'connection_creation_rate', value: 1, remove: false }] }], validateOnly: false });
  assert.equal(bad.entries[0]!.errorCode, 42, 'INVALID_REQUEST');
  assert.match(bad.entries[0]!.errorMessage ?? '', /ip entity/);
});

test('streambus quota alter and describe', async () => {
  const b = ['--bootstrap-server', `127.0.0.1:${broker.kafkaPort}`];
  const set = await runCli(['quota', 'alter', '--user', 'alice', '--client', 'etl', '--add', 'producer_byte_rate=1048576', '--add', 'request_percentage=50', ...b], 20_000);
  assert.equal(set.status, 0, set.stderr);
  assert.match(set.stdout, /user=alice, client-id=etl: producer_byte_rate=1048576, request_percentage=50/);
  const def = await runCli(['quota', 'alter', '--user-default', '--add', 'consumer_byte_rate=5e7', ...b], 20_000);
  assert.equal(def.status, 0, def.stderr);
  const listed = await runCli(['quota', 'describe', '--user', 'alice', '--json', ...b], 20_000);
  assert.equal(listed.status, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout), [{ entity: [{ type: 'user', name: 'alice' }, { type: 'client-id', name: 'etl' }], values: { producer_byte_rate: 1048576, request_percentage: 50 } }]);
  const removed = await runCli(['quota', 'alter', '--user', 'alice', '--client', 'etl', '--delete', 'producer_byte_rate', '--delete', 'request_percentage', ...b], 20_000);
  assert.equal(removed.status, 0, removed.stderr);
  const table = await runCli(['quota', 'describe', ...b], 20_000);
  assert.match(table.stdout, /user=<default>\s+consumer_byte_rate\s+50000000/);
  assert.doesNotMatch(table.stdout, /alice/);
  const bad = await runCli(['quota', 'alter', '--client', 'x', '--add', 'bytes=5', ...b], 20_000);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /unknown quota "bytes"/);
  const usage = await runCli(['quota', 'alter', '--add', 'producer_byte_rate=5', ...b], 20_000);
  assert.equal(usage.status, 2);
});
