// Goal: the shipped alert rules are valid YAML and every streambus_* metric they use is exported by a
// running broker. Method: parse deploy/prometheus/alerts.yml, scrape a real broker's /metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { startBroker } from '../helpers/broker-process.ts';

test('alert rules parse and reference only exported metrics', async () => {
  const rules = parse(readFileSync('deploy/prometheus/alerts.yml', 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  const exprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
  assert.ok(exprs.length >= 3);
  const used = new Set(exprs.flatMap((e) => e.match(/streambus_[a-z_]+/g) ?? []));
  const broker = await startBroker();
  try {
    const metrics = await (await fetch(`http://127.0.0.1:${broker.httpPort}/metrics`)).text();
    for (const name of used) assert.match(metrics, new RegExp(`^${name}[{ ]`, 'm'), `${name} is not exported`);
    for (const name of ['streambus_broker_up', 'streambus_messages_total', 'streambus_throughput_messages_per_second', 'streambus_storage_used_bytes', 'streambus_storage_total_bytes', 'streambus_raft_leader', 'streambus_raft_term']) {
      assert.match(metrics, new RegExp(`^${name}[{ ]`, 'm'), `${name} is not exported`);
    }
  } finally {
    assert.equal(await broker.stop(), 0);
  }
});
