// Goal: malformed frames and unsupported requests close only the connection that sent them, and the
// broker stays healthy: readiness answers 200 and a connection opened before keeps being served.
// ApiVersions of a version the broker does not support gets error 35 in a v0-layout body (KIP-511)
// and keeps the connection; other unadvertised keys and versions close it, as Kafka does. The v0
// versions listed for librdkafka's feature checks (FindCoordinator, JoinGroup) are served; Produce v0-2 and
// Fetch v0-3 (message format v0/v1) are answered with UNSUPPORTED_VERSION per partition.
// Method: one broker process; each bad input on its own raw socket, built from the project's own
// request codec and then damaged or hand-written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { RawKafka } from '../helpers/raw-kafka.ts';
import { decodeResponse, encodeRequestFrame } from '../../src/protocol/kafka/codec.ts';

const MAX_FRAME_BYTES = 1024 * 1024;
const CLOSE_WITHIN_MS = 5_000;

let broker: BrokerProcess;
let bystander: RawKafka;

before(async () => {
  broker = await startBroker({
    env: { STREAMBUS_KAFKA_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES), STREAMBUS_KAFKA_MESSAGE_MAX_BYTES: '65536', STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' },
  });
  bystander = await RawKafka.connect(broker.kafkaPort);
});

after(async () => {
  bystander?.close();
  const code = await broker?.stop();
  assert.equal(code, 0, broker?.output());
});

/** The broker answers readiness and serves a connection opened before the bad input. */
async function assertHealthy(): Promise<void> {
  assert.equal((await fetch(`http://127.0.0.1:${broker.httpPort}/health/ready`)).status, 200);
  assert.ok(bystander.open, 'the bystander connection is still open');
  const res = await bystander.request(18, 3, { clientSoftwareName: 'bystander', clientSoftwareVersion: '1' });
  assert.equal(res.errorCode, 0);
  assert.equal(broker.proc.exitCode, null, 'the broker is still running');
}

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/** A valid request frame, as one buffer with its size prefix. */
function requestBytes(...args: Parameters<typeof encodeRequestFrame>): Buffer {
  return Buffer.concat(encodeRequestFrame(...args));
}

const BAD_FRAMES: [string, () => Buffer][] = [
  ['an HTTP request (its first bytes read as a 1.1 GB size)', () => Buffer.from('GET / HTTP/1.1\r\nHost: streambus\r\n\r\n')],
  ['a negative size', () => Buffer.from('fffffffe00120003', 'hex')],
  ['a size one byte over the maximum frame', () => {
    const b = Buffer.alloc(8);
    b.writeInt32BE(MAX_FRAME_BYTES + 1);
    return b;
  }],
  ['an empty frame', () => frame(Buffer.alloc(0))],
  ['a header cut after api key and version', () => frame(Buffer.from('00030009', 'hex'))],
  ['a client id longer than the frame', () => frame(Buffer.from('0003000900000001' + '7fff' + '6162', 'hex'))],
  ['a Metadata v9 body cut in half', () => {
    const whole = requestBytes(3, 9, 1, 'cut', { topics: [{ name: 'some-topic' }, { name: 'another-topic' }], allowAutoTopicCreation: false });
    const body = whole.subarray(4, 4 + Math.floor((whole.length - 4) / 2) + 6);
    return frame(body);
  }],
  ['garbage after a valid Produce header (api key 0, v7)', () => frame(Buffer.concat([Buffer.from('0000000700000001ffff', 'hex'), Buffer.alloc(40, 0xee)]))],
  ['random bytes with a fitting size (api key -1)', () => frame(Buffer.from('ffff' + 'a5'.repeat(62), 'hex'))],
];

for (const [name, bytes] of BAD_FRAMES) {
  test(`${name}: closes that connection only`, async () => {
    const conn = await RawKafka.connect(broker.kafkaPort);
    conn.write(bytes());
    assert.ok(await conn.closesWithin(CLOSE_WITHIN_MS), 'the broker closed the connection');
    await assertHealthy();
  });
}

