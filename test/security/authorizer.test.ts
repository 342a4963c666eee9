// Goal: the authorizer decides as Kafka's: super users pass; DENY wins over ALLOW; ALLOW of the
// operation or ALL grants it, and READ/WRITE/DELETE/ALTER imply DESCRIBE, ALTER_CONFIGS implies
// DESCRIBE_CONFIGS (DENY implies nothing); literal, literal '*' and prefixed patterns; principal
// `User:*`; hosts exact or '*'; a resource no entry names follows allowEveryoneIfNoAclFound;
// "WRITE on any topic" for idempotent producers; entries created in metadata are seen at once;
// refusals are logged. Also the metadata checks of entries and filters, and the superUsers list.
// Indexed lookups decide exactly as a scan of every entry would.
// Method: pure calls on an Authorizer over a ClusterState, with a recording log; fast-check against a
// reference that applies the rules entry by entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Authorizer, parseSuperUsers } from '../../src/security/authorizer.ts';
import { ClusterState } from '../../src/metadata/cluster-state.ts';
import {
  aclBindingProblem,
  aclFilterProblem,
  AclOperation as Op,
  AclPermission,
  filterMatches,
  PatternType,
  ResourceType,
  type AclBinding,
  type AclFilter,
} from '../../src/metadata/acls.ts';

const alice = { principal: 'User:alice', host: '10.0.0.1' };
const bob = { principal: 'User:bob', host: '10.0.0.2' };

function acl(partial: Partial<AclBinding>): AclBinding {
  return { resourceType: ResourceType.TOPIC, resourceName: 'orders', patternType: PatternType.LITERAL, principal: 'User:alice', host: '*', operation: Op.READ, permission: AclPermission.ALLOW, ...partial };
}

function setup(bindings: AclBinding[], options: { superUsers?: string[]; allowEveryoneIfNoAclFound?: boolean } = {}) {
  const state = new ClusterState('cluster-a', 1);
  if (bindings.length > 0) assert.equal(state.apply({ type: 'create-acls', bindings }).error, null);
  const lines: object[] = [];
  const authorizer = new Authorizer(() => state.acls(), { superUsers: options.superUsers ?? [], allowEveryoneIfNoAclFound: options.allowEveryoneIfNoAclFound ?? false }, { warn: (fields) => lines.push(fields) });
  return { state, authorizer, lines };
}

test('no entries: denied by default, allowed with allowEveryoneIfNoAclFound; super users always pass', () => {
  assert.equal(setup([]).authorizer.authorize(alice, Op.READ, ResourceType.TOPIC, 'orders'), false);
  assert.equal(setup([], { allowEveryoneIfNoAclFound: true }).authorizer.authorize(alice, Op.READ, ResourceType.TOPIC, 'orders'), true);
  const { authorizer } = setup([acl({ permission: AclPermission.DENY, operation: Op.ALL, principal: 'User:*' })], { superUsers: ['User:root'] });
  assert.equal(authorizer.authorize({ principal: 'User:root', host: '1.2.3.4' }, Op.DELETE, ResourceType.TOPIC, 'orders'), true);
  assert.equal(authorizer.isSuperUser('User:root'), true);
});

test('an entry on the resource for someone else means no for everyone else, even with allowEveryoneIfNoAclFound', () => {
  const { authorizer } = setup([acl({})], { allowEveryoneIfNoAclFound: true });
  assert.equal(authorizer.authorize(alice, Op.READ, ResourceType.TOPIC, 'orders'), true);
  assert.equal(authorizer.authorize(bob, Op.READ, ResourceType.TOPIC, 'orders'), false);
  assert.equal(authorizer.authorize(bob, Op.READ, ResourceType.TOPIC, 'payments'), true, 'no entry names payments');
});

test('DENY wins; ALL grants everything; implied DESCRIBE and DESCRIBE_CONFIGS, but a DENY implies nothing', () => {
  const { authorizer } = setup([
    acl({ operation: Op.ALL }),
    acl({ operation: Op.WRITE, permission: AclPermission.DENY }),
    acl({ principal: 'User:bob', operation: Op.WRITE }),
    acl({ principal: 'User:bob', operation: Op.ALTER_CONFIGS }),
    acl({ principal: 'User:bob', operation: Op.READ, permission: AclPermission.DENY }),
  ]);
  assert.equal(authorizer.authorize(alice, Op.READ, ResourceType.TOPIC, 'orders'), true);
  assert.equal(authorizer.authorize(alice, Op.WRITE, ResourceType.TOPIC, 'orders'), false);
  assert.equal(authorizer.authorize(bob, Op.DESCRIBE, ResourceType.TOPIC, 'orders'), true, 'WRITE implies DESCRIBE');
  assert.equal(authorizer.authorize(bob, Op.DESCRIBE_CONFIGS, ResourceType.TOPIC, 'orders'), true, 'ALTER_CONFIGS implies DESCRIBE_CONFIGS');
  assert.equal(authorizer.authorize(bob, Op.READ, ResourceType.TOPIC, 'orders'), false);
  assert.equal(authorizer.authorize(bob, Op.DELETE, ResourceType.TOPIC, 'orders'), false);
});

