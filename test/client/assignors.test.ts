// Goal: the range and round-robin assignors hand every subscribed partition to exactly one subscribed
// member, balance them as Kafka's RangeAssignor and RoundRobinAssignor do, and give the same answer
// whatever order the members arrive in. Method: worked examples with known answers, then every small
// group shape (1-4 members, 1-3 topics, 0-7 partitions, varied subscriptions) checked against the rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, type AssignorMember, type AssignorName } from '../../src/client/assignors.ts';

function flat(result: ReturnType<typeof assign>): Record<string, string[]> {
  return Object.fromEntries([...result].map(([id, tps]) => [id, tps.flatMap((t) => t.partitions.map((p) => `${t.topic}-${p}`))]));
}

test('range: per topic, consecutive ranges, the first members take the extra partitions', () => {
  const members = [
    { memberId: 'b', topics: ['t'] },
    { memberId: 'a', topics: ['t', 'u'] },
  ];
  const result = flat(assign('range', members, new Map([['t', 5], ['u', 2]])));
  assert.deepEqual(result, { a: ['t-0', 't-1', 't-2', 'u-0', 'u-1'], b: ['t-3', 't-4'] });
});

test('roundrobin: partitions dealt in (topic, partition) order to members in id order, skipping non-subscribers', () => {
  const members = [
    { memberId: 'm1', topics: ['t'] },
    { memberId: 'm2', topics: ['t', 'u'] },
  ];
  const result = flat(assign('roundrobin', members, new Map([['t', 3], ['u', 2]])));
  assert.deepEqual(result, { m1: ['t-0', 't-2'], m2: ['t-1', 'u-0', 'u-1'] });
});

test('a member that subscribes to nothing known still appears, with no partitions', () => {
  const result = assign('range', [{ memberId: 'a', topics: ['missing'] }], new Map());
  assert.deepEqual([...result], [['a', []]]);
});

test('every small group shape: each partition assigned once to a subscriber, balanced, order-independent', () => {
  const subscriptions = [['t0'], ['t1'], ['t0', 't1'], ['t0', 't1', 't2']];
  let cases = 0;
  for (const name of ['range', 'roundrobin'] as AssignorName[]) {
    for (let memberCount = 1; memberCount <= 4; memberCount++) {
      for (let shape = 0; shape < subscriptions.length ** memberCount && shape < 64; shape++) {
        const members: AssignorMember[] = [];
        for (let i = 0, s = shape; i < memberCount; i++, s = Math.floor(s / subscriptions.length)) {
          members.push({ memberId: `member-${i}`, topics: subscriptions[s % subscriptions.length]! });
        }
        for (const partitions of [0, 1, 3, 7]) {
          const counts = new Map([['t0', partitions], ['t1', partitions + 1], ['t2', 2]]);
          const result = assign(name, members, counts);
          const reversed = assign(name, [...members].reverse(), counts);
          assert.deepEqual([...reversed].sort(), [...result].sort(), `${name} depends on member order`);
          const owners = new Map<string, string>();
          for (const [memberId, tps] of result) {
            const member = members.find((m) => m.memberId === memberId)!;
            for (const tp of tps) {
              assert.ok(member.topics.includes(tp.topic), `${memberId} got unsubscribed ${tp.topic}`);
              for (const p of tp.partitions) {
                const key = `${tp.topic}-${p}`;
                assert.equal(owners.has(key), false, `${key} assigned twice`);
                owners.set(key, memberId);
              }
            }
          }
          for (const [topic, count] of counts) {
            const subscribers = members.filter((m) => m.topics.includes(topic));
            for (let p = 0; p < count; p++) assert.equal(owners.has(`${topic}-${p}`), subscribers.length > 0, `${topic}-${p}`);
            // Per topic, among its subscribers, shares differ by at most one (both assignors guarantee it
            // for a single topic; round-robin across topics can shift by one per topic, range cannot).
            if (name === 'range' && subscribers.length > 0) {
              const shares = subscribers.map((m) => [...owners].filter(([k, o]) => o === m.memberId && k.startsWith(`${topic}-`)).length);
              assert.ok(Math.max(...shares) - Math.min(...shares) <= 1, `range unbalanced on ${topic}: ${shares}`);
            }
          }
          if (name === 'roundrobin' && members.every((m) => m.topics.length === members[0]!.topics.length && m.topics.every((t, i) => t === members[0]!.topics[i]))) {
            const shares = members.map((m) => [...owners.values()].filter((o) => o === m.memberId).length);
            assert.ok(Math.max(...shares) - Math.min(...shares) <= 1, `roundrobin unbalanced with equal subscriptions: ${shares}`);
          }
          cases++;
        }
      }
    }
  }
  assert.ok(cases > 500, `only ${cases} cases ran`);
});
