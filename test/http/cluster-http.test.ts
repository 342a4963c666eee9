// Goal: on the brokers of a cluster, (1) the admin API answers as the CLI does for the brokers and the
// cluster status, from any broker, with changes going through the controller; a topic made through one
// broker's HTTP port is described alike through the other's (the loopback client reaches partition
// leaders on other brokers); (2) every metric the Grafana dashboard (deploy/grafana/streambus.json)
// queries is one the brokers export, and the dashboard shows the guide's key metrics.
// Method: a two-broker cluster of real processes; the CLI's --json output for the same operations;
// records produced with acks=all so replication metrics have observations; /metrics scraped from both,
// each series listed once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startCluster, type BrokerCluster } from '../helpers/broker-cluster.ts';
import { until } from '../helpers/timeout.ts';
import { runCli } from '../cli/run-cli.ts';
import { KafkaClient } from '../../src/client/index.ts';
import { adminCall } from './admin-http.ts';
import { repeatedSeries } from '../helpers/metric-series.ts';

let cluster: BrokerCluster;

before(async () => {
  cluster = await startCluster(2);
  // Settled: both brokers registered and reachable, as broker 1 sees them.
  await until(async () => {
    const r = await adminCall(cluster.member(1).httpPort, 'GET', '/api/v1/brokers');
    return r.status === 200 && r.json.length === 2 && r.json.every((x: { reachable: boolean }) => x.reachable);
  }, 60_000, 'two reachable brokers');
});

after(async () => {
  await cluster?.stop();
});

const http = (id: number) => ['--http', `127.0.0.1:${cluster.member(id).httpPort}`];

async function api(id: number, method: string, path: string): Promise<any> {
  const reply = await adminCall(cluster.member(id).httpPort, method, path);
  assert.equal(reply.status, 200, `${method} ${path}: ${reply.text}`);
  return reply.json;
}

/** The HTTP answer, once it equals the CLI's for the same operation (asked together, at most three times). */
async function agree(viaHttp: () => Promise<any>, viaCli: () => Promise<any>): Promise<any> {
  for (let attempt = 1; ; attempt++) {
    const [answer, printed] = await Promise.all([viaHttp(), viaCli()]);
    if (attempt === 3) assert.deepEqual(answer, printed);
    else if (JSON.stringify(answer) !== JSON.stringify(printed)) continue;
    return answer;
  }
}

async function cliJson(args: string[]): Promise<any> {
  const run = await runCli([...args, '--json'], { timeoutMs: 60_000 });
  assert.equal(run.code, 0, `streambus ${args.join(' ')}: ${run.stderr}`);
  return JSON.parse(run.out);
}

test('brokers and cluster status answer as the CLI does, from either broker', { timeout: 180_000 }, async () => {
  const made = await adminCall(cluster.member(2).httpPort, 'POST', '/api/v1/topics', { body: { name: 'replicated', partitions: 2, replicationFactor: 2 } });
  assert.equal(made.status, 201, made.text);
  assert.equal(made.json.replicationFactor, 2);
  await until(async () => (await adminCall(cluster.member(1).httpPort, 'GET', '/api/v1/topics/replicated')).json?.partitions?.every((p: { leader: number; isr: number[] }) => p.leader > 0 && p.isr.length === 2) === true, 60_000, 'leaders and full ISRs');

  // Leader counts are each answering broker's own view and move while leadership settles, so each HTTP
  // answer is compared with the CLI asking the same broker, and the pair is asked again (a few times at
  // most) when leadership moved in between.
  const brokers = await agree(() => api(2, 'GET', '/api/v1/brokers'), () => cliJson(['broker', 'list', ...http(2)]));
  assert.deepEqual(brokers.map((x: { id: number; state: string }) => [x.id, x.state]), [
    [1, 'active'],
    [2, 'active'],
  ]);
  await agree(() => api(1, 'GET', '/api/v1/brokers/2'), () => cliJson(['broker', 'describe', '--id', '2', ...http(1)]));
  const status = await agree(
    () => api(1, 'GET', '/api/v1/cluster'),
    async () => {
      const { health, ...rest } = await cliJson(['cluster', 'status', '-b', cluster.bootstrap[1]!, ...http(1)]);
      assert.equal(health.ready, true);
      return rest;
    },
  );
  assert.deepEqual(status.brokers.map((x: { nodeId: number; state: string }) => [x.nodeId, x.state]), [
    [1, 'active'],
    [2, 'active'],
  ]);
  await agree(() => api(2, 'GET', '/api/v1/topics/replicated'), () => cliJson(['topic', 'describe', 'replicated', '-b', cluster.bootstrap[0]!]));

  // Changes go through the controller: recommissioning an active broker is accepted; decommissioning
  // one of two controller voters is refused with the controller's reason, through HTTP as through the CLI.
  const [back, cliBack] = await Promise.all([adminCall(cluster.member(1).httpPort, 'PUT', '/api/v1/brokers/2/recommission'), cliJson(['broker', 'recommission', '--id', '2', ...http(2)])]);
  assert.equal(back.status, 200, back.text);
  assert.deepEqual(back.json, cliBack);
  const refused = await adminCall(cluster.member(2).httpPort, 'PUT', '/api/v1/brokers/1/decommission');
  assert.equal(refused.status, 400, refused.text);
  assert.equal(refused.json.code, 'SB_ERR_INVALID_REQUEST');
  const cliRefused = await runCli(['broker', 'decommission', '--id', '1', '--no-wait', ...http(1)], { timeoutMs: 60_000 });
  assert.equal(cliRefused.code, 1);
  assert.ok(cliRefused.stderr.includes(refused.json.message), `${cliRefused.stderr} / ${refused.json.message}`);
});

