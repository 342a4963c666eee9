// Goal: the leadership table moves forward whatever order reports arrive in: a higher term wins, a
// lower one is ignored, within a term a named leader replaces "none known" and its own later ISR
// replaces the old, and a step-down clears only the leader it names at a term not below the entry's.
// Method: one hand-written case per rule, checking entries, return values, the per-leader index and
// what the change listeners hear; then random report sequences checked against a tiny reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LeadershipTable, NO_LEADER } from '../../../src/replication/leadership-table.ts';

test('the first report of a group is recorded', () => {
  const table = new LeadershipTable();
  assert.equal(table.get(7), undefined);
  assert.equal(table.observe(7, 2, 3, [2, 1]), true);
  assert.deepEqual(table.get(7), { leader: 2, term: 3, isr: [2, 1] });
  assert.deepEqual(table.ledBy(2), [7]);
  assert.equal(table.size, 1);
});

test('a higher term wins, whoever it names', () => {
  const table = new LeadershipTable();
  table.observe(1, 2, 3, [2]);
  assert.equal(table.observe(1, 3, 4, [3, 2]), true);
  assert.deepEqual(table.get(1), { leader: 3, term: 4, isr: [3, 2] });
  assert.equal(table.observe(1, NO_LEADER, 5, []), true, 'a newer term with no leader known still moves the entry on');
  assert.deepEqual(table.get(1), { leader: NO_LEADER, term: 5, isr: [] });
  assert.deepEqual(table.ledBy(3), []);
});

test('a lower term is stale and ignored', () => {
  const table = new LeadershipTable();
  table.observe(1, 3, 4, [3]);
  assert.equal(table.observe(1, 2, 3, [2]), false);
  assert.equal(table.observe(1, 3, 3, [3, 1]), false);
  assert.deepEqual(table.get(1), { leader: 3, term: 4, isr: [3] });
});

test('at the same term a named leader replaces none known, and not the other way round', () => {
  const table = new LeadershipTable();
  table.observe(1, NO_LEADER, 4, []);
  assert.equal(table.observe(1, 2, 4, [2]), true);
  assert.deepEqual(table.get(1), { leader: 2, term: 4, isr: [2] });
  assert.equal(table.observe(1, NO_LEADER, 4, []), false);
  assert.equal(table.observe(1, 3, 4, [3]), false, 'Raft has one leader per term: the first named stays');
  assert.deepEqual(table.get(1), { leader: 2, term: 4, isr: [2] });
});

test("at the same term the same leader's newer ISR replaces the old; an equal one changes nothing", () => {
  const table = new LeadershipTable();
  table.observe(1, 2, 4, [2, 1, 3]);
  assert.equal(table.observe(1, 2, 4, [2, 1]), true);
  assert.deepEqual(table.get(1)!.isr, [2, 1]);
  assert.equal(table.observe(1, 2, 4, [2, 1]), false);
});

test('entries do not share the caller\'s ISR array', () => {
  const table = new LeadershipTable();
  const isr = [2, 1];
  table.observe(1, 2, 4, isr);
  isr.push(3);
  assert.deepEqual(table.get(1)!.isr, [2, 1]);
  assert.ok(Object.isFrozen(table.get(1)!.isr));
});

test('stepDown clears the leader it names at a term not below the entry', () => {
  const table = new LeadershipTable();
  table.observe(1, 2, 4, [2]);
  assert.equal(table.stepDown(1, 3, 4), false, 'another broker');
  assert.equal(table.stepDown(1, 2, 3), false, 'an older term');
  assert.equal(table.stepDown(9, 2, 4), false, 'an unknown group');
  assert.deepEqual(table.get(1), { leader: 2, term: 4, isr: [2] });
  assert.equal(table.stepDown(1, 2, 4), true);
  assert.deepEqual(table.get(1), { leader: NO_LEADER, term: 4, isr: [] });
  assert.deepEqual(table.ledBy(2), []);
  assert.equal(table.stepDown(1, 2, 4), false, 'already stepped down');
  assert.equal(table.observe(1, 2, 3, [2]), false, 'an older report does not bring it back');
});

test('stepDown at a later term moves the entry to that term', () => {
  const table = new LeadershipTable();
  table.observe(1, 2, 4, [2]);
  assert.equal(table.stepDown(1, 2, 6), true);
  assert.deepEqual(table.get(1), { leader: NO_LEADER, term: 6, isr: [] });
  assert.equal(table.observe(1, 3, 5, [3]), false);
});

