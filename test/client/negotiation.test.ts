// Goal: the client negotiates versions like Kafka clients: ApiVersions v3 first; on error 35 it retries
// with the version the broker names (KIP-511); each API then goes out at the highest version both sides
// support; an API the broker lacks fails with SB_ERR_UNSUPPORTED_VERSION before anything is sent.
// Retriable errors (a moved leader, a dropped connection) are retried with fresh metadata, others are
// thrown at once as KafkaResponseError. Method: a scripted fake broker on a loopback port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaClient, KafkaResponseError } from '../../src/client/index.ts';
import { apiVersionsAnswer, metadataAnswer, startFakeBroker, type FakeBroker } from './fake-broker.ts';
import { encodeApiVersionsResponse } from '../../src/protocol/kafka/generated/index.ts';
import { Writer } from '../../src/protocol/kafka/writer.ts';
import { isStreamBusError } from '../../src/util/errors.ts';
import { buildRecordBatch } from '../../src/protocol/kafka/record-batch/index.ts';

/** A v0-layout ApiVersions error 35 frame naming [0, max] as the broker's own range (correlation id patched in). */
function unsupportedFrame(max: number): Buffer {
  const w = new Writer(64);
  w.int32(0);
  w.int32(0);
  encodeApiVersionsResponse(w, { errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: max }] }, 0);
  const out = w.toBuffer();
  out.writeInt32BE(out.length - 4, 0);
  return out;
}

const fast = { retries: 3, backoffMs: 1, backoffMaxMs: 5 };

async function withFake(handlers: Parameters<typeof startFakeBroker>[0], body: (fake: FakeBroker, client: KafkaClient) => Promise<void>): Promise<void> {
  const fake = await startFakeBroker(handlers);
  const client = new KafkaClient({ bootstrap: `127.0.0.1:${fake.port}`, retry: fast });
  try {
    await body(fake, client);
  } finally {
    client.close();
    await fake.close();
  }
}

test('ApiVersions v3 refused with error 35: the client retries at the version the broker names, then picks the common maximum', async () => {
  let port = 0;
  await withFake(
    {
      18: (v) => (v === 3 ? unsupportedFrame(2) : apiVersionsAnswer({ 18: [0, 2], 3: [1, 5] })),
      3: () => metadataAnswer(port, { t: 2 }),
    },
    async (fake, client) => {
      port = fake.port;
      const md = await client.metadata(['t']);
      assert.equal(md.clusterId, 'fake-cluster');
      assert.deepEqual(md.topics[0]!.partitions.map((p) => p.leader), [1, 1]);
      assert.deepEqual(fake.seen.map((s) => [s.apiKey, s.apiVersion]), [[18, 3], [18, 2], [3, 5]]);
    },
  );
});

test('an API the broker does not offer fails with SB_ERR_UNSUPPORTED_VERSION, without a request', async () => {
  let port = 0;
  await withFake({ 18: () => apiVersionsAnswer({ 18: [0, 3], 3: [1, 9] }), 3: () => metadataAnswer(port, {}) }, async (fake, client) => {
    port = fake.port;
    await assert.rejects(client.createTopics([{ name: 'x' }]), (e: unknown) => isStreamBusError(e, 'SB_ERR_UNSUPPORTED_VERSION') && /CreateTopics/.test((e as Error).message));
    assert.ok(fake.seen.every((s) => s.apiKey !== 19));
  });
});

test('ranges that do not meet: the client refuses too (its Produce minimum is 3)', async () => {
  await withFake({ 18: () => apiVersionsAnswer({ 18: [0, 3], 0: [0, 2] }) }, async (_fake, client) => {
    await client.connect();
    await assert.rejects(client.produce('t', 0, [{ value: 'v' }]), (e: unknown) => isStreamBusError(e, 'SB_ERR_UNSUPPORTED_VERSION'));
  });
});

test('NOT_LEADER_OR_FOLLOWER on produce: metadata is refreshed and the batch sent again', async () => {
  let port = 0;
  await withFake(
    {
      18: () => apiVersionsAnswer({ 18: [0, 3], 3: [1, 9], 0: [3, 7] }),
      3: () => metadataAnswer(port, { t: 1 }),
      0: (_v, _body, nth) => ({ responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: nth === 1 ? 6 : 0, baseOffset: 41n, logAppendTimeMs: -1n, logStartOffset: 0n }] }] }),
    },
    async (fake, client) => {
      port = fake.port;
      const result = await client.produce('t', 0, [{ value: 'v' }]);
      assert.equal(result.baseOffset, 41n);
      const order = fake.seen.filter((s) => s.apiKey !== 18).map((s) => s.apiKey);
      assert.deepEqual(order, [3, 0, 3, 0], 'metadata, produce (refused), metadata again, produce');
      assert.equal((fake.seen.find((s) => s.apiKey === 0)!.body as { acks: number }).acks, -1);
    },
  );
});

