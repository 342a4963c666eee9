// Goal: the Kafka path metrics count exactly (messages, bytes, requests) while the latency summary
// samples evenly above its per-second budget, and the throughput gauge averages the last 10 s, or the
// window metrics.interval gives.
// Method: a KafkaMetrics on its own registry with a hand-driven clock; read the text exposition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { KafkaMetrics } from '../../src/observability/kafka-metrics.ts';

function value(text: string, line: RegExp): number {
  const m = text.match(line);
  assert.ok(m, `no line matching ${line}`);
  return Number(m[1]);
}

test('counts are exact, latency is sampled, throughput averages the window', async () => {
  const registry = new Registry();
  let now = 1_000_000;
  const m = new KafkaMetrics(registry, () => now, () => [{ group: 'g', topic: 't', partition: 0, lag: 7 }]);
  for (let i = 0; i < 5000; i++) m.appended('t', 2, 100, 0.001);
  now += 1000; // the next second samples with the stride learnt from 5000 observations
  for (let i = 0; i < 5000; i++) m.appended('t', 2, 100, 0.001);
  m.request('Produce', 0.002, false);
  m.request('Produce', 0.002, true);
  m.fetched('t', 300);
  const text = await registry.metrics();
  assert.equal(value(text, /^streambus_messages_total (\d+)/m), 20000);
  assert.equal(value(text, /^streambus_topic_bytes_in_total\{topic="t"\} (\d+)/m), 1_000_000);
  assert.equal(value(text, /^streambus_topic_bytes_out_total\{topic="t"\} (\d+)/m), 300);
  assert.equal(value(text, /^streambus_requests_total\{api="Produce",error="true"\} (\d+)/m), 1);
  const observed = value(text, /^streambus_message_latency_seconds_count (\d+)/m);
  assert.ok(observed > 5000 && observed < 5600, `second second sampled at stride 20: ${observed}`);
  assert.ok(Math.abs(value(text, /^streambus_message_latency_seconds\{quantile="0.99"\} ([\d.e-]+)/m) - 0.001) < 1e-9);
  assert.equal(value(text, /^streambus_throughput_messages_per_second (\d+)/m), 2000);
  assert.equal(value(text, /^streambus_consumer_group_lag\{group="g",topic="t",partition="0"\} (\d+)/m), 7);
});

test('the throughput window is metrics.interval: records age out of it after that many seconds', async () => {
  const registry = new Registry();
  let now = 5_000_000;
  const m = new KafkaMetrics(registry, () => now, () => [], 30_000);
  const throughput = async () => value(await registry.metrics(), /^streambus_throughput_messages_per_second ([\d.]+)/m);
  m.appended('t', 3000, 100, 0.001);
  assert.equal(await throughput(), 100); // 3000 records over a 30 s window
  now += 29_000;
  assert.equal(await throughput(), 100);
  now += 1_000; // the second they were appended in has left the window
  assert.equal(await throughput(), 0);
  assert.match(await registry.metrics(), /averaged over the last 30 s \(metrics\.interval\)/);
  // Rounded to whole seconds, at least one.
  const tiny = new Registry();
  new KafkaMetrics(tiny, () => now, () => [], 1);
  assert.match(await tiny.metrics(), /averaged over the last 1 s/);
});
