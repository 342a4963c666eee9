// Goal: a tenant's limits come from its own tenant quota entity, else the default tenant entity, else
// the configured defaults, and follow a change of the quota records at once; connections are counted
// per tenant and refused past maxConnections with the reason, freed on release; tenant quota changes
// are validated (entity alone, known keys, whole numbers for counts, valid tenant names); and a
// tenant's bandwidth bucket throttles like a client quota without turning client quotas on.
// Method: TenantRegistry and ClientQuotaEnforcer over a quota list the test replaces, explicit times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyQuotaChange, quotaChangeProblem, type ClientQuotaRecord } from '../../src/metadata/client-quotas.ts';
import { TenantRegistry } from '../../src/tenancy/tenant-registry.ts';
import { ClientQuotaEnforcer } from '../../src/tenancy/client-quota-enforcer.ts';

const DEFAULTS = { maxTopics: 100, maxConnections: 3, maxBandwidthMBps: 100 };
const tenant = (name: string | null) => [{ type: 'tenant' as const, name }];

test('limits: own entity, then the default tenant entity, then the configuration; changes apply at once', () => {
  let records: ClientQuotaRecord[] = [];
  const registry = new TenantRegistry(() => records, DEFAULTS);
  assert.deepEqual(registry.limits('acme'), { maxTopics: 100, maxConnections: 3, maxBandwidthBytesPerSecond: 100e6 });
  records = applyQuotaChange(records, { entity: tenant(null), ops: [{ key: 'max_topics', value: 10 }] });
  records = applyQuotaChange(records, { entity: tenant('acme'), ops: [{ key: 'max_bandwidth_mbps', value: 1.5 }] });
  assert.deepEqual(registry.limits('acme'), { maxTopics: 10, maxConnections: 3, maxBandwidthBytesPerSecond: 1.5e6 });
  assert.deepEqual(registry.limits('globex'), { maxTopics: 10, maxConnections: 3, maxBandwidthBytesPerSecond: 100e6 });
  records = applyQuotaChange(records, { entity: tenant('acme'), ops: [{ key: 'max_topics', value: 2 }] });
  assert.equal(registry.limits('acme').maxTopics, 2, 'own beats the default entity');
  records = applyQuotaChange(records, { entity: tenant('acme'), ops: [{ key: 'max_topics', value: null }, { key: 'max_bandwidth_mbps', value: null }] });
  assert.deepEqual(registry.limits('acme'), { maxTopics: 10, maxConnections: 3, maxBandwidthBytesPerSecond: 100e6 }, 'removed: back to the defaults');
  assert.equal(records.length, 1, 'an emptied tenant entity is gone');
  assert.deepEqual(registry.known(), [], 'known: seen here or with quotas of their own');
});

test('connections are counted per tenant and refused past maxConnections', () => {
  let records: ClientQuotaRecord[] = [];
  const registry = new TenantRegistry(() => records, DEFAULTS);
  for (let i = 0; i < 3; i++) assert.equal(registry.admit('acme'), null);
  assert.match(registry.admit('acme') ?? '', /tenant acme already has 3 connections to this broker, its maxConnections quota \(3\)/);
  assert.equal(registry.admit('globex'), null, 'another tenant is not affected');
  registry.release('acme');
  assert.equal(registry.connectionCount('acme'), 2);
  assert.equal(registry.admit('acme'), null, 'a freed place is taken again');
  records = applyQuotaChange(records, { entity: tenant('acme'), ops: [{ key: 'max_connections', value: 5 }] });
  assert.equal(registry.admit('acme'), null, 'a raised limit applies to the next connection');
  assert.deepEqual(registry.known(), ['acme', 'globex']);
  assert.throws(() => registry.release('nobody'), /never admitted/);
});

test('tenant quota changes are checked', () => {
  const problem = (entity: { type: string; name: string | null }[], key: string, value: number | null) => quotaChangeProblem({ entity: entity as never, ops: [{ key, value }] });
  assert.equal(problem(tenant('acme'), 'max_topics', 20), null);
  assert.equal(problem(tenant(null), 'max_bandwidth_mbps', 0.5), null);
  assert.match(problem(tenant('acme'), 'max_topics', 2.5) ?? '', /whole number/);
  assert.match(problem(tenant('acme'), 'max_connections', 0) ?? '', /positive/);
  assert.match(problem(tenant('acme'), 'producer_byte_rate', 5) ?? '', /unknown tenant quota "producer_byte_rate"/);
  assert.match(problem([{ type: 'user', name: 'a' }], 'max_topics', 5) ?? '', /unknown quota "max_topics"/);
  assert.match(problem([{ type: 'tenant', name: 'acme' }, { type: 'user', name: 'a' }], 'max_topics', 5) ?? '', /a tenant entity has no other parts/);
  assert.match(problem(tenant('acme.eu'), 'max_topics', 5) ?? '', /tenant name "acme.eu" is not valid/);
});

test('a tenant bandwidth bucket throttles like a client quota and does not turn client quotas on', () => {
  const records = applyQuotaChange([], { entity: tenant('acme'), ops: [{ key: 'max_bandwidth_mbps', value: 1 }] });
  const enforcer = new ClientQuotaEnforcer(() => records);
  assert.equal(enforcer.active, false, 'tenant records are not client quotas');
  assert.equal(enforcer.take('acme', 1e6, 1e6, 0), 0, 'a second of burst');
  assert.equal(enforcer.take('acme', 1e6, 500_000, 0), 500, 'half a second over');
  assert.equal(enforcer.owedOn('acme', 1e6, 250), 250, 'paid back as time passes');
  assert.equal(enforcer.owedOn('acme', 1e6, 600), 0);
  assert.equal(enforcer.take('globex', 1e6, 1e6, 0), 0, 'each tenant has its own bucket');
});
