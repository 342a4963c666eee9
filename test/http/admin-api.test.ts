// Goal: every admin API route answers what the CLI's --json prints for the same operation (one
// implementation behind both), and bad requests get clear JSON errors with SB_ERR codes (unknown topic
// or group 404, bad JSON 400, a wrong field 400, a body over the limit 413, a duplicate 409, a wrong
// method 405) while the broker keeps serving.
// Method: one real broker process (no security); each operation once through HTTP and once through
// `node bin/streambus ... --json`, on twin topics and groups where the operation changes something;
// records produced and offsets committed with the project's Kafka client.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { runCli } from '../cli/run-cli.ts';
import { KafkaClient } from '../../src/client/index.ts';
import { adminCall } from './admin-http.ts';

let broker: BrokerProcess;
let client: KafkaClient;
let b: string[];
let http: string[];

before(async () => {
  broker = await startBroker();
  b = ['-b', `127.0.0.1:${broker.kafkaPort}`];
  http = ['--http', `127.0.0.1:${broker.httpPort}`];
  client = new KafkaClient({ bootstrap: `127.0.0.1:${broker.kafkaPort}` });
});

after(async () => {
  client?.close();
  assert.equal(await broker?.stop(), 0);
});

const api = (method: string, path: string, body?: unknown) => adminCall(broker.httpPort, method, path, body === undefined ? {} : { body });

async function cliJson(args: string[]): Promise<any> {
  const run = await runCli([...args, '--json']);
  assert.equal(run.code, 0, `streambus ${args.join(' ')}: ${run.stderr}`);
  return JSON.parse(run.out);
}

/** `value` with its `name` and `topicId` fields replaced, to compare twin topics. */
function twin(value: Record<string, unknown>, name: string): Record<string, unknown> {
  return { ...value, name, ...('topicId' in value ? { topicId: 'id' } : {}) };
}

test('topics: create, list, describe, configs, alter, add partitions and delete answer as the CLI does', async () => {
  // Each pair runs at once: the HTTP request on the api- twin, the CLI on the cli- twin.
  const [made, cliMade] = await Promise.all([
    api('POST', '/api/v1/topics', { name: 'api-orders', partitions: 2, configs: { 'retention.ms': '3600000' } }),
    cliJson(['topic', 'create', 'cli-orders', '--partitions', '2', '--config', 'retention.ms=3600000', ...b]),
  ]);
  assert.equal(made.status, 201, made.text);
  assert.deepEqual(twin(made.json, 'x'), twin(cliMade, 'x'));
  assert.equal(made.json.created, true);
  const [again, cliAgain] = await Promise.all([api('POST', '/api/v1/topics', { name: 'api-orders', ifNotExists: true }), cliJson(['topic', 'create', 'api-orders', '--if-not-exists', ...b])]);
  assert.deepEqual([again.status, again.json], [200, cliAgain]);

  const [listed, cliListed, internal, cliInternal] = await Promise.all([
    api('GET', '/api/v1/topics'),
    cliJson(['topic', 'list', ...b]),
    api('GET', '/api/v1/topics?includeInternal=true'),
    cliJson(['topic', 'list', '--include-internal', ...b]),
  ]);
  assert.deepEqual(listed.json, cliListed);
  assert.deepEqual(listed.json.map((t: { name: string }) => t.name), ['api-orders', 'cli-orders']);
  assert.deepEqual(internal.json, cliInternal);
  assert.ok(internal.json.some((t: { name: string; internal: boolean }) => t.name === '__consumer_offsets' && t.internal));

  await client.produce('api-orders', 1, [{ value: 'a' }, { value: 'b' }]);
  const [described, cliDescribed, configs] = await Promise.all([api('GET', '/api/v1/topics/api-orders'), cliJson(['topic', 'describe', 'api-orders', ...b]), api('GET', '/api/v1/topics/api-orders/configs')]);
  assert.equal(described.status, 200);
  assert.deepEqual(described.json, cliDescribed);
  assert.deepEqual(described.json.partitions.map((p: { highWatermark: number }) => p.highWatermark), [0, 2]);
  assert.deepEqual(configs.json, { name: 'api-orders', configs: cliDescribed.configs });

  const [altered, cliAltered] = await Promise.all([
    api('PATCH', '/api/v1/topics/api-orders/configs', { set: { 'cleanup.policy': 'compact' }, delete: ['retention.ms'] }),
    cliJson(['topic', 'alter-config', 'cli-orders', '--set', 'cleanup.policy=compact', '--delete', 'retention.ms', ...b]),
  ]);
  assert.equal(altered.status, 200, altered.text);
  assert.deepEqual(twin(altered.json, 'x'), twin(cliAltered, 'x'));
  const after = await api('GET', '/api/v1/topics/api-orders/configs');
  const value = (name: string) => after.json.configs.find((c: { name: string }) => c.name === name);
  assert.equal(value('cleanup.policy').value, 'compact');
  assert.notEqual(value('retention.ms').source, 'DYNAMIC_TOPIC_CONFIG');

  const [grown, cliGrown] = await Promise.all([api('POST', '/api/v1/topics/api-orders/partitions', { count: 3 }), cliJson(['topic', 'add-partitions', 'cli-orders', '--count', '3', ...b])]);
  assert.deepEqual([grown.status, twin(grown.json, 'x')], [200, twin(cliGrown, 'x')]);
  assert.equal((await api('GET', '/api/v1/topics/api-orders')).json.partitions.length, 3);

  const [deleted, cliDeleted] = await Promise.all([api('DELETE', '/api/v1/topics/api-orders'), cliJson(['topic', 'delete', 'cli-orders', ...b])]);
  assert.deepEqual([deleted.status, twin(deleted.json, 'x')], [200, twin(cliDeleted, 'x')]);
  const [gone, cliGone] = await Promise.all([api('DELETE', '/api/v1/topics/api-orders?ifExists=true'), cliJson(['topic', 'delete', 'cli-orders', '--if-exists', ...b])]);
  assert.deepEqual([gone.status, twin(gone.json, 'x')], [200, twin(cliGone, 'x')]);
  assert.deepEqual((await api('GET', '/api/v1/topics')).json, []);
});

