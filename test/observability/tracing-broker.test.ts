// Goal: with observability.tracing on, a real broker process exports OTLP/gRPC spans for produce,
// fetch, consumer-group and admin requests with the messaging attributes; a produce span continues
// the trace of a record's W3C traceparent (parent = the first record's producer span, links for the
// others); samplingRate is honoured (parent-based, then a trace-id ratio); a collector that is down
// costs spans, counted, but never a request; with tracing off nothing is exported and no tracing
// metric exists (the SDK was never built).
// Method: a real OTLP gRPC receiver (test/helpers/otlp-receiver.ts) on a free port, brokers started
// as processes with STREAMBUS_OBSERVABILITY_TRACING_* settings, kafkajs as the client. Counts are
// read after the broker's stop, which flushes queued spans. Sampling bounds are 6 sigma of the
// binomial, so the test cannot flake on chance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import kafkajs, { type Kafka } from 'kafkajs';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';
import { freePort } from '../helpers/ports.ts';

const { Kafka: KafkaClient, logLevel } = kafkajs;

function tracingEnv(endpoint: string, samplingRate: number, enabled = true): Record<string, string> {
  return {
    STREAMBUS_OBSERVABILITY_TRACING_ENABLED: String(enabled),
    STREAMBUS_OBSERVABILITY_TRACING_ENDPOINT: endpoint,
    STREAMBUS_OBSERVABILITY_TRACING_SAMPLING_RATE: String(samplingRate),
    STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
  };
}