test('a frame split into single bytes is still one request', async () => {
  const conn = await RawKafka.connect(broker.kafkaPort);
  const bytes = requestBytes(18, 3, 7, 'trickle', { clientSoftwareName: 'trickle', clientSoftwareVersion: '1' });
  const answer = conn.response(7);
  for (const b of bytes) {
    conn.write(Buffer.from([b]));
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(decodeResponse(18, 3, await answer).body.errorCode, 0);
  conn.close();
});

test('ApiVersions of an unsupported version: error 35 in a v0 body listing ApiVersions, connection kept', async () => {
  const conn = await RawKafka.connect(broker.kafkaPort);
  for (const version of [5, 200]) {
    const bytes = requestBytes(18, 3, version, 'future', { clientSoftwareName: 'future', clientSoftwareVersion: '1' });
    bytes.writeInt16BE(version, 6); // api_version field of the header: no schema has v5 or v200
    conn.write(bytes);
    const body = decodeResponse(18, 0, await conn.response(version)).body;
    assert.equal(body.errorCode, 35);
    assert.deepEqual(body.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]), [[18, 0, 4]]);
  }
  const ok = await conn.request(18, 3, { clientSoftwareName: 'retry', clientSoftwareVersion: '1' });
  assert.equal(ok.errorCode, 0, 'the client retries lower on the same connection');
  const listed = new Map(ok.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
  assert.deepEqual(listed.get(0), [0, 11], 'Produce listed from v0 (librdkafka compression check)');
  assert.deepEqual(listed.get(1), [0, 16]);
  assert.deepEqual(listed.get(3), [0, 12]);
  assert.deepEqual(listed.get(10), [0, 5]);
  assert.deepEqual(listed.get(11), [0, 9]);
  conn.close();
  await assertHealthy();
});

const UNADVERTISED: [string, () => Buffer][] = [
  ['SaslHandshake v2 (no Kafka version defines it)', () => {
    const b = requestBytes(17, 1, 1, 'sasl', { mechanism: 'PLAIN' });
    b.writeInt16BE(2, 6);
    return b;
  }],
  ['an API key no Kafka version defines (999)', () => frame(Buffer.from('03e70000000000010000', 'hex'))],
  ['Fetch v17 (KRaft voters; not advertised)', () =>
    requestBytes(1, 17, 1, 'voters', { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1024, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [], forgottenTopicsData: [], rackId: '' })],
  ['FindCoordinator v6 (share groups; not advertised)', () => requestBytes(10, 6, 1, 'share', { keyType: 0, coordinatorKeys: ['g'] })],
];

for (const [name, bytes] of UNADVERTISED) {
  test(`${name}: closes the connection`, async () => {
    const conn = await RawKafka.connect(broker.kafkaPort);
    conn.write(bytes());
    assert.ok(await conn.closesWithin(CLOSE_WITHIN_MS), 'the broker closed the connection');
    await assertHealthy();
  });
}

test('Produce v0-2 and Fetch v0-3 (message format v0/v1) get UNSUPPORTED_VERSION per partition, connection kept', async () => {
  const conn = await RawKafka.connect(broker.kafkaPort);
  for (const version of [0, 1, 2]) {
    const answer = await conn.request(0, version, { acks: 1, timeoutMs: 1000, topicData: [{ name: 'old-format', partitionData: [{ index: 0, records: Buffer.alloc(0) }] }] });
    assert.deepEqual(answer.responses.map((t) => t.partitionResponses.map((p) => p.errorCode)), [[35]], `Produce v${version}`);
  }
  for (const version of [0, 1, 2, 3]) {
    const answer = await conn.request(1, version, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1024,
      topics: [{ topic: 'old-format', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1024 }] }],
    });
    assert.deepEqual(answer.responses.map((t) => t.partitions.map((p) => p.errorCode)), [[35]], `Fetch v${version}`);
  }
  const ok = await conn.request(18, 3, { clientSoftwareName: 'after', clientSoftwareVersion: '1' });
  assert.equal(ok.errorCode, 0, 'the connection is still open');
  conn.close();
});

test('FindCoordinator v0 and JoinGroup v0 (listed for librdkafka) are served', async () => {
  const conn = await RawKafka.connect(broker.kafkaPort);
  const coordinator = await conn.request(10, 0, { key: 'v0-group' });
  assert.equal(coordinator.errorCode, 0);
  assert.equal(coordinator.nodeId, 1);
  assert.equal(coordinator.port, broker.kafkaPort);
  // v0 has no rebalance timeout and no MEMBER_ID_REQUIRED round: the member gets an id at once.
  const joined = await conn.request(11, 0, {
    groupId: 'v0-group',
    sessionTimeoutMs: 6000,
    memberId: '',
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('0000000000010001740000000000', 'hex') }],
  });
  assert.equal(joined.errorCode, 0);
  assert.equal(joined.generationId, 1);
  assert.notEqual(joined.memberId, '');
  assert.equal(joined.leader, joined.memberId);
  assert.equal(joined.protocolName, 'range');
  assert.deepEqual(joined.members.map((m) => m.memberId), [joined.memberId]);
  const left = await conn.request(13, 0, { groupId: 'v0-group', memberId: joined.memberId });
  assert.equal(left.errorCode, 0);
  conn.close();
});

test('many bad connections in a row leave the broker healthy', async () => {
  for (let i = 0; i < 50; i++) {
    const conn = await RawKafka.connect(broker.kafkaPort);
    conn.write(BAD_FRAMES[i % BAD_FRAMES.length]![1]());
    assert.ok(await conn.closesWithin(CLOSE_WITHIN_MS), `bad connection ${i} closed`);
  }
  await assertHealthy();
});
