/**
 * Probes of the every-version test for the ACL APIs (DescribeAcls, CreateAcls, DeleteAcls). The test
 * broker runs without security.authorization, so each is answered SECURITY_DISABLED, as a Kafka broker
 * without an authorizer answers (expected-errors.ts); the served paths are exercised at every version
 * by test/security/acls.test.ts on a broker with authorization.
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