test('forget drops a deleted group', () => {
  const table = new LeadershipTable();
  table.observe(1, 2, 4, [2]);
  assert.equal(table.forget(1), true);
  assert.equal(table.get(1), undefined);
  assert.deepEqual(table.ledBy(2), []);
  assert.equal(table.forget(1), false);
  assert.equal(table.observe(1, 2, 1, [2]), true, 'a recreated group starts afresh');
});

test('listeners hear each change, and a batch once with every group it changed', () => {
  const table = new LeadershipTable();
  const heard: (readonly number[])[] = [];
  table.onChange((ids) => heard.push(ids));
  table.observe(1, 2, 1, [2]);
  table.observe(1, 2, 0, [2]); // stale: silent
  table.batch(() => {
    table.observe(2, 2, 1, [2]);
    table.observe(3, 2, 1, [2]);
    table.batch(() => table.stepDown(2, 2, 1));
    table.observe(4, 2, 0, []);
    table.forget(4);
  });
  table.batch(() => table.observe(1, 2, 1, [2])); // nothing changed: silent
  assert.deepEqual(heard, [[1], [2, 3, 4]]);
});

test('bad arguments are programmer errors', () => {
  const table = new LeadershipTable();
  assert.throws(() => table.observe(-1, 2, 1, []), /group id/);
  assert.throws(() => table.observe(2 ** 31, 2, 1, []), /group id/);
  assert.throws(() => table.observe(1, 0, 1, []), /leader/);
  assert.throws(() => table.observe(1, 2, -1, []), /term/);
  assert.throws(() => table.observe(1, 2, 1.5, []), /term/);
  assert.throws(() => table.stepDown(1, NO_LEADER, 1), /named leader/);
});

// A reference: per group, the report with the highest (term, precedence), where at one term the
// first named leader keeps precedence over none known and over other leaders.
test('random reports: the table ends where the reference says, and the index matches the entries', () => {
  const report = fc.record({
    kind: fc.constantFrom('observe', 'observe', 'stepDown', 'forget'),
    groupId: fc.integer({ min: 0, max: 3 }),
    leader: fc.integer({ min: -1, max: 3 }).filter((l) => l !== 0),
    term: fc.integer({ min: 0, max: 4 }),
    isr: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
  });
  fc.assert(
    fc.property(fc.array(report, { maxLength: 60 }), (reports) => {
      const table = new LeadershipTable();
      const model = new Map<number, { leader: number; term: number; isr: number[] }>();
      for (const r of reports) {
        const cur = model.get(r.groupId);
        let changed: boolean;
        if (r.kind === 'forget') {
          changed = table.forget(r.groupId);
          assert.equal(changed, cur !== undefined);
          model.delete(r.groupId);
          continue;
        }
        if (r.kind === 'stepDown') {
          if (r.leader === NO_LEADER) continue;
          changed = table.stepDown(r.groupId, r.leader, r.term);
          const expect = cur !== undefined && cur.leader === r.leader && cur.term <= r.term;
          assert.equal(changed, expect);
          if (expect) model.set(r.groupId, { leader: NO_LEADER, term: r.term, isr: [] });
          continue;
        }
        changed = table.observe(r.groupId, r.leader, r.term, r.isr);
        let expect: boolean;
        if (cur === undefined || r.term > cur.term) expect = true;
        else if (r.term < cur.term || r.leader === NO_LEADER) expect = false;
        else if (cur.leader === NO_LEADER) expect = true;
        else expect = cur.leader === r.leader && JSON.stringify(cur.isr) !== JSON.stringify(r.isr);
        assert.equal(changed, expect);
        if (expect) model.set(r.groupId, { leader: r.leader, term: r.term, isr: [...r.isr] });
      }
      for (let g = 0; g <= 3; g++) assert.deepEqual(table.get(g), model.get(g));
      for (let b = 1; b <= 3; b++) {
        const expected = [...model].filter(([, e]) => e.leader === b).map(([g]) => g).sort();
        assert.deepEqual([...table.ledBy(b)].sort(), expected);
      }
    }),
    { numRuns: 500, seed: 48 },
  );
});
