// Goal: the multi-tenancy settings are checked before a broker starts: a default tenant that is not a
// tenant name and malformed mapping rules are reported at the key and source that set them; the
// defaults pass.
// Method: loadConfig from environment variables, then the CLI's securityProblems (what `streambus
// broker` and `config validate` run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.ts';
import { securityProblems } from '../../src/cli/security-checks.ts';

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