function client(broker: BrokerProcess, clientId: string): Kafka {
  return new KafkaClient({ clientId, brokers: [`127.0.0.1:${broker.kafkaPort}`], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
}

async function metrics(broker: BrokerProcess): Promise<string> {
  return (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text();
}

function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line === undefined ? NaN : Number(line.split(' ').pop());
}

const traceparent = (traceId: string, spanId: string, sampled = true) => `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
const newTraceId = () => randomBytes(16).toString('hex');
const newSpanId = () => randomBytes(8).toString('hex');
const produceSpans = (spans: ReceivedSpan[]) => spans.filter((s) => s.attributes['messaging.operation.name'] === 'produce' && s.kind === 2);

async function stopAll(broker: BrokerProcess | undefined, receiver: OtlpReceiver | undefined): Promise<void> {
  const code = await broker?.stop();
  await receiver?.stop();
  assert.equal(code, 0, broker?.output());
}

test('spans of produce, fetch, groups and admin reach the collector with messaging attributes; traceparent is the parent', { timeout: 90_000 }, async () => {
  const receiver = await startOtlpReceiver();
  let broker: BrokerProcess | undefined;
  try {
    broker = await startBroker({ env: tracingEnv(`127.0.0.1:${receiver.port}`, 1) });
    const kafka = client(broker, 'traced-client');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'traced', numPartitions: 2 }, { topic: 'small', numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '200' }] }] });
    await admin.disconnect();

    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const parent = { traceId: newTraceId(), spanId: newSpanId() };
    const single = await producer.send({ topic: 'traced', acks: -1, messages: [{ partition: 0, value: 'one', headers: { traceparent: traceparent(parent.traceId, parent.spanId) } }] });
    // Two records from two producer spans in one batch: the first is the parent, the second a link.
    const first = { traceId: newTraceId(), spanId: newSpanId() };
    const second = { traceId: newTraceId(), spanId: newSpanId() };
    await producer.send({
      topic: 'traced',
      acks: -1,
      messages: [
        { partition: 1, value: 'a', headers: { traceparent: traceparent(first.traceId, first.spanId) } },
        { partition: 1, value: 'b', headers: { traceparent: traceparent(second.traceId, second.spanId) } },
      ],
    });
    // A batch too large for the topic: the partition answers MESSAGE_TOO_LARGE.
    await assert.rejects(producer.send({ topic: 'small', acks: -1, messages: [{ value: 'x'.repeat(400) }] }));
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'traced-group', maxWaitTimeInMs: 100, heartbeatInterval: 300 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'traced', fromBeginning: true });
    let consumed = 0;
    await consumer.run({ eachMessage: async () => void consumed++ });
    const deadline = Date.now() + 30_000;
    while (consumed < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(consumed, 3);
    await consumer.disconnect();

    await receiver.waitFor((spans) => spans.some((s) => s.name === 'LeaveGroup') && spans.some((s) => s.attributes['messaging.operation.name'] === 'commit'), 20_000);
    const code = await broker.stop();
    broker = undefined;
    assert.equal(code, 0);

    const spans = receiver.spans;
    for (const s of spans) {
      assert.equal(s.resource['service.name'], 'streambus');
      assert.equal(s.resource['streambus.broker.id'], 1);
      assert.equal(typeof s.resource['service.version'], 'string');
    }
    const produced = produceSpans(spans);
    const withParent = produced.find((s) => s.traceId === parent.traceId);
    assert.ok(withParent, `a produce span in the producer's trace: ${JSON.stringify(produced)}`);
    assert.equal(withParent.parentSpanId, parent.spanId);
    assert.equal(withParent.kind, 2);
    assert.equal(withParent.name, 'produce traced');
    assert.equal(withParent.attributes['messaging.system'], 'kafka');
    assert.equal(withParent.attributes['messaging.operation.type'], 'send');
    assert.equal(withParent.attributes['messaging.destination.name'], 'traced');
    assert.equal(withParent.attributes['messaging.destination.partition.id'], '0');
    assert.equal(withParent.attributes['messaging.kafka.offset'], Number(single[0]!.baseOffset));
    assert.equal(withParent.attributes['messaging.batch.message_count'], 1);
    assert.equal(withParent.attributes['messaging.client.id'], 'traced-client');
    assert.equal(withParent.statusCode, 0);

    const batch = produced.find((s) => s.traceId === first.traceId);
    assert.ok(batch, 'the two-record batch continues the first record\'s trace');
    assert.equal(batch.parentSpanId, first.spanId);
    assert.deepEqual(batch.links, [{ traceId: second.traceId, spanId: second.spanId }]);
    assert.equal(batch.attributes['messaging.batch.message_count'], 2);

    const tooLarge = produced.find((s) => s.attributes['messaging.destination.name'] === 'small');
    assert.ok(tooLarge, 'the refused produce is traced');
    assert.equal(tooLarge.statusCode, 2);
    assert.equal(tooLarge.attributes['error.type'], 'MESSAGE_TOO_LARGE');
    assert.equal(tooLarge.attributes['streambus.kafka.error_code'], 10);

    const fetches = spans.filter((s) => s.attributes['messaging.operation.name'] === 'fetch');
    assert.ok(fetches.length > 0, 'fetch spans');
    assert.ok(fetches.every((s) => s.kind === 2 && s.attributes['messaging.operation.type'] === 'receive'));
    assert.ok(fetches.some((s) => s.attributes['messaging.destination.name'] === 'traced' && Number(s.attributes['streambus.fetch.bytes']) > 0));

    for (const api of ['JoinGroup', 'SyncGroup', 'LeaveGroup']) {
      const span = spans.find((s) => s.name === api);
      assert.ok(span, `${api} span`);
      assert.equal(span.attributes['messaging.consumer.group.name'], 'traced-group');
      assert.equal(span.kind, 2);
    }
    const commit = spans.find((s) => s.attributes['messaging.operation.name'] === 'commit');
    assert.equal(commit?.attributes['messaging.consumer.group.name'], 'traced-group');
    assert.equal(commit?.attributes['messaging.destination.name'], 'traced');
    const create = spans.find((s) => s.attributes['streambus.kafka.api'] === 'CreateTopics');
    assert.ok(create, 'CreateTopics span');
    assert.equal(create.attributes['streambus.topic_count'], 2);
  } finally {
    await broker?.stop();
    await receiver.stop();
  }
});