test('groups: list, describe with lag, reset offsets (dry run and execute) and delete answer as the CLI does', async () => {
  const made = await api('POST', '/api/v1/topics', { name: 'events', partitions: 2 });
  assert.equal(made.status, 201, made.text);
  await client.produce('events', 0, [{ value: '1' }, { value: '2' }, { value: '3' }]);
  await client.produce('events', 1, [{ value: '4' }]);
  // Committed offsets without members: the groups are Empty, as after consumers stopped.
  for (const group of ['billing', 'audit']) {
    await client.offsetCommit(group, [
      { topic: 'events', partition: 0, offset: 1n },
      { topic: 'events', partition: 1, offset: 1n },
    ]);
  }
  const [listed, cliListed] = await Promise.all([api('GET', '/api/v1/groups'), cliJson(['group', 'list', ...b])]);
  assert.deepEqual(listed.json, cliListed);
  assert.deepEqual(listed.json.map((g: { groupId: string }) => g.groupId).sort(), ['audit', 'billing']);

  const [described, cliDescribed] = await Promise.all([api('GET', '/api/v1/groups/billing'), cliJson(['group', 'describe', 'billing', ...b])]);
  assert.equal(described.status, 200, described.text);
  assert.deepEqual(described.json, cliDescribed);
  assert.deepEqual(described.json.offsets.map((o: { partition: number; lag: number }) => [o.partition, o.lag]), [
    [0, 2],
    [1, 0],
  ]);

  const [dry, cliDry] = await Promise.all([api('POST', '/api/v1/groups/billing/offsets/reset', { topic: 'events', to: 'earliest' }), cliJson(['group', 'reset-offsets', 'billing', '--topic', 'events', '--to-earliest', ...b])]);
  assert.equal(dry.status, 200, dry.text);
  assert.deepEqual(dry.json, cliDry);
  assert.equal(dry.json.executed, false);
  const [toOffset, cliToOffset] = await Promise.all([
    api('POST', '/api/v1/groups/billing/offsets/reset', { topic: 'events', partitions: [0], to: 'offset', offset: 2, execute: true }),
    cliJson(['group', 'reset-offsets', 'audit', '--topic', 'events', '--partition', '0', '--to-offset', '2', '--execute', ...b]),
  ]);
  assert.deepEqual({ ...toOffset.json, groupId: 'x' }, { ...cliToOffset, groupId: 'x' });
  assert.deepEqual(toOffset.json.offsets, [{ topic: 'events', partition: 0, currentOffset: 1, newOffset: 2 }]);
  assert.equal((await api('GET', '/api/v1/groups/billing')).json.offsets[0].committedOffset, 2);

  const [deleted, cliDeleted] = await Promise.all([api('DELETE', '/api/v1/groups/billing'), cliJson(['group', 'delete', 'audit', ...b])]);
  assert.deepEqual([deleted.status, { ...deleted.json, groupId: 'x' }], [200, { ...cliDeleted, groupId: 'x' }]);
  const gone = await api('GET', '/api/v1/groups/billing');
  assert.deepEqual([gone.status, gone.json.code, gone.json.error], [404, 'SB_ERR_NOT_FOUND', 'GROUP_ID_NOT_FOUND']);
});