test('patterns: literal, literal *, prefixed; principal User:*; hosts', () => {
  const { authorizer } = setup([
    acl({ resourceName: 'logs.', patternType: PatternType.PREFIXED }),
    acl({ resourceName: '*', principal: 'User:*', operation: Op.DESCRIBE }),
    acl({ resourceType: ResourceType.GROUP, resourceName: 'app', principal: 'User:bob', host: '10.0.0.2' }),
  ]);
  assert.equal(authorizer.authorize(alice, Op.READ, ResourceType.TOPIC, 'logs.app'), true);
  assert.equal(authorizer.authorize(alice, Op.READ, ResourceType.TOPIC, 'logsapp'), false);
  assert.equal(authorizer.authorize(bob, Op.DESCRIBE, ResourceType.TOPIC, 'anything'), true, 'User:* on literal *');
  assert.equal(authorizer.authorize(bob, Op.READ, ResourceType.GROUP, 'app'), true);
  assert.equal(authorizer.authorize({ ...bob, host: '10.0.0.3' }, Op.READ, ResourceType.GROUP, 'app'), false, 'another host');
  assert.equal(authorizer.authorize(bob, Op.READ, ResourceType.TOPIC, 'app'), false, 'resource types do not mix');
});

test('WRITE on any topic: an ALLOW not covered by a DENY of the same principal', () => {
  assert.equal(setup([acl({ operation: Op.WRITE })]).authorizer.allowsAny(alice, Op.WRITE, ResourceType.TOPIC), true);
  assert.equal(setup([acl({ operation: Op.READ })]).authorizer.allowsAny(alice, Op.WRITE, ResourceType.TOPIC), false);
  assert.equal(
    setup([acl({ operation: Op.WRITE, resourceName: 'a.b' }), acl({ operation: Op.WRITE, resourceName: 'a.', patternType: PatternType.PREFIXED, permission: AclPermission.DENY })]).authorizer.allowsAny(alice, Op.WRITE, ResourceType.TOPIC),
    false,
  );
  assert.equal(setup([acl({ operation: Op.WRITE, principal: 'User:*' })]).authorizer.allowsAny(bob, Op.WRITE, ResourceType.TOPIC), true);
});

test('changes in metadata are seen at once; refusals are logged with who, what and where', () => {
  const { state, authorizer, lines } = setup([]);
  assert.equal(authorizer.authorize(alice, Op.READ, ResourceType.TOPIC, 'orders'), false);
  assert.equal(state.apply({ type: 'create-acls', bindings: [acl({})] }).error, null);
  assert.equal(authorizer.authorize(alice, Op.READ, ResourceType.TOPIC, 'orders'), true);
  assert.equal(state.apply({ type: 'delete-acls', bindings: [acl({})] }).error, null);
  assert.equal(authorizer.authorize(alice, Op.READ, ResourceType.TOPIC, 'orders'), false);
  assert.deepEqual(lines[0], { principal: 'User:alice', host: '10.0.0.1', operation: 'READ', resource: 'TOPIC:orders' });
  assert.equal(authorizer.allows(alice, Op.READ, ResourceType.TOPIC, 'x'), false);
  assert.equal(lines.length, 2, 'allows() does not log');
});

test('stored entries are checked; duplicates are kept once; snapshots keep them', () => {
  assert.match(aclBindingProblem(acl({ patternType: PatternType.MATCH }))!, /pattern type MATCH/);
  assert.match(aclBindingProblem(acl({ operation: Op.ANY }))!, /operation ANY/);
  assert.match(aclBindingProblem(acl({ resourceType: ResourceType.CLUSTER, resourceName: 'x' }))!, /kafka-cluster/);
  assert.match(aclBindingProblem(acl({ principal: 'alice' }))!, /<type>:<name>/);
  assert.match(aclBindingProblem(acl({ host: 'example.com' }))!, /IP address/);
  assert.match(aclBindingProblem(acl({ resourceName: '*', patternType: PatternType.PREFIXED }))!, /PREFIXED/);
  assert.equal(aclBindingProblem(acl({ host: '::1' })), null);
  const state = new ClusterState('c', 1);
  assert.equal(state.apply({ type: 'create-acls', bindings: [acl({ principal: 'nobody' })] }).error, 'INVALID_REQUEST');
  state.apply({ type: 'create-acls', bindings: [acl({}), acl({})] });
  state.apply({ type: 'create-acls', bindings: [acl({})] });
  assert.equal(state.acls().length, 1);
  const restored = ClusterState.restore(JSON.parse(JSON.stringify(state.snapshot())), 1);
  assert.deepEqual(restored.acls(), state.acls());
  assert.equal(new ClusterState('c', 1).snapshot().acls, undefined, 'no field without entries (older readers)');
});

