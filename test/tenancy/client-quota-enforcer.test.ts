// Goal: client quotas resolve in Kafka's order (user+client-id, user+default client, user, default user
// +client-id, default user+default client, default user, client-id, default client), changes apply and
// remove keys, bad changes are refused with the reason, and the enforcer holds a client to its rate
// over time (a second of burst, then throttle times that add up to the excess), shares an entity's
// quota among its connections and gives each user its own copy of a default quota.
// Method: pure functions and a ClientQuotaEnforcer driven with explicit times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyQuotaChange, matchQuotas, quotaChangeProblem, resolveQuota, type ClientQuotaRecord } from '../../src/metadata/client-quotas.ts';
import { ClientQuotaEnforcer, MAX_THROTTLE_MS } from '../../src/tenancy/client-quota-enforcer.ts';

const u = (name: string | null) => ({ type: 'user' as const, name });
const c = (name: string | null) => ({ type: 'client-id' as const, name });
const set = (records: ClientQuotaRecord[], entity: { type: 'user' | 'client-id'; name: string | null }[], value: number, key = 'producer_byte_rate') => applyQuotaChange(records, { entity, ops: [{ key, value }] });

test("quotas resolve in Kafka's order of precedence", () => {
  let q: ClientQuotaRecord[] = [];
  const order = [[c(null)], [c('app')], [u(null)], [u(null), c(null)], [u(null), c('app')], [u('alice')], [u('alice'), c(null)], [u('alice'), c('app')]];
  for (let i = 0; i < order.length; i++) {
    // Given in reverse order of entity size, each more specific one wins once added.
    q = set(q, [...order[i]!].reverse(), i + 1);
    assert.equal(resolveQuota(q, 'producer_byte_rate', 'alice', 'app')?.value, i + 1, `after ${JSON.stringify(order[i])}`);
  }
  assert.equal(resolveQuota(q, 'producer_byte_rate', 'bob', 'other')?.value, 4, 'bob: default user + default client');
  assert.equal(resolveQuota(q, 'consumer_byte_rate', 'alice', 'app'), null, 'each quota key resolves on its own');
  q = applyQuotaChange(q, { entity: [c('app'), u('alice')], ops: [{ key: 'producer_byte_rate', value: null }] });
  assert.equal(resolveQuota(q, 'producer_byte_rate', 'alice', 'app')?.value, 7, 'removed: the next one applies');
  assert.equal(q.length, 7, 'an entity left without values is gone');
  assert.deepEqual(matchQuotas(q, [{ type: 'user', match: { kind: 'exact', name: 'alice' } }], true).map((r) => r.values.producer_byte_rate), [6]);
  assert.equal(matchQuotas(q, [{ type: 'user', match: { kind: 'any' } }], false).length, 5);
  assert.equal(matchQuotas(q, [{ type: 'client-id', match: { kind: 'default' } }], true).length, 1);
});

test('bad changes are refused with the reason', () => {
  assert.match(quotaChangeProblem({ entity: [], ops: [] })!, /at least one part/);
  assert.match(quotaChangeProblem({ entity: [{ type: 'ip' as never, name: null }], ops: [] })!, /ip entity/);
  assert.match(quotaChangeProblem({ entity: [u('a'), u('b')], ops: [] })!, /twice/);
  assert.match(quotaChangeProblem({ entity: [u('a')], ops: [{ key: 'producer_byte_rate', value: -1 }] })!, /positive/);
  assert.match(quotaChangeProblem({ entity: [u('a')], ops: [{ key: 'controller_mutation_rate', value: 1 }] })!, /not supported/);
  assert.match(quotaChangeProblem({ entity: [u('a')], ops: [{ key: 'bytes', value: 1 }] })!, /unknown quota/);
  assert.equal(quotaChangeProblem({ entity: [c('x'), u('a')], ops: [{ key: 'request_percentage', value: 50 }, { key: 'consumer_byte_rate', value: null }] }), null);
});

