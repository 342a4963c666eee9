/**
 * Probes of the every-version test for the security APIs. The test broker runs without
 * security.authorization, so the ACL APIs (DescribeAcls, CreateAcls, DeleteAcls) are answered
 * SECURITY_DISABLED, as a Kafka broker without an authorizer answers (expected-errors.ts); their served
 * paths are exercised at every version by test/security/acls.test.ts on a broker with authorization.
 * The SCRAM credential APIs work without authorization (as on Kafka without an authorizer).
 */
import assert from 'node:assert/strict';
import { API_KEYS } from '../../../src/protocol/kafka/generated/index.ts';
import type { ProbeContext } from './probe-context.ts';

const TOPIC = 2;
const LITERAL = 3;
const ANY = 1;
const READ = 3;
const ALLOW = 3;

export async function describeAcls(ctx: ProbeContext, version: number): Promise<void> {
  const res = await ctx.exchange(
    API_KEYS.DescribeAcls,
    version,
    { resourceTypeFilter: ANY, resourceNameFilter: null, ...(version >= 1 ? { patternTypeFilter: ANY } : {}), principalFilter: null, hostFilter: null, operation: ANY, permissionType: ANY },
    'describe-acls',
  );
  assert.deepEqual(res.resources, []);
}

export async function createAcls(ctx: ProbeContext, version: number): Promise<void> {
  const creation = { resourceType: TOPIC, resourceName: 'every-version', ...(version >= 1 ? { resourcePatternType: LITERAL } : {}), principal: 'User:probe', host: '*', operation: READ, permissionType: ALLOW };
  const res = await ctx.exchange(API_KEYS.CreateAcls, version, { creations: [creation] }, 'create-acls');
  assert.equal(res.results.length, 1);
}

export async function deleteAcls(ctx: ProbeContext, version: number): Promise<void> {
  const filter = { resourceTypeFilter: TOPIC, resourceNameFilter: 'every-version', ...(version >= 1 ? { patternTypeFilter: LITERAL } : {}), principalFilter: null, hostFilter: null, operation: ANY, permissionType: ANY };
  const res = await ctx.exchange(API_KEYS.DeleteAcls, version, { filters: [filter] }, 'delete-acls');
  assert.equal(res.filterResults.length, 1);
}

/** Stores a credential for a user of its own, then lists it. */
export async function alterUserScramCredentials(ctx: ProbeContext, version: number): Promise<void> {
  const name = `every-version-scram-v${version}`;
  const res = await ctx.exchange(API_KEYS.AlterUserScramCredentials, version, { deletions: [], upsertions: [{ name, mechanism: 1, iterations: 4096, salt: Buffer.alloc(32, 1), saltedPassword: Buffer.alloc(32, 2) }] }, 'alter-scram');
  assert.deepEqual(res.results.map((r) => [r.user, r.errorCode]), [[name, 0]]);
}

export async function describeUserScramCredentials(ctx: ProbeContext, version: number): Promise<void> {
  const name = `every-version-scram-described-v${version}`;
  await ctx.conn.request(API_KEYS.AlterUserScramCredentials, 0, { deletions: [], upsertions: [{ name, mechanism: 2, iterations: 8192, salt: Buffer.alloc(64, 1), saltedPassword: Buffer.alloc(64, 2) }] });
  const res = await ctx.exchange(API_KEYS.DescribeUserScramCredentials, version, { users: [{ name }] }, 'describe-scram');
  assert.deepEqual(res.results.map((r) => [r.user, r.credentialInfos.map((c) => [c.mechanism, c.iterations])]), [[name, [[2, 8192]]]]);
}

/** Sets a quota for a client id of its own, then removes it; the answer names the entity. */
export async function alterClientQuotas(ctx: ProbeContext, version: number): Promise<void> {
  const entity = [{ entityType: 'client-id', entityName: `every-version-quota-v${version}` }];
  const set = await ctx.exchange(API_KEYS.AlterClientQuotas, version, { entries: [{ entity, ops: [{ key: 'producer_byte_rate', value: 1e6, remove: false }] }], validateOnly: false }, 'alter-quotas');
  assert.deepEqual(set.entries.map((e) => [e.errorCode, e.entity.map((p) => p.entityName)]), [[0, [entity[0]!.entityName]]]);
  await ctx.conn.request(API_KEYS.AlterClientQuotas, 0, { entries: [{ entity, ops: [{ key: 'producer_byte_rate', value: 0, remove: true }] }], validateOnly: false });
}

/** Lists the quota of a client id of its own by exact match. */
export async function describeClientQuotas(ctx: ProbeContext, version: number): Promise<void> {
  const name = `every-version-quota-described-v${version}`;
  await ctx.conn.request(API_KEYS.AlterClientQuotas, 0, { entries: [{ entity: [{ entityType: 'client-id', entityName: name }], ops: [{ key: 'consumer_byte_rate', value: 2e6, remove: false }] }], validateOnly: false });
  const res = await ctx.exchange(API_KEYS.DescribeClientQuotas, version, { components: [{ entityType: 'client-id', matchType: 0, match: name }], strict: false }, 'describe-quotas');
  assert.deepEqual(res.entries?.map((e) => [e.entity.map((p) => [p.entityType, p.entityName]), e.values.map((v) => [v.key, v.value])]), [[[['client-id', name]], [['consumer_byte_rate', 2e6]]]]);
}