test('filters select as Kafka: ANY, null, exact, and MATCH (every entry that applies to a name)', () => {
  const entries = [acl({}), acl({ resourceName: 'ord', patternType: PatternType.PREFIXED }), acl({ resourceName: '*' }), acl({ resourceType: ResourceType.GROUP })];
  const any: AclFilter = { resourceType: ResourceType.ANY, resourceName: null, patternType: PatternType.ANY, principal: null, host: null, operation: Op.ANY, permission: AclPermission.ANY };
  const pick = (f: Partial<AclFilter>) => entries.filter((b) => filterMatches({ ...any, ...f }, b)).map((b) => entries.indexOf(b));
  assert.deepEqual(pick({}), [0, 1, 2, 3]);
  assert.deepEqual(pick({ resourceType: ResourceType.TOPIC, resourceName: 'orders' }), [0]);
  assert.deepEqual(pick({ resourceType: ResourceType.TOPIC, resourceName: 'orders', patternType: PatternType.MATCH }), [0, 1, 2]);
  assert.deepEqual(pick({ patternType: PatternType.PREFIXED }), [1]);
  assert.deepEqual(pick({ principal: 'User:bob' }), []);
  assert.equal(aclFilterProblem({ ...any, operation: 99 }), 'unknown operation 99');
});

test('superUsers: ;-separated principals, blanks ignored, malformed refused', () => {
  assert.deepEqual(parseSuperUsers(' User:admin ; User:CN=ops,O=Example ;'), { principals: ['User:admin', 'User:CN=ops,O=Example'] });
  assert.deepEqual(parseSuperUsers(''), { principals: [] });
  assert.ok('problem' in parseSuperUsers('admin'));
});

test('indexed lookups decide as a scan of every entry would (random entries and requests)', () => {
  const names = ['orders', 'orders.eu', 'ord', 'logs', '*', 'o'];
  const binding = fc.record({
    resourceType: fc.constantFrom(ResourceType.TOPIC, ResourceType.GROUP),
    resourceName: fc.constantFrom(...names),
    patternType: fc.constantFrom(PatternType.LITERAL, PatternType.PREFIXED),
    principal: fc.constantFrom('User:alice', 'User:bob', 'User:*'),
    host: fc.constantFrom('*', '10.0.0.1'),
    operation: fc.constantFrom(Op.READ, Op.WRITE, Op.DESCRIBE, Op.ALL, Op.ALTER_CONFIGS),
    permission: fc.constantFrom(AclPermission.ALLOW, AclPermission.DENY),
  }).filter((b) => !(b.patternType === PatternType.PREFIXED && b.resourceName === '*'));
  const request = fc.record({
    who: fc.record({ principal: fc.constantFrom('User:alice', 'User:bob', 'User:carol'), host: fc.constantFrom('10.0.0.1', '10.0.0.2') }),
    operation: fc.constantFrom(Op.READ, Op.WRITE, Op.DESCRIBE, Op.DESCRIBE_CONFIGS, Op.DELETE),
    resourceType: fc.constantFrom(ResourceType.TOPIC, ResourceType.GROUP),
    name: fc.constantFrom('orders', 'orders.eu', 'ordinal', 'logs', 'other'),
  });
  // The rules of the header, applied to every entry in turn.
  const reference = (bindings: AclBinding[], allowIfNone: boolean, r: { who: { principal: string; host: string }; operation: number; resourceType: number; name: string }) => {
    const on = bindings.filter((b) => b.resourceType === r.resourceType && (b.patternType === PatternType.PREFIXED ? r.name.startsWith(b.resourceName) : b.resourceName === r.name || b.resourceName === '*'));
    if (on.length === 0) return allowIfNone;
    const mine = on.filter((b) => (b.principal === r.who.principal || b.principal === 'User:*') && (b.host === r.who.host || b.host === '*'));
    if (mine.some((b) => b.permission === AclPermission.DENY && (b.operation === r.operation || b.operation === Op.ALL))) return false;
    const implied: number[] = r.operation === Op.DESCRIBE ? [Op.READ, Op.WRITE, Op.DELETE, Op.ALTER] : r.operation === Op.DESCRIBE_CONFIGS ? [Op.ALTER_CONFIGS] : [];
    return mine.some((b) => b.permission === AclPermission.ALLOW && (b.operation === r.operation || b.operation === Op.ALL || implied.includes(b.operation)));
  };
  fc.assert(
    fc.property(fc.array(binding, { maxLength: 12 }), fc.boolean(), fc.array(request, { minLength: 1, maxLength: 8 }), (bindings, allowIfNone, requests) => {
      const { authorizer } = setup(bindings, { allowEveryoneIfNoAclFound: allowIfNone });
      for (const r of requests) assert.equal(authorizer.allows(r.who, r.operation, r.resourceType, r.name), reference(bindings, allowIfNone, r), JSON.stringify(r));
    }),
    { numRuns: 1500 },
  );
});
