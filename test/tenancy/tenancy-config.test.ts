// Goal: the multi-tenancy settings are checked before a broker starts: a default tenant that is not a
// tenant name and malformed mapping rules are reported at the key and source that set them; the
// defaults pass. With multi-tenancy, the HTTP admin API's changes are the super users' alone.
// Method: loadConfig from environment variables, then the CLI's securityProblems (what `streambus
// broker` and `config validate` run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.ts';
import { securityProblems } from '../../src/cli/security-checks.ts';
import { clusterChangeCheck } from '../../src/app/build-tenancy.ts';

test('multiTenancy.defaultTenant and principalMappingRules are checked; the defaults pass', () => {
  assert.deepEqual(securityProblems(loadConfig({ env: { STREAMBUS_MULTI_TENANCY_ENABLED: 'true' } }), { files: false }), []);
  const ok = loadConfig({ env: { STREAMBUS_MULTI_TENANCY_DEFAULT_TENANT: 'shared_1', STREAMBUS_MULTI_TENANCY_PRINCIPAL_MAPPING_RULES: 'RULE:^([^.]+)\\..*$/$1/,DEFAULT' } });
  assert.deepEqual(securityProblems(ok, { files: false }), []);
  const bad = loadConfig({ env: { STREAMBUS_MULTI_TENANCY_DEFAULT_TENANT: 'acme.eu', STREAMBUS_MULTI_TENANCY_PRINCIPAL_MAPPING_RULES: 'RULE:^(.*$/$1/' } });
  const problems = new Map(securityProblems(bad, { files: false }).map((p) => [p.key, p.message]));
  assert.deepEqual([...problems.keys()].sort(), ['multiTenancy.defaultTenant', 'multiTenancy.principalMappingRules']);
  assert.match(problems.get('multiTenancy.defaultTenant')!, /^environment STREAMBUS_MULTI_TENANCY_DEFAULT_TENANT: multiTenancy\.defaultTenant: expected a tenant name \(1 to 64 letters, digits, _ or -\) or "", got "acme.eu"/);
  assert.match(problems.get('multiTenancy.principalMappingRules')!, /multiTenancy\.principalMappingRules: .*is not a regular expression/);
  const certificateField = () => loadConfig({ env: { STREAMBUS_MULTI_TENANCY_CERTIFICATE_FIELD: 'L' } });
  assert.throws(certificateField, /multiTenancy\.certificateField/);
});

test("with multi-tenancy only super users may change the cluster over the HTTP admin API", () => {
  const on = loadConfig({ env: { STREAMBUS_MULTI_TENANCY_ENABLED: 'true', STREAMBUS_SECURITY_AUTHORIZATION_SUPER_USERS: 'User:admin;User:ops' } });
  const check = clusterChangeCheck(on, null)!;
  assert.equal(check('User:admin', '127.0.0.1'), true);
  assert.equal(check('User:ops', '127.0.0.1'), true);
  assert.equal(check('User:acme-app', '127.0.0.1'), false, "a tenant's principal");
  assert.equal(clusterChangeCheck(loadConfig({ env: {} }), null), undefined, 'without tenancy or an authorizer: any authenticated principal, as before');
});
