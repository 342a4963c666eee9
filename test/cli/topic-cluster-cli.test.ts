// Goal: the topic and cluster commands work end to end through the real binary: create (with configs,
// --if-not-exists), list (tables and --json, internal topics hidden by default), describe (partitions,
// offsets, configs), alter-config, add-partitions, delete (--if-exists), cluster status with the HTTP
// readiness check; and failures exit 1 with a clear message (unknown topic, duplicate, unreachable
// broker) while usage mistakes exit 2. Method: one broker process; each step spawns `node bin/streambus`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.ts';
import { freePort } from '../helpers/ports.ts';
import { runCli } from './run-cli.ts';

let broker: BrokerProcess;
let b: string[];

before(async () => {
  broker = await startBroker();
  b = ['-b', `127.0.0.1:${broker.kafkaPort}`];
});

after(async () => {
  await broker?.stop();
});

test('topic lifecycle: create, duplicate, list, describe, alter-config, add-partitions, delete', async () => {
  const created = await runCli(['topic', 'create', 'orders', '--partitions', '3', '--config', 'retention.ms=3600000', ...b]);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.out, /^created topic orders \(3 partitions, replication factor 1\)\n$/);

  const duplicate = await runCli(['topic', 'create', 'orders', ...b]);
  assert.equal(duplicate.code, 1);
  assert.match(duplicate.stderr, /TOPIC_ALREADY_EXISTS/);
  assert.equal(duplicate.out, '');
  const tolerated = await runCli(['topic', 'create', 'orders', '--if-not-exists', '--json', ...b]);
  assert.equal(tolerated.code, 0, tolerated.stderr);
  assert.deepEqual(JSON.parse(tolerated.out), { name: 'orders', created: false });

  const [listed, listedAll, table] = await Promise.all([
    runCli(['topic', 'list', '--json', ...b]),
    runCli(['topic', 'list', '--json', '--include-internal', ...b]),
    runCli(['topic', 'list', ...b]),
  ]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.out).map((t: { name: string; partitions: number }) => [t.name, t.partitions]), [['orders', 3]]);
  assert.ok(JSON.parse(listedAll.out).some((t: { name: string; internal: boolean }) => t.name === '__consumer_offsets' && t.internal));
  assert.match(table.out, /^TOPIC\s+PARTITIONS\s+INTERNAL\norders\s+3\s+no\n$/);

  const altered = await runCli(['topic', 'alter-config', 'orders', '--set', 'retention.ms=60000', '--set', 'cleanup.policy=compact', ...b]);
  assert.equal(altered.code, 0, altered.stderr);
  const grown = await runCli(['topic', 'add-partitions', 'orders', '--count', '4', ...b]);
  assert.equal(grown.code, 0, grown.stderr);

  const described = await runCli(['topic', 'describe', 'orders', '--json', ...b]);
  assert.equal(described.code, 0, described.stderr);
  const d = JSON.parse(described.out);
  assert.equal(d.name, 'orders');
  assert.deepEqual(d.partitions.map((p: { partition: number; leader: number; logStartOffset: number; highWatermark: number }) => [p.partition, p.logStartOffset, p.highWatermark]), [
    [0, 0, 0],
    [1, 0, 0],
    [2, 0, 0],
    [3, 0, 0],
  ]);
  const configs = new Map(d.configs.map((c: { name: string; value: string; source: string }) => [c.name, c]));
  assert.deepEqual(configs.get('retention.ms'), { ...(configs.get('retention.ms') as object), value: '60000', source: 'DYNAMIC_TOPIC_CONFIG' });
  assert.equal((configs.get('cleanup.policy') as { value: string }).value, 'compact');
  const human = await runCli(['topic', 'describe', 'orders', ...b]);
  assert.match(human.out, /^Topic orders .*partitions 4/);
  assert.match(human.out, /PARTITION\s+LEADER\s+EPOCH\s+REPLICAS\s+ISR\s+START-OFFSET\s+END-OFFSET/);
  assert.match(human.out, /retention\.ms\s+60000\s+DYNAMIC_TOPIC_CONFIG/);

  const unset = await runCli(['topic', 'alter-config', 'orders', '--delete', 'cleanup.policy', '--json', ...b]);
  assert.equal(unset.code, 0, unset.stderr);

  const deleted = await runCli(['topic', 'delete', 'orders', ...b]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(deleted.out, 'deleted topic orders\n');
  const [gone, again, quiet] = await Promise.all([
    runCli(['topic', 'describe', 'orders', ...b]),
    runCli(['topic', 'delete', 'orders', ...b]),
    runCli(['topic', 'delete', 'orders', '--if-exists', ...b]),
  ]);
  assert.equal(gone.code, 1);
  assert.equal(gone.stderr, 'streambus: topic orders does not exist\n');
  assert.equal(again.code, 1);
  assert.equal(again.stderr, 'streambus: topic orders does not exist\n');
  assert.equal(quiet.code, 0, quiet.stderr);
});