test('a dropped connection is reconnected and the request retried', async () => {
  let port = 0;
  await withFake(
    {
      18: () => apiVersionsAnswer({ 18: [0, 3], 3: [1, 9], 2: [1, 5] }),
      3: () => metadataAnswer(port, { t: 1 }),
      2: (_v, _body, nth) => (nth === 1 ? 'close' : { topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 99n }] }] }),
    },
    async (fake, client) => {
      port = fake.port;
      const [latest] = await client.listOffsets('t', [0], 'latest');
      assert.equal(latest!.offset, 99n);
      assert.equal(fake.connections, 2);
    },
  );
});

test('a non-retriable error is thrown at once as KafkaResponseError with code and name', async () => {
  let port = 0;
  await withFake(
    {
      // Produce v9 (flexible, with error_message since v8).
      18: () => apiVersionsAnswer({ 18: [0, 3], 3: [1, 9], 0: [3, 11] }),
      3: () => metadataAnswer(port, { t: 1 }),
      0: () => ({ responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 10, baseOffset: -1n, errorMessage: 'too big' }] }] }),
    },
    async (fake, client) => {
      port = fake.port;
      await assert.rejects(client.produce('t', 0, [{ value: 'v' }]), (e: unknown) => {
        assert.ok(e instanceof KafkaResponseError);
        assert.equal(e.code, 'SB_ERR_KAFKA');
        assert.equal(e.kafkaCode, 10);
        assert.equal(e.kafkaName, 'MESSAGE_TOO_LARGE');
        assert.equal(e.retriable, false);
        assert.match(e.message, /produce to t-0: MESSAGE_TOO_LARGE \(10\): too big/);
        return true;
      });
      assert.deepEqual(fake.seen.filter((s) => s.apiKey === 0).map((s) => s.apiVersion), [9]);
    },
  );
});

test('retries are bounded: a leader that never comes back fails after the configured retries', async () => {
  let port = 0;
  await withFake(
    {
      18: () => apiVersionsAnswer({ 18: [0, 3], 3: [1, 9], 0: [3, 7] }),
      3: () => metadataAnswer(port, { t: 1 }),
      0: () => ({ responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 6, baseOffset: -1n }] }] }),
    },
    async (fake, client) => {
      port = fake.port;
      await assert.rejects(client.produce('t', 0, [{ value: 'v' }]), (e: unknown) => e instanceof KafkaResponseError && e.kafkaName === 'NOT_LEADER_OR_FOLLOWER');
      assert.equal(fake.seen.filter((s) => s.apiKey === 0).length, fast.retries + 1);
    },
  );
});

test('fetch asks for large chunks (32 MiB, 8 MiB per partition), read_committed, no session; a cut batch is fetched again', async () => {
  let port = 0;
  const first = buildRecordBatch([{ value: Buffer.from('a') }, { value: Buffer.from('b') }], { baseOffset: 5n });
  const second = buildRecordBatch([{ value: Buffer.from('c') }], { baseOffset: 7n });
  await withFake(
    {
      18: () => apiVersionsAnswer({ 18: [0, 3], 3: [1, 9], 1: [4, 12] }),
      3: () => metadataAnswer(port, { t: 1 }),
      1: () => ({ responses: [{ topic: 't', partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 8n, lastStableOffset: 8n, logStartOffset: 0n, abortedTransactions: null, preferredReadReplica: -1, records: [first, second.subarray(0, 20)] }] }] }),
    },
    async (fake, client) => {
      port = fake.port;
      const result = await client.fetch('t', 0, 6n);
      assert.deepEqual(result.records.map((r) => [r.offset, r.value!.toString()]), [[6n, 'b']]);
      assert.equal(result.nextOffset, 7n, 'the cut batch at 7 is asked for again');
      assert.equal(result.highWatermark, 8n);
      const sent = fake.seen.find((s) => s.apiKey === 1)!;
      assert.equal(sent.apiVersion, 12);
      const body = sent.body as { replicaId: number; maxBytes: number; isolationLevel: number; sessionId: number; sessionEpoch: number; topics: { partitions: { fetchOffset: bigint; partitionMaxBytes: number }[] }[] };
      assert.deepEqual([body.replicaId, body.maxBytes, body.isolationLevel, body.sessionId, body.sessionEpoch], [-1, 32 * 1024 * 1024, 1, 0, -1]);
      assert.deepEqual(body.topics[0]!.partitions.map((p) => [p.fetchOffset, p.partitionMaxBytes]), [[6n, 8 * 1024 * 1024]]);
    },
  );
});