test('samplingRate: parent-based for producer traceparents, a trace-id ratio for the rest', { timeout: 90_000 }, async () => {
  const receiver = await startOtlpReceiver();
  let broker: BrokerProcess | undefined;
  try {
    broker = await startBroker({ env: tracingEnv(`127.0.0.1:${receiver.port}`, 0.2) });
    const kafka = client(broker, 'sampled-client');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'sampled', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const sampledParents = new Set<string>();
    const unsampledParents = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const traceId = newTraceId();
      sampledParents.add(traceId);
      await producer.send({ topic: 'sampled', messages: [{ value: 's', headers: { traceparent: traceparent(traceId, newSpanId(), true) } }] });
    }
    for (let i = 0; i < 20; i++) {
      const traceId = newTraceId();
      unsampledParents.add(traceId);
      await producer.send({ topic: 'sampled', messages: [{ value: 'u', headers: { traceparent: traceparent(traceId, newSpanId(), false) } }] });
    }
    const ROOTS = 300;
    for (let i = 0; i < ROOTS; i++) await producer.send({ topic: 'sampled', messages: [{ value: 'r' }] });
    await producer.disconnect();
    // The stop exports what is still queued.
    const code = await broker.stop();
    broker = undefined;
    assert.equal(code, 0);

    const produced = produceSpans(receiver.spans);
    const fromSampled = produced.filter((s) => sampledParents.has(s.traceId)).length;
    const fromUnsampled = produced.filter((s) => unsampledParents.has(s.traceId)).length;
    const roots = produced.filter((s) => s.parentSpanId === '').length;
    assert.equal(fromSampled, 20, 'every request whose producer span was sampled');
    assert.equal(fromUnsampled, 0, 'no request whose producer span was not sampled');
    // Binomial(300, 0.2): mean 60, sigma 6.9; 6 sigma either side.
    const sigma = Math.sqrt(ROOTS * 0.2 * 0.8);
    assert.ok(Math.abs(roots - ROOTS * 0.2) <= 6 * sigma, `${roots} of ${ROOTS} root produce requests sampled at 0.2`);
  } finally {
    await broker?.stop();
    await receiver.stop();
  }
});

test('a collector that is down: the broker serves produce and fetch, counts the dropped spans, logs once', { timeout: 90_000 }, async () => {
  const closedPort = await freePort();
  const broker = await startBroker({ env: tracingEnv(`127.0.0.1:${closedPort}`, 1) });
  try {
    const kafka = client(broker, 'down-client');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'down', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    for (let i = 0; i < 50; i++) await producer.send({ topic: 'down', acks: -1, messages: [{ value: `m${i}` }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'down-group', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'down', fromBeginning: true });
    let consumed = 0;
    await consumer.run({ eachMessage: async () => void consumed++ });
    const deadline = Date.now() + 30_000;
    while (consumed < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await consumer.disconnect();
    assert.equal(consumed, 50);
    // The exporter retries before it gives a batch up.
    let text = '';
    const counted = Date.now() + 40_000;
    while (Date.now() < counted) {
      text = await metrics(broker);
      if (metricValue(text, 'streambus_tracing_spans_dropped_total{reason="export_failed"') > 0) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(metricValue(text, 'streambus_tracing_spans_dropped_total{reason="export_failed"') > 0, text.split('\n').filter((l) => l.includes('tracing')).join('\n'));
    assert.equal(metricValue(text, 'streambus_tracing_spans_exported_total'), 0);
    const warnings = broker.output().split('\n').filter((l) => l.includes('trace export failed'));
    assert.equal(warnings.length, 1, broker.output());
  } finally {
    await stopAll(broker, undefined);
  }
});

test('tracing off: no span is exported and no tracing metric exists', { timeout: 60_000 }, async () => {
  const receiver = await startOtlpReceiver();
  let broker: BrokerProcess | undefined;
  try {
    broker = await startBroker({ env: tracingEnv(`127.0.0.1:${receiver.port}`, 1, false) });
    const kafka = client(broker, 'off-client');
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < 5; i++) await producer.send({ topic: 'off', messages: [{ value: 'x', headers: { traceparent: traceparent(newTraceId(), newSpanId()) } }] });
    await producer.disconnect();
    assert.ok(!(await metrics(broker)).includes('streambus_tracing_'));
    assert.ok(!broker.output().includes('tracing on'));
    const code = await broker.stop();
    broker = undefined;
    assert.equal(code, 0);
    assert.equal(receiver.requests(), 0);
  } finally {
    await broker?.stop();
    await receiver.stop();
  }
});