/** Metric names (histogram and summary series reduced to their family) used by every query of the dashboard. */
function dashboardMetrics(): { names: Set<string>; exprs: string[] } {
  const dashboard = JSON.parse(readFileSync('deploy/grafana/streambus.json', 'utf8')) as { panels: { type: string; targets?: { expr: string }[] }[]; templating: { list: { definition?: string }[] } };
  const exprs = [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.templating.list.flatMap((v) => (v.definition === undefined ? [] : [v.definition]))];
  // Every selector (`name{` or `name[`) and every label_values() argument names a metric.
  const names = new Set(exprs.flatMap((e) => [...e.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g), ...e.matchAll(/label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/g)].map((m) => m[1]!)));
  return { names, exprs };
}

test('every metric the Grafana dashboard queries is exported by the brokers', { timeout: 120_000 }, async () => {
  const client = new KafkaClient({ bootstrap: cluster.bootstrap.join(',') });
  try {
    const [created] = await client.createTopics([{ name: 'dashboard', partitions: 1, replicationFactor: 2, configs: {} }]);
    assert.equal(created!.error, null);
    await until(async () => (await client.metadata(['dashboard'])).topics[0]?.partitions[0]?.leader! > 0, 30_000, 'a leader');
    await client.produce('dashboard', 0, [{ value: 'a' }, { value: 'b' }], { acks: -1 });
    await client.offsetCommit('dashboard-readers', [{ topic: 'dashboard', partition: 0, offset: 1n }]);
  } finally {
    client.close();
  }
  const scraped = await Promise.all(cluster.members.map(async (m) => (await fetch(`http://127.0.0.1:${m.httpPort}/metrics`)).text()));
  for (const text of scraped) assert.deepEqual(repeatedSeries(text), [], 'every series of a broker once');
  const types = new Map<string, string>();
  for (const text of scraped) for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1]!, m[2]!);
  const exported = (name: string) => {
    if (types.has(name)) return true;
    const family = /^(.*)_(bucket|sum|count)$/.exec(name);
    return family !== null && (types.get(family[1]!) === 'histogram' || (types.get(family[1]!) === 'summary' && family[2] !== 'bucket'));
  };
  const { names, exprs } = dashboardMetrics();
  assert.ok(exprs.length >= 30, `${exprs.length} queries`);
  const missing = [...names].filter((n) => !exported(n));
  assert.deepEqual(missing, [], `the dashboard queries metrics no broker exports: ${missing.join(', ')}`);
  // The deployment guide's key metrics (its monitoring chapter) are all on the dashboard.
  for (const key of [
    'streambus_broker_up',
    'streambus_raft_leader',
    'streambus_raft_term',
    'streambus_messages_total',
    'streambus_message_latency_seconds',
    'streambus_throughput_messages_per_second',
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
    'process_open_fds',
    'streambus_storage_used_bytes',
    'streambus_storage_available_bytes',
  ]) {
    assert.ok(names.has(key), `${key} is not on the dashboard`);
  }
  // Histogram quantiles read the buckets of histograms, not of summaries or gauges.
  for (const e of exprs) for (const m of e.matchAll(/([a-z_]+)_bucket\b/g)) assert.equal(types.get(m[1]!), 'histogram', e);
});
