// Goal: every KafkaClient method works against a real StreamBus broker: produce and fetch byte for byte
// (keys, null keys and values, headers, every codec, acks 0/1/-1), list offsets (earliest, latest, by
// time), typed errors (unknown topic, offset out of range, duplicate topic), topic admin, configs, the
// cluster description, and consumer groups (two members splitting a topic after a rebalance, commits,
// describe, list, delete). Method: one broker process (startBroker) for the whole file, on free ports.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { isKafkaError, KafkaClient, type ConsumedRecord, type GroupConsumer } from '../../src/client/index.ts';

let broker: BrokerProcess;
let client: KafkaClient;

before(async () => {
  broker = await startBroker({ env: { STREAMBUS_KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' } });
  client = new KafkaClient({ bootstrap: `127.0.0.1:${broker.kafkaPort}`, clientId: 'client-test' });
});

after(async () => {
  client?.close();
  await broker?.stop();
});

const text = (b: Buffer | null) => (b === null ? null : b.toString('latin1'));

test('produce then fetch returns the same bytes: keys, nulls, headers, binary; every codec', async () => {
  await client.createTopics([{ name: 'roundtrip', partitions: 1 }]);
  const binary = Buffer.from([0, 255, 10, 13, 128, 0x80, 0xfe]);
  const records = [
    { key: 'k1', value: 'v1', headers: [{ key: 'h1', value: 'x' }, { key: 'h1', value: null }] },
    { key: null, value: binary },
    { key: binary, value: null },
    { value: '' },
  ];
  let expectedOffset = 0n;
  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    const result = await client.produce('roundtrip', 0, records, { compression, acks: compression === 'gzip' ? 1 : -1 });
    assert.equal(result.baseOffset, expectedOffset, compression);
    expectedOffset += BigInt(records.length);
  }
  const fetched = await fetchAll('roundtrip', 0, 0n);
  assert.equal(fetched.length, records.length * 5);
  fetched.forEach((r, i) => {
    const want = records[i % records.length]!;
    assert.equal(r.offset, BigInt(i));
    assert.equal(text(r.key), want.key === undefined || want.key === null ? null : Buffer.from(want.key).toString('latin1'), `key of ${i}`);
    assert.equal(text(r.value), want.value === null ? null : Buffer.from(want.value).toString('latin1'), `value of ${i}`);
    assert.deepEqual(r.headers.map((h) => [h.key, text(h.value)]), (want.headers ?? []).map((h) => [h.key, h.value]));
    assert.ok(Math.abs(r.timestamp - Date.now()) < 60_000);
  });
  const fromMiddle = await client.fetch('roundtrip', 0, 6n, { maxWaitMs: 0 });
  assert.equal(fromMiddle.records[0]!.offset, 6n);
});

test('acks=0 sends without an answer; the records still arrive', async () => {
  const result = await client.produce('noacks', 0, [{ value: 'a' }, { value: 'b' }], { acks: 0 });
  assert.equal(result.baseOffset, -1n);
  let seen: ConsumedRecord[] = [];
  for (let i = 0; i < 50 && seen.length < 2; i++) seen = (await client.fetch('noacks', 0, 0n, { maxWaitMs: 100 })).records;
  assert.deepEqual(seen.map((r) => text(r.value)), ['a', 'b']);
});

test('list offsets: earliest, latest, and by timestamp', async () => {
  await client.createTopics([{ name: 'times', partitions: 2 }]);
  await client.produce('times', 1, [{ value: 'old', timestamp: 1_000 }]);
  await client.produce('times', 1, [{ value: 'new', timestamp: 2_000 }]);
  assert.deepEqual((await client.listOffsets('times', [0, 1], 'earliest')).map((o) => [o.partition, o.offset]), [[0, 0n], [1, 0n]]);
  assert.deepEqual((await client.listOffsets('times', [0, 1], 'latest')).map((o) => [o.partition, o.offset]), [[0, 0n], [1, 2n]]);
  const [byTime] = await client.listOffsets('times', [1], { timestamp: 1_500 });
  assert.equal(byTime!.offset, 1n);
  const [afterAll] = await client.listOffsets('times', [1], { timestamp: 5_000 });
  assert.equal(afterAll!.offset, -1n);
});

test('typed errors: unknown topic, offset out of range, duplicate topic, invalid name', async () => {
  await assert.rejects(client.fetch('no-such-topic', 0, 0n), (e: unknown) => isKafkaError(e, 'UNKNOWN_TOPIC_OR_PARTITION'));
  await client.produce('short', 0, [{ value: 'x' }]);
  await assert.rejects(client.fetch('short', 0, 1000n, { maxWaitMs: 0 }), (e: unknown) => isKafkaError(e, 'OFFSET_OUT_OF_RANGE'));
  const [dup] = await client.createTopics([{ name: 'short' }]);
  assert.equal(dup!.error?.kafkaName, 'TOPIC_ALREADY_EXISTS');
  const [bad] = await client.createTopics([{ name: 'bad/name' }]);
  assert.equal(bad!.error?.kafkaName, 'INVALID_TOPIC_EXCEPTION');
});

test('topic admin: create with configs, add partitions, delete', async () => {
  const [created] = await client.createTopics([{ name: 'admin-t', partitions: 2, configs: { 'retention.ms': '3600000' } }]);
  assert.equal(created!.error, null);
  assert.equal(created!.partitions, 2);
  assert.equal((await client.metadata(['admin-t'])).topics[0]!.partitions.length, 2);
  const [grown] = await client.createPartitions([{ topic: 'admin-t', count: 5 }]);
  assert.equal(grown!.error, null);
  assert.equal((await client.topic('admin-t')).partitions.length, 5);
  const [shrink] = await client.createPartitions([{ topic: 'admin-t', count: 3 }]);
  assert.equal(shrink!.error?.kafkaName, 'INVALID_PARTITIONS');
  const deleted = await client.deleteTopics(['admin-t', 'never-existed']);
  assert.equal(deleted[0]!.error, null);
  assert.equal(deleted[1]!.error?.kafkaName, 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.equal((await client.metadata(['admin-t'])).topics[0]!.error?.kafkaName, 'UNKNOWN_TOPIC_OR_PARTITION');
});

test('configs: describe, incremental set and delete', async () => {
  await client.createTopics([{ name: 'conf-t', configs: { 'cleanup.policy': 'compact' } }]);
  const describe = async () => {
    const [d] = await client.describeConfigs([{ type: 'topic', name: 'conf-t' }]);
    assert.equal(d!.error, null);
    return new Map(d!.entries.map((e) => [e.name, e]));
  };
  let entries = await describe();
  assert.equal(entries.get('cleanup.policy')!.value, 'compact');
  assert.equal(entries.get('cleanup.policy')!.source, 'DYNAMIC_TOPIC_CONFIG');
  assert.notEqual(entries.get('retention.ms')!.source, 'DYNAMIC_TOPIC_CONFIG');
  assert.equal(await client.alterConfigs('topic', 'conf-t', [{ op: 'set', name: 'retention.ms', value: '60000' }, { op: 'delete', name: 'cleanup.policy' }]), null);
  entries = await describe();
  assert.equal(entries.get('retention.ms')!.value, '60000');
  assert.equal(entries.get('retention.ms')!.source, 'DYNAMIC_TOPIC_CONFIG');
  assert.notEqual(entries.get('cleanup.policy')!.source, 'DYNAMIC_TOPIC_CONFIG');
  const missing = await client.alterConfigs('topic', 'no-such-topic', [{ op: 'set', name: 'retention.ms', value: '1' }]);
  assert.equal(missing?.kafkaName, 'UNKNOWN_TOPIC_OR_PARTITION');
});

test('describe cluster: this broker, as controller', async () => {
  const cluster = await client.describeCluster();
  assert.equal(cluster.brokers.length, 1);
  assert.equal(cluster.brokers[0]!.port, broker.kafkaPort);
  assert.equal(cluster.controllerId, cluster.brokers[0]!.nodeId);
  assert.equal(cluster.clusterId, (await client.metadata([])).clusterId);
});

/**
 * Runs one poll loop per member, concurrently (as separate consumer processes would), until `done`
 * holds or the bounds run out; returns what each member received. Members must poll independently: a
 * member blocked in JoinGroup waits for the others to rejoin, which they do from their own poll.
 */
async function pollAll(members: GroupConsumer[], done: (got: ConsumedRecord[][]) => boolean): Promise<ConsumedRecord[][]> {
  const got: ConsumedRecord[][] = members.map(() => []);
  const deadline = Date.now() + 20_000;
  await Promise.all(
    members.map(async (m, i) => {
      for (let round = 0; round < 400 && !done(got) && Date.now() < deadline; round++) {
        got[i]!.push(...(await m.poll(undefined, 50)));
        await m.commit();
      }
    }),
  );
  return got;
}

/** Reads a partition from `from` up to its high watermark (a broker may return fewer batches per fetch). */
async function fetchAll(topic: string, partition: number, from: bigint): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  let offset = from;
  for (let i = 0; i < 100; i++) {
    const f = await client.fetch(topic, partition, offset, { maxWaitMs: 0 });
    out.push(...f.records);
    offset = f.nextOffset;
    if (offset >= f.highWatermark) break;
  }
  return out;
}

test('consumer group: two range members split four partitions after a rebalance; commits, describe, list, delete', async () => {
  await client.createTopics([{ name: 'grp-t', partitions: 4 }]);
  for (let p = 0; p < 4; p++) await client.produce('grp-t', p, [{ value: `${p}-a` }, { value: `${p}-b` }]);
  const options = { groupId: 'grp', topics: ['grp-t'], heartbeatIntervalMs: 100, sessionTimeoutMs: 6_000, rebalanceTimeoutMs: 10_000 };
  const first = client.groupConsumer(options);
  const alone = await pollAll([first], (got) => got[0]!.length >= 8);
  assert.deepEqual(first.assignment, [{ topic: 'grp-t', partitions: [0, 1, 2, 3] }]);
  assert.equal(alone[0]!.length, 8);

  const second = client.groupConsumer(options);
  for (let p = 0; p < 4; p++) await client.produce('grp-t', p, [{ value: `${p}-c` }]);
  const split = await pollAll([first, second], () => second.assignment.length > 0 && first.assignment[0]?.partitions.length === 2 && first.atEnd() && second.atEnd());
  assert.deepEqual([...first.assignment[0]!.partitions, ...second.assignment[0]!.partitions].sort(), [0, 1, 2, 3]);
  assert.equal(first.assignment[0]!.partitions.length, 2);
  assert.equal(first.generation, second.generation);
  const values = split.flat().map((r) => text(r.value)).sort();
  assert.deepEqual(values, ['0-c', '1-c', '2-c', '3-c'], 'each new message exactly once, none of the committed ones again');

  const [described] = await client.describeGroups(['grp']);
  assert.equal(described!.state, 'Stable');
  assert.equal(described!.protocol, 'range');
  assert.deepEqual(described!.members.map((m) => m.memberId).sort(), [first.member, second.member].sort());
  assert.ok(described!.members.every((m) => m.assignment!.length === 1 && m.subscribedTopics!.includes('grp-t')));
  assert.ok((await client.listGroups()).some((g) => g.groupId === 'grp' && g.protocolType === 'consumer'));
  const committed = await client.offsetFetch('grp', null);
  assert.deepEqual(committed.map((c) => [c.partition, c.offset]), [[0, 3n], [1, 3n], [2, 3n], [3, 3n]]);

  const [busy] = await client.deleteGroups(['grp']);
  assert.equal(busy!.error?.kafkaName, 'NON_EMPTY_GROUP');
  await first.close();
  await second.close();
  assert.equal((await client.describeGroups(['grp']))[0]!.state, 'Empty');
  // A simple commit (generation -1) is accepted now that the group is empty, as reset tools need.
  await client.offsetCommit('grp', [{ topic: 'grp-t', partition: 0, offset: 1n }]);
  assert.equal((await client.offsetFetch('grp', [{ topic: 'grp-t', partitions: [0] }]))[0]!.offset, 1n);
  const [gone] = await client.deleteGroups(['grp']);
  assert.equal(gone!.error, null);
  assert.equal((await client.describeGroups(['grp']))[0]!.state, 'Dead');
  assert.deepEqual(await client.offsetFetch('grp', null), []);
});