test('cluster and brokers answer as cluster status and broker list/describe do', async () => {
  const [cluster, cliCluster, brokers, cliBrokers, one, cliOne] = await Promise.all([
    api('GET', '/api/v1/cluster'),
    cliJson(['cluster', 'status', ...http, ...b]),
    api('GET', '/api/v1/brokers'),
    cliJson(['broker', 'list', ...http]),
    api('GET', '/api/v1/brokers/1'),
    cliJson(['broker', 'describe', '--id', '1', ...http]),
  ]);
  const { health, ...status } = cliCluster;
  assert.equal(health.ready, true);
  assert.deepEqual(cluster.json, status);
  assert.deepEqual(cluster.json.brokers.map((x: { nodeId: number; state: string; port: number }) => [x.nodeId, x.state, x.port]), [[1, 'active', broker.kafkaPort]]);
  assert.deepEqual(brokers.json, cliBrokers);
  assert.deepEqual(one.json, cliOne);
  assert.deepEqual(brokers.json, [one.json]);
  // A lone broker has nowhere to move its replicas.
  const refused = await api('PUT', '/api/v1/brokers/1/decommission');
  assert.deepEqual([refused.status, refused.json.code], [400, 'SB_ERR_INVALID_REQUEST']);
  const unknown = await api('GET', '/api/v1/brokers/7');
  assert.deepEqual([unknown.status, unknown.json.code, unknown.json.error], [404, 'SB_ERR_NOT_FOUND', 'BROKER_ID_NOT_REGISTERED']);
  assert.equal((await api('GET', '/api/v1/brokers/x1')).status, 400);
});