test('usage mistakes exit 2; an unreachable broker exits 1 naming the address', async () => {
  const closedPort = await freePort();
  const [badNumber, unknownFlag, noName, badPair, noOps, unreachable] = await Promise.all([
    runCli(['topic', 'create', 'x', '--partitions', 'many', ...b]),
    runCli(['topic', 'list', '--bogus-flag', ...b]),
    runCli(['topic', 'describe', ...b]),
    runCli(['topic', 'create', 'x', '--config', 'novalue', ...b]),
    runCli(['topic', 'alter-config', 'x', ...b]),
    runCli(['topic', 'list', '-b', `127.0.0.1:${closedPort}`, '--request-timeout-ms', '2000']),
  ]);
  for (const r of [badNumber, unknownFlag, noName, badPair, noOps]) assert.equal(r.code, 2, r.stderr);
  assert.match(badNumber.stderr, /--partitions must be a positive integer/);
  assert.match(unknownFlag.stderr, /bogus-flag/);
  assert.match(badPair.stderr, /--config expects key=value, got "novalue"/);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, new RegExp(`^streambus: cannot connect to 127\\.0\\.0\\.1:${closedPort}: .*ECONNREFUSED`));
});

test('cluster status: brokers, controller, counts, and readiness over HTTP', async () => {
  const [json, human] = await Promise.all([
    runCli(['cluster', 'status', '--json', '--http', `127.0.0.1:${broker.httpPort}`, ...b]),
    runCli(['cluster', 'status', '--http', `http://127.0.0.1:${broker.httpPort}`, ...b]),
  ]);
  assert.equal(json.code, 0, json.stderr);
  const s = JSON.parse(json.out);
  assert.equal(s.brokers.length, 1);
  assert.equal(s.brokers[0].port, broker.kafkaPort);
  assert.equal(s.controllerId, s.brokers[0].nodeId);
  assert.equal(typeof s.clusterId, 'string');
  assert.equal(s.health.ready, true);
  assert.equal(s.health.status, 200);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.out, /health\s+ready/);
  // A lone broker's state comes from the admin API too: it is active.
  assert.match(human.out, /BROKER\s+HOST\s+PORT\s+RACK\s+STATE\s+ROLE\s+LEADS\s+REPLICAS\s+UNDER-REPLICATED\n\d+\s+127\.0\.0\.1\s+\d+\s+-\s+active\s+controller\s+\d+\s+\d+\s+0\n/);
  assert.equal(s.brokers[0].state, 'active');
  // One broker leads and holds every partition, none under-replicated.
  assert.equal(s.brokers[0].leads, s.partitions);
  assert.equal(s.brokers[0].replicas, s.partitions);
  assert.equal(s.underReplicated, 0);
  assert.equal(s.leaderless, 0);
  const notReady = await runCli(['cluster', 'status', '--http', `127.0.0.1:${await freePort()}`, ...b]);
  assert.equal(notReady.code, 1);
  assert.match(notReady.stderr, /broker is not ready/);
});
