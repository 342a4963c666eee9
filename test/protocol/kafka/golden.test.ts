// Goal: requests sent by real Kafka clients decode with the generated codecs and re-encode to identical
// bytes, both from the committed fixtures and from a live capture of each client on this machine.
// Method: a capture server on 127.0.0.1 (capture-server.ts) answers ApiVersions, Metadata and Produce
// so that kafkajs 2.2.4, @platformatic/kafka 1.35 and kcat (when installed) produce one message each;
// every captured frame is decoded (header + body) and re-encoded, and the Produce record batches are
// checked (CRC, records). Fixtures in test/protocol/fixtures/ are rewritten with
// STREAMBUS_UPDATE_FIXTURES=1. kcat's absence skips its case with a printed reason, unless
// STREAMBUS_REQUIRE_TOOLS=1, which turns it into a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaptureServer, type Captured } from './capture-server.ts';
import { decodeRequest, encodeRequestFrame } from '../../../src/protocol/kafka/codec.ts';
import { API_BY_KEY, type ApiKey, type ProduceRequest } from '../../../src/protocol/kafka/generated/index.ts';
import { checkBatch, readRecords, splitBatches } from '../../../src/protocol/kafka/record-batch/index.ts';
import { loadCompressionCodecs } from '../../../src/protocol/kafka/compression/index.ts';

const FIXTURES = 'test/protocol/fixtures';
const update = process.env.STREAMBUS_UPDATE_FIXTURES === '1';

/** Decodes a request frame and re-encodes it; the bytes must be identical. Returns the decoded body. */
function roundTrip(frame: Buffer, label: string): { apiKey: number; body: unknown } {
  const { header, body } = decodeRequest(frame);
  const again = Buffer.concat(encodeRequestFrame(header.apiKey as ApiKey, header.apiVersion, header.correlationId, header.clientId, body as never)).subarray(4);
  assert.equal(again.toString('hex'), frame.toString('hex'), `${label}: re-encoding differs`);
  return { apiKey: header.apiKey, body };
}

/** Checks every batch of a Produce request; returns whether `expectValue` is among its records. */
function checkProduce(body: ProduceRequest, label: string, expectValue: string): boolean {
  let seen = false;
  for (const t of body.topicData) {
    for (const p of t.partitionData) {
      assert.ok(p.records, `${label}: records present`);
      for (const { start, end } of splitBatches(p.records)) {
        const batch = p.records.subarray(start, end);
        assert.equal(checkBatch(batch), null, `${label}: batch valid`);
        for (const r of readRecords(batch)) if (r.value?.toString() === expectValue) seen = true;
      }
    }
  }
  return seen;
}

function saveFixtures(client: string, captured: Captured[]): void {
  mkdirSync(FIXTURES, { recursive: true });
  const seen = new Set<string>();
  for (const c of captured) {
    // Codec variants differ from the plain run only in their Produce batch.
    if (/-(gzip|snappy|lz4|zstd)$/.test(client) && c.apiKey !== 0) continue;
    const name = `${client}-${String(c.apiKey).padStart(2, '0')}-${API_BY_KEY[c.apiKey]!.name.toLowerCase()}-v${c.apiVersion}.bin`;
    if (seen.has(name)) continue;
    seen.add(name);
    writeFileSync(join(FIXTURES, name), c.frame);
  }
}

function checkCaptured(client: string, captured: Captured[], value: string): void {
  assert.ok(captured.some((c) => c.apiKey === 18), `${client} sent ApiVersions`);
  const produce = captured.filter((c) => c.apiKey === 0);
  assert.ok(produce.length > 0, `${client} sent Produce`);
  for (const c of captured) roundTrip(c.frame, `${client} ${API_BY_KEY[c.apiKey]!.name} v${c.apiVersion}`);
  // A client may split its records over several Produce requests; the value must be in one of them.
  let seen = false;
  for (const c of produce) if (checkProduce(decodeRequest(c.frame).body as ProduceRequest, `${client} Produce v${c.apiVersion}`, value)) seen = true;
  assert.ok(seen, `${client}: the produced value is in a batch`);
  if (update) saveFixtures(client, captured);
}

test('committed fixtures decode and re-encode to identical bytes', async () => {
  await loadCompressionCodecs();
  const files = readdirSync(FIXTURES).filter((n) => n.endsWith('.bin'));
  assert.ok(files.length >= 6, 'fixtures from at least two clients');
  for (const name of files) {
    const frame = readFileSync(join(FIXTURES, name));
    const { apiKey, body } = roundTrip(frame, name);
    if (apiKey === 0) assert.ok(checkProduce(body as ProduceRequest, name, 'golden-value'), `${name}: the produced value is in a batch`);
  }
});

test('kafkajs 2.2.4: live capture round-trips', async () => {
  const server = new CaptureServer();
  await server.start();
  try {
    const { Kafka, logLevel, CompressionTypes } = await import('kafkajs');
    const kafka = new Kafka({ clientId: 'golden-kafkajs', brokers: [`127.0.0.1:${server.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic: 't', acks: -1, compression: CompressionTypes.GZIP, messages: [{ key: 'k', value: 'golden-value', headers: { h: '1' }, timestamp: '1700000000000' }] });
    await producer.disconnect();
  } finally {
    await server.stop();
  }
  checkCaptured('kafkajs', server.captured, 'golden-value');
});

test('@platformatic/kafka 1.35: live capture round-trips', async () => {
  const server = new CaptureServer();
  await server.start();
  try {
    const { Producer, stringSerializers } = await import('@platformatic/kafka');
    const producer = new Producer({ clientId: 'golden-platformatic', bootstrapBrokers: [`127.0.0.1:${server.port}`], serializers: stringSerializers, retries: 0, timeout: 5000 });
    await producer.send({ messages: [{ topic: 't', key: 'k', value: 'golden-value', headers: { h: '1' }, partition: 0, timestamp: 1700000000000n }] });
    await producer.close();
  } finally {
    await server.stop();
  }
  checkCaptured('platformatic', server.captured, 'golden-value');
});

test('kcat: live capture round-trips, for every codec', async (t) => {
  await loadCompressionCodecs();
  const probe = spawnSync('kcat', ['-V'], { encoding: 'utf8' });
  if (probe.error) {
    const reason = 'kcat is not installed (apt-get install kcat)';
    if (process.env.STREAMBUS_REQUIRE_TOOLS === '1') assert.fail(reason);
    console.log(`# skipped: ${reason}`);
    t.skip(reason);
    return;
  }
  // One run per codec: librdkafka writes raw snappy and LZ4 frames, which our decoders must read.
  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    const server = new CaptureServer();
    await server.start();
    try {
      const child = spawn('kcat', ['-b', `127.0.0.1:${server.port}`, '-P', '-t', 't', '-p', '0', '-K:', '-z', codec, '-X', 'client.id=golden-kcat', '-X', 'message.timeout.ms=30000'], { stdio: ['pipe', 'ignore', 'ignore'] });
      // Repetitive filler makes the batch compressible: librdkafka sends it uncompressed otherwise.
      child.stdin.end('k:golden-value\n' + `f:${'filler '.repeat(200)}\n`.repeat(20));
      const timer = setTimeout(() => child.kill('SIGKILL'), 40000);
      await new Promise((resolve) => child.on('exit', resolve));
      clearTimeout(timer);
    } finally {
      await server.stop();
    }
    checkCaptured(codec === 'none' ? 'kcat' : `kcat-${codec}`, server.captured, 'golden-value');
  }
});
