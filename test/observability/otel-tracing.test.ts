// Goal: OtelTracing samples as configured (parent-based: a sampled producer span always, an
// unsampled one never; roots by trace-id ratio), gives spans the broker's resource, kind SERVER,
// links and error status, bounds its queue (drops counted, never blocking), and its shutdown flushes.
// Method: OtelTracing with the SDK's in-memory exporter (or a stalled one) in place of OTLP; the
// ratio is checked over 20,000 random trace ids within 6 sigma of the binomial (no flake).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import pino from 'pino';
import { InMemorySpanExporter, TraceIdRatioBasedSampler, SamplingDecision, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ExportResultCode } from '@opentelemetry/core';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OtelTracing, SPAN_QUEUE_MAX, exporterUrl } from '../../src/observability/otel-tracing.ts';

const log = pino({ level: 'silent' });
const settings = (samplingRate: number) => ({ endpoint: '127.0.0.1:1', samplingRate, brokerId: 7, version: '9.9.9' });

async function metric(registry: Registry, name: string): Promise<number> {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line === undefined ? NaN : Number(line.split(' ').pop());
}

test('the endpoint is plaintext unless it says https://', () => {
  assert.equal(exporterUrl('jaeger-collector:4317'), 'http://jaeger-collector:4317');
  assert.equal(exporterUrl('http://c:4317'), 'http://c:4317');
  assert.equal(exporterUrl(' https://c:4317 '), 'https://c:4317');
});

test('root requests are sampled at samplingRate (6 sigma), parents decide for their children', async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = new OtelTracing(settings(0.1), new Registry(), log, exporter);
  const N = 20_000;
  let recording = 0;
  for (let i = 0; i < N; i++) {
    const span = tracing.startRequest('Produce', null);
    if (span.recording) recording++;
    span.end();
  }
  const sigma = Math.sqrt(N * 0.1 * 0.9);
  assert.ok(Math.abs(recording - N * 0.1) <= 6 * sigma, `${recording} of ${N} sampled at 0.1`);
  for (let i = 0; i < 50; i++) {
    const parent = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') };
    assert.equal(tracing.startRequest('Produce', { ...parent, traceFlags: 1 }).recording, true);
    assert.equal(tracing.startRequest('Produce', { ...parent, traceFlags: 0 }).recording, false);
  }
  await tracing.shutdown(2_000);
});

test('ids are W3C hex, and every sampled root has a trace id the SDK ratio sampler samples too', async () => {
  const exporter = keeping();
  const tracing = new OtelTracing(settings(0.3), new Registry(), log, exporter);
  for (let i = 0; i < 3000; i++) {
    const span = tracing.startRequest('Produce', null);
    span.child('produce orders').end();
    span.end();
  }
  const parent = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: 1 };
  tracing.startRequest('Produce', parent).end();
  await tracing.shutdown(2_000);
  const ratio = new TraceIdRatioBasedSampler(0.3);
  assert.ok(exporter.spans.length > 1000, `${exporter.spans.length} spans`);
  for (const s of exporter.spans) {
    const { traceId, spanId } = s.spanContext();
    assert.match(traceId, /^[0-9a-f]{32}$/);
    assert.match(spanId, /^[0-9a-f]{16}$/);
    assert.notEqual(spanId, '0'.repeat(16));
    if (traceId !== parent.traceId) assert.equal(ratio.shouldSample(ROOT_CONTEXT, traceId).decision, SamplingDecision.RECORD_AND_SAMPLED, traceId);
  }
});

/** Keeps what it exported after shutdown (the SDK's in-memory exporter forgets at shutdown). */
function keeping(): SpanExporter & { spans: ReadableSpan[] } {
  const spans: ReadableSpan[] = [];
  return { spans, export: (batch, done) => (spans.push(...batch), done({ code: ExportResultCode.SUCCESS })), shutdown: async () => undefined };
}

test('spans: SERVER kind, the parent, links, error status, children, resource; shutdown flushes', async () => {
  const exporter = keeping();
  const registry = new Registry();
  const tracing = new OtelTracing(settings(1), registry, log, exporter);
  const parent = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: 1 };
  const linked = { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: 1 };
  const span = tracing.startRequest('Produce', parent);
  span.rename('produce orders');
  span.set('messaging.system', 'kafka');
  span.link(linked);
  const child = span.child('produce orders');
  child.fail('NOT_LEADER_OR_FOLLOWER', 'NOT_LEADER_OR_FOLLOWER (Kafka error 6)');
  child.end();
  span.end();
  await tracing.shutdown(2_000);
  const spans = exporter.spans;
  assert.equal(spans.length, 2);
  const root = spans.find((s) => s.kind === SpanKind.SERVER)!;
  const inner = spans.find((s) => s.kind === SpanKind.INTERNAL)!;
  assert.equal(root.name, 'produce orders');
  assert.equal(root.spanContext().traceId, parent.traceId);
  assert.equal(root.parentSpanContext?.spanId, parent.spanId);
  assert.deepEqual(root.links.map((l) => l.context.spanId), [linked.spanId]);
  assert.equal(root.resource.attributes['service.name'], 'streambus');
  assert.equal(root.resource.attributes['service.version'], '9.9.9');
  assert.equal(root.resource.attributes['streambus.broker.id'], 7);
  assert.equal(inner.parentSpanContext?.spanId, root.spanContext().spanId);
  assert.equal(inner.status.code, SpanStatusCode.ERROR);
  assert.equal(inner.attributes['error.type'], 'NOT_LEADER_OR_FOLLOWER');
  assert.equal(await metric(registry, 'streambus_tracing_spans_exported_total'), 2);
});

test('a stalled exporter: the queue stays bounded, drops are counted, starting spans never waits', { timeout: 30_000 }, async () => {
  const stalled: SpanExporter = { export: (_spans: ReadableSpan[]) => undefined, shutdown: async () => undefined };
  const registry = new Registry();
  const tracing = new OtelTracing(settings(1), registry, log, stalled);
  const extra = 1000;
  for (let i = 0; i < SPAN_QUEUE_MAX + extra; i++) tracing.startRequest('Fetch', null).end();
  assert.equal(await metric(registry, 'streambus_tracing_spans_dropped_total{reason="queue_full"'), extra);
  assert.equal(await metric(registry, 'streambus_tracing_spans_queued'), SPAN_QUEUE_MAX);
  // The flush cannot finish (the exporter never answers): shutdown still returns, at its bound.
  await tracing.shutdown(300);
});