test('bad requests get JSON errors with SB_ERR codes and the broker keeps serving', async () => {
  const expect = async (reply: Promise<{ status: number; json: any; text: string }>, status: number, code: string, error?: string) => {
    const r = await reply;
    assert.equal(r.status, status, r.text);
    assert.equal(r.json.code, code, r.text);
    if (error !== undefined) assert.equal(r.json.error, error, r.text);
    assert.equal(typeof r.json.message, 'string');
    return r.json;
  };
  const missing = await expect(api('GET', '/api/v1/topics/no-such-topic'), 404, 'SB_ERR_NOT_FOUND', 'UNKNOWN_TOPIC_OR_PARTITION');
  assert.match(missing.message, /no-such-topic does not exist/);
  await expect(api('GET', '/api/v1/topics/no-such-topic/configs'), 404, 'SB_ERR_NOT_FOUND');
  await expect(api('DELETE', '/api/v1/topics/no-such-topic'), 404, 'SB_ERR_NOT_FOUND');
  await expect(api('PATCH', '/api/v1/topics/no-such-topic/configs', { set: { 'retention.ms': '1' } }), 404, 'SB_ERR_NOT_FOUND');
  await expect(api('POST', '/api/v1/groups/nobody/offsets/reset', { topic: 'no-such-topic', to: 'latest' }), 404, 'SB_ERR_NOT_FOUND');
  await expect(api('GET', '/api/v1/groups/nobody'), 404, 'SB_ERR_NOT_FOUND', 'GROUP_ID_NOT_FOUND');

  await expect(api('POST', '/api/v1/topics', '{"name": "half'), 400, 'SB_ERR_INVALID_REQUEST', 'INVALID_JSON');
  await expect(api('POST', '/api/v1/topics', '[1, 2]'), 400, 'SB_ERR_INVALID_REQUEST', 'INVALID_FIELD');
  await expect(api('POST', '/api/v1/topics'), 400, 'SB_ERR_INVALID_REQUEST', 'INVALID_FIELD');
  await expect(api('POST', '/api/v1/topics', { name: 'x', partitions: 'three' }), 400, 'SB_ERR_INVALID_REQUEST', 'INVALID_FIELD');
  await expect(api('POST', '/api/v1/topics', { name: 'x', partition: 3 }), 400, 'SB_ERR_INVALID_REQUEST', 'INVALID_FIELD');
  await expect(api('POST', '/api/v1/topics', { name: 'bad/name' }), 400, 'SB_ERR_INVALID_REQUEST', 'INVALID_TOPIC_EXCEPTION');
  await expect(api('POST', '/api/v1/groups/g/offsets/reset', { topic: 't', to: 'middle' }), 400, 'SB_ERR_INVALID_REQUEST', 'INVALID_FIELD');
  await expect(api('PATCH', '/api/v1/topics/t/configs', {}), 400, 'SB_ERR_INVALID_REQUEST');
  await expect(api('GET', '/api/v1/topics?includeInternal=maybe'), 400, 'SB_ERR_INVALID_REQUEST');
  await expect(api('GET', '/api/v1/topics/%E0%A4%A'), 404, 'SB_ERR_NOT_FOUND', 'NO_SUCH_ROUTE');

  const made = await api('POST', '/api/v1/topics', { name: 'dup', configs: { 'retention.ms': 'soon' } });
  assert.equal(made.status, 400, made.text);
  assert.equal(made.json.code, 'SB_ERR_INVALID_REQUEST');
  assert.equal((await api('POST', '/api/v1/topics', { name: 'dup' })).status, 201);
  await expect(api('POST', '/api/v1/topics', { name: 'dup' }), 409, 'SB_ERR_CONFLICT', 'TOPIC_ALREADY_EXISTS');

  // Bodies over 64 KiB: refused whether the size is declared or the bytes just keep coming.
  const big = JSON.stringify({ name: 'big', configs: { 'x.padding': 'x'.repeat(70 * 1024) } });
  await expect(adminCall(broker.httpPort, 'POST', '/api/v1/topics', { body: big }), 413, 'SB_ERR_INVALID_REQUEST', 'BODY_TOO_LARGE');
  await expect(adminCall(broker.httpPort, 'POST', '/api/v1/topics', { body: big, chunkBytes: 4096 }), 413, 'SB_ERR_INVALID_REQUEST', 'BODY_TOO_LARGE');

  const wrong = await expect(api('PATCH', '/api/v1/topics'), 405, 'SB_ERR_INVALID_REQUEST', 'METHOD_NOT_ALLOWED');
  assert.match(wrong.message, /GET, POST/);
  await expect(api('GET', '/api/v1/nothing/here'), 404, 'SB_ERR_NOT_FOUND', 'NO_SUCH_ROUTE');
  await expect(api('GET', '/api/v1'), 404, 'SB_ERR_NOT_FOUND', 'NO_SUCH_ROUTE');

  assert.equal((await adminCall(broker.httpPort, 'GET', '/health/ready')).status, 200);
  assert.ok((await api('GET', '/api/v1/topics')).json.some((t: { name: string }) => t.name === 'dup'));
  assert.ok(!broker.output().includes('admin request failed'), 'no request failed unforeseen');
});