test('the enforcer holds a client to its rate: a second of burst, then throttle times that add up to the excess', () => {
  const q = set([], [c('app')], 1_000_000);
  const e = new ClientQuotaEnforcer(() => q);
  let now = 0;
  assert.equal(e.record({ key: 'producer_byte_rate', amount: 900_000 }, 'ANONYMOUS', 'app', now), 0, 'within the burst');
  const t = e.record({ key: 'producer_byte_rate', amount: 600_000 }, 'ANONYMOUS', 'app', now);
  assert.equal(t, 500, '500 KB over at 1 MB/s: half a second');
  // A client sending 100 KB every time it is allowed to, for 20 simulated seconds, gets ~1 MB/s.
  let sent = 0;
  now = t;
  const start = now;
  while (now - start < 20_000) {
    sent += 100_000;
    now += Math.max(1, e.record({ key: 'producer_byte_rate', amount: 100_000 }, 'ANONYMOUS', 'app', now));
  }
  const rate = sent / ((now - start) / 1000);
  assert.ok(Math.abs(rate - 1_000_000) / 1_000_000 < 0.02, `rate ${rate}`);
  assert.equal(e.record({ key: 'producer_byte_rate', amount: 1e12 }, 'ANONYMOUS', 'app', now), MAX_THROTTLE_MS, 'one response is throttled at most the window');
  assert.equal(e.record({ key: 'producer_byte_rate', amount: 1e12 }, 'ANONYMOUS', 'other', now), 0, 'no quota for another client');
});

test("an entity's quota is shared by its connections; a default quota is each user's own", () => {
  const q = set(set([], [u('alice')], 1000), [u(null)], 1000);
  const e = new ClientQuotaEnforcer(() => q);
  assert.equal(e.record({ key: 'producer_byte_rate', amount: 1000 }, 'alice', 'one', 0), 0);
  assert.ok(e.record({ key: 'producer_byte_rate', amount: 500 }, 'alice', 'two', 0) > 0, 'alice\'s second client shares her bucket');
  assert.equal(e.record({ key: 'producer_byte_rate', amount: 1000 }, 'bob', 'x', 0), 0);
  assert.equal(e.record({ key: 'producer_byte_rate', amount: 1000 }, 'carol', 'x', 0), 0, 'carol gets her own default quota');
  assert.ok(e.owed('producer_byte_rate', 'alice', 'one', 0) > 0 && e.owed('producer_byte_rate', 'alice', 'one', 10_000) === 0, 'owed time passes');
});

test('request_percentage counts handler time against a share of one thread; a changed quota applies at once', () => {
  let q = set([], [c('busy')], 10, 'request_percentage');
  const e = new ClientQuotaEnforcer(() => q);
  // 10% of a thread is 100 ms of handler time per second, 100 ms of burst.
  assert.equal(e.record({ key: 'request_percentage', amount: 100 }, 'ANONYMOUS', 'busy', 0), 0);
  assert.equal(e.record({ key: 'request_percentage', amount: 50 }, 'ANONYMOUS', 'busy', 0), 500);
  q = set(q, [c('busy')], 1000, 'request_percentage');
  assert.equal(e.owed('request_percentage', 'ANONYMOUS', 'busy', 0), 5, 'the debt is owed at the new rate');
  q = applyQuotaChange(q, { entity: [c('busy')], ops: [{ key: 'request_percentage', value: null }] });
  assert.equal(e.owed('request_percentage', 'ANONYMOUS', 'busy', 0), 0, 'a removed quota throttles no more');
});

test('idle buckets are dropped, so many client ids do not grow the enforcer without bound', () => {
  const q = set([], [c(null)], 1000);
  const e = new ClientQuotaEnforcer(() => q);
  for (let i = 0; i < 5000; i++) e.record({ key: 'producer_byte_rate', amount: 10 }, 'ANONYMOUS', `client-${i}`, 0);
  assert.equal(e.size, 5000);
  e.sweep(120_000, 60_000);
  assert.equal(e.size, 0);
});
