// Goal: a connection's tenant is found in the documented order (JWT claim, certificate field, principal
// mapping rules, default tenant); super users have none; a name found that is not a valid tenant is
// refused rather than passed over; nothing found without a default is refused with where it looked.
// The namespace filter owns `<tenant>.<name>` only: not the bare tenant, not `<tenant>.` alone, not a
// tenant whose name merely starts the same way.
// Method: resolveTenant and ownsName with hand-made identities and settings (the rules parsed by the
// security layer's parser, as the broker does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownsName, resolveTenant, type TenantSettings } from '../../src/tenancy/tenant-resolver.ts';
import { mapPrincipal, parsePrincipalRules } from '../../src/security/principal-rules.ts';
import { tenantTopicCounts } from '../../src/broker/tenant-access.ts';

function settings(o: Partial<TenantSettings> & { rules?: string } = {}): TenantSettings {
  const rules = parsePrincipalRules(o.rules ?? '');
  return {
    jwtClaim: o.jwtClaim ?? 'tenant',
    certificateField: o.certificateField ?? 'O',
    tenantOfName: (name) => (rules.length === 0 ? '' : mapPrincipal(rules, name, '')),
    defaultTenant: o.defaultTenant ?? '',
    superUsers: o.superUsers ?? new Set(['User:admin']),
  };
}

test('the JWT claim names the tenant, before the certificate and the rules', () => {
  const s = settings({ rules: 'RULE:^([^.]+)\\..*$/$1/', defaultTenant: 'shared' });
  assert.deepEqual(resolveTenant({ principal: 'User:svc.orders', claims: { tenant: 'acme' }, certificateSubject: { O: 'globex' } }, s), { kind: 'tenant', tenant: 'acme', source: 'jwt' });
  assert.deepEqual(resolveTenant({ principal: 'User:svc', claims: { org: 'acme' } }, settings({ jwtClaim: 'org' })), { kind: 'tenant', tenant: 'acme', source: 'jwt' });
  const notString = resolveTenant({ principal: 'User:svc', claims: { tenant: ['acme'] } }, s);
  assert.equal(notString.kind, 'refused');
  assert.match((notString as { reason: string }).reason, /tenant claim is not a string/);
  const badName = resolveTenant({ principal: 'User:svc', claims: { tenant: 'acme.corp' } }, s);
  assert.equal(badName.kind, 'refused', 'a dotted name would break the namespace');
  assert.match((badName as { reason: string }).reason, /token's tenant claim names tenant "acme.corp", which is not a valid tenant name/);
  // A token without the claim falls through to the rules, then the default.
  assert.deepEqual(resolveTenant({ principal: 'User:globex.bob', claims: { sub: 'globex.bob' } }, s), { kind: 'tenant', tenant: 'globex', source: 'principal' });
  assert.deepEqual(resolveTenant({ principal: 'User:bob', claims: {} }, s), { kind: 'tenant', tenant: 'shared', source: 'default' });
  assert.equal(resolveTenant({ principal: 'User:bob', claims: { tenant: 'acme' } }, settings({ jwtClaim: '' })).kind, 'refused', 'jwtClaim empty: tokens name no tenant');
});

test('the certificate field names the tenant; its first value when repeated; none turns it off', () => {
  assert.deepEqual(resolveTenant({ principal: 'User:alice', certificateSubject: { CN: 'alice', O: 'acme', OU: 'payments' } }, settings()), { kind: 'tenant', tenant: 'acme', source: 'certificate' });
  assert.deepEqual(resolveTenant({ principal: 'User:alice', certificateSubject: { CN: 'alice', OU: ['payments', 'eu'] } }, settings({ certificateField: 'OU' })), { kind: 'tenant', tenant: 'payments', source: 'certificate' });
  assert.deepEqual(resolveTenant({ principal: 'User:alice', certificateSubject: { CN: 'alice', O: 'acme' } }, settings({ certificateField: 'none', defaultTenant: 'dflt' })), { kind: 'tenant', tenant: 'dflt', source: 'default' });
  assert.deepEqual(resolveTenant({ principal: 'User:alice', certificateSubject: { CN: 'alice' } }, settings({ defaultTenant: 'dflt' })), { kind: 'tenant', tenant: 'dflt', source: 'default' }, 'no O field: on to the next source');
  assert.equal(resolveTenant({ principal: 'User:alice', certificateSubject: { O: 'Example Corp' } }, settings()).kind, 'refused', 'a space is not allowed in a tenant name');
});

test('SCRAM users: the mapping rules name the tenant; a user no rule matches gets the default or is refused', () => {
  const s = settings({ rules: 'RULE:^alice$/acme/,RULE:^([a-z]+)-svc$/$1/L' });
  assert.deepEqual(resolveTenant({ principal: 'User:alice' }, s), { kind: 'tenant', tenant: 'acme', source: 'principal' });
  assert.deepEqual(resolveTenant({ principal: 'User:billing-svc' }, s), { kind: 'tenant', tenant: 'billing', source: 'principal' });
  const refused = resolveTenant({ principal: 'User:carol' }, s);
  assert.equal(refused.kind, 'refused');
  assert.match((refused as { reason: string }).reason, /no tenant for User:carol \(looked for in: token claim tenant, certificate field O, multiTenancy.principalMappingRules\) and multiTenancy.defaultTenant is empty/);
  assert.deepEqual(resolveTenant({ principal: 'User:ANONYMOUS' }, settings({ defaultTenant: 'public' })), { kind: 'tenant', tenant: 'public', source: 'default' }, 'unauthenticated clients too');
});

test('super users belong to no tenant, whatever their token says', () => {
  assert.deepEqual(resolveTenant({ principal: 'User:admin', claims: { tenant: 'acme' } }, settings()), { kind: 'super-user' });
  assert.equal(resolveTenant({ principal: 'User:admin2', claims: { tenant: 'acme' } }, settings()).kind, 'tenant');
});

test('the namespace filter: <tenant>.<name> only', () => {
  assert.equal(ownsName('acme', 'acme.orders'), true);
  assert.equal(ownsName('acme', 'acme.orders.v2'), true);
  assert.equal(ownsName('acme', 'acme'), false);
  assert.equal(ownsName('acme', 'acme.'), false);
  assert.equal(ownsName('acme', 'acmecorp.orders'), false, 'a longer tenant name is another tenant');
  assert.equal(ownsName('acme', 'acme-eu.orders'), false);
  assert.equal(ownsName('acme', 'globex.acme.orders'), false);
  assert.equal(ownsName('acme', '__consumer_offsets'), false);
  const topics = ['acme.a', 'acme.b', 'acme', 'globex.a', 'acmecorp.a', 'com.example.x', '__consumer_offsets'].map((name) => ({ name }));
  assert.deepEqual([...tenantTopicCounts(topics, ['acme', 'globex', 'idle']).entries()].sort(), [['acme', 2], ['globex', 1]]);
});
