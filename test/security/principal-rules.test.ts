// Goal: Kafka's ssl.principal.mapping.rules read as Kafka reads them: rules in order, the first whose
// pattern matches the whole RFC 2253 distinguished name wins, $n groups, L/U case changes, escaped
// slashes, DEFAULT (and no match) giving the CN; malformed lists are refused saying where.
// Method: pure function calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapPrincipal, parsePrincipalRules, rfc2253 } from '../../src/security/principal-rules.ts';
import { loadConfig } from '../../src/config/index.ts';
import { securityProblems } from '../../src/cli/security-checks.ts';

const dn = 'CN=Alice.Smith,OU=ServiceUsers,O=Example,C=US';

test('the first matching rule gives the name, with groups and case changes', () => {
  const rules = parsePrincipalRules('RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, RULE:^CN=(.*?),OU=(.*?),.*$/$1@$2/, DEFAULT');
  assert.equal(mapPrincipal(rules, dn, 'Alice.Smith'), 'alice.smith');
  assert.equal(mapPrincipal(rules, 'CN=bob,OU=ops,O=Example', 'bob'), 'bob@ops');
  assert.equal(mapPrincipal(rules, 'CN=carol', 'carol'), 'carol', 'DEFAULT gives the CN');
  assert.equal(mapPrincipal(parsePrincipalRules('RULE:^CN=([a-z]+).*$/$1/U'), 'CN=dave,O=x', 'dave'), 'DAVE');
});

test('a pattern must match the whole name; no match and no rules give the CN', () => {
  assert.equal(mapPrincipal(parsePrincipalRules('RULE:OU=ServiceUsers/svc/'), dn, 'Alice.Smith'), 'Alice.Smith');
  assert.equal(mapPrincipal(parsePrincipalRules(''), dn, 'Alice.Smith'), 'Alice.Smith');
  assert.deepEqual(parsePrincipalRules('  '), []);
});

test('escaped slashes belong to the pattern or replacement', () => {
  const rules = parsePrincipalRules('RULE:^CN=(.*)\\/(.*)$/$1-$2/');
  assert.equal(mapPrincipal(rules, 'CN=team/app', 'team/app'), 'team-app');
});

test('malformed lists are refused saying where', () => {
  assert.throws(() => parsePrincipalRules('RULE:^CN=(.*)$/$1'), /rule 1: the replacement is not closed by '\/'/);
  assert.throws(() => parsePrincipalRules('DEFAULT, SOMETHING'), /rule 2: expected RULE:pattern\/replacement\/ or DEFAULT/);
  assert.throws(() => parsePrincipalRules('RULE:([/x/'), /rule 1: pattern "\(\[" is not a regular expression/);
  assert.throws(() => parsePrincipalRules('DEFAULTDEFAULT'), /expected a comma/);
});

test('RFC 2253 order reverses the certificate order of the subject', () => {
  assert.equal(rfc2253('C=US\nO=Example\nOU=ServiceUsers\nCN=Alice.Smith'), dn);
});

test('the start-up checks refuse a malformed rule list, naming the key and the rule', () => {
  const env = { STREAMBUS_SECURITY_AUTHENTICATION_MTLS_PRINCIPAL_MAPPING_RULES: 'RULE:^CN=(.*)$/$1' };
  const problems = securityProblems(loadConfig({ env }), { files: false });
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.message, /^environment STREAMBUS_SECURITY_AUTHENTICATION_MTLS_PRINCIPAL_MAPPING_RULES: security\.authentication\.mtls\.principalMappingRules: expected principal mapping rules .*rule 1: the replacement is not closed by '\/'/);
  assert.equal(loadConfig({ env: { STREAMBUS_SECURITY_AUTHENTICATION_MTLS_PRINCIPAL_MAPPING_RULES: 'RULE:^CN=(.*)$/$1/L,DEFAULT' } }).security.authentication.mtls.principalMappingRules, 'RULE:^CN=(.*)$/$1/L,DEFAULT');
});
