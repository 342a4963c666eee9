// Goal: the leader moves a partition's group one single-server change at a time, in the order that
// never leaves fewer voters than the smaller of the old and new sets: every wanted broker joins as a
// learner and is promoted once caught up before any replica leaves; a cancelled learner leaves; the
// leader hands over before it would remove itself; the move is reported once the voters are the
// wanted set. Walking the planner to the end from any start reaches the wanted voters.
// Method: nextMoveStep on configurations, and a walk that applies each step to a configuration.
import test from 'node:test';
import assert from 'node:assert/strict';
import { nextMoveStep, type MoveStep } from '../../src/replication/partition-moves.ts';
import type { ConfState } from '../../src/raft/index.ts';

const conf = (voters: readonly number[], learners: readonly number[] = []): ConfState => ({ voters, learners });
const all = () => true;

test('steps in order: add, promote when caught up, remove others, hand over, complete', () => {
  const desired = [2, 3, 4];
  assert.deepEqual(nextMoveStep({ self: 1, conf: conf([1, 2, 3]), desired, moving: true, caughtUp: all }), { kind: 'add-learner', id: 4 });
  assert.deepEqual(nextMoveStep({ self: 1, conf: conf([1, 2, 3], [4]), desired, moving: true, caughtUp: (id) => id !== 4 }), { kind: 'wait', why: 'replica 4 is catching up' });
  assert.deepEqual(nextMoveStep({ self: 1, conf: conf([1, 2, 3], [4]), desired, moving: true, caughtUp: all }), { kind: 'promote', id: 4 });
  assert.deepEqual(nextMoveStep({ self: 1, conf: conf([1, 2, 3, 4]), desired, moving: true, caughtUp: all }), { kind: 'transfer', to: 2 });
  assert.deepEqual(nextMoveStep({ self: 1, conf: conf([1, 2, 3, 4]), desired, moving: true, caughtUp: (id) => id === 1 }), { kind: 'wait', why: 'no wanted replica has caught up to take over' });
  assert.deepEqual(nextMoveStep({ self: 2, conf: conf([1, 2, 3, 4]), desired, moving: true, caughtUp: all }), { kind: 'remove', id: 1 });
  assert.deepEqual(nextMoveStep({ self: 2, conf: conf([2, 3, 4]), desired, moving: true, caughtUp: all }), { kind: 'complete' });
  assert.deepEqual(nextMoveStep({ self: 2, conf: conf([2, 3, 4]), desired, moving: false, caughtUp: all }), { kind: 'none' });
});

test('a cancelled move: the learner leaves, voters stay', () => {
  assert.deepEqual(nextMoveStep({ self: 1, conf: conf([1, 2, 3], [4]), desired: [1, 2, 3], moving: false, caughtUp: all }), { kind: 'remove', id: 4 });
});

/** Applies a step to a configuration, as the group would once the change commits. */
function applyStep(c: ConfState, step: MoveStep, leader: number, desired: readonly number[]): { conf: ConfState; leader: number } {
  switch (step.kind) {
    case 'add-learner':
      return { conf: conf(c.voters, [...c.learners, step.id]), leader };
    case 'promote':
      return { conf: conf([...c.voters, step.id], c.learners.filter((l) => l !== step.id)), leader };
    case 'remove':
      return { conf: conf(c.voters.filter((v) => v !== step.id), c.learners.filter((l) => l !== step.id)), leader };
    case 'transfer':
      return { conf: c, leader: step.to };
    default:
      assert.fail(`no change for ${step.kind} (desired ${desired.join(',')})`);
  }
}

test('from any three voters to any other three of six brokers: reaches the target, never below three voters, leader always a voter', () => {
  const ids = [1, 2, 3, 4, 5, 6];
  const triples: number[][] = [];
  for (const a of ids) for (const b of ids) for (const c of ids) if (a < b && b < c) triples.push([a, b, c]);
  for (const from of triples) {
    for (const to of triples) {
      let state = { conf: conf(from), leader: from[0]! };
      for (let steps = 0; ; steps++) {
        assert.ok(steps < 20, `no end from ${from} to ${to}`);
        const step = nextMoveStep({ self: state.leader, conf: state.conf, desired: to, moving: true, caughtUp: all });
        if (step.kind === 'complete') break;
        state = applyStep(state.conf, step, state.leader, to);
        assert.ok(state.conf.voters.length >= 3, `${from} -> ${to}: ${state.conf.voters.length} voters`);
        assert.ok(state.conf.voters.includes(state.leader), `${from} -> ${to}: leader ${state.leader} is no voter`);
      }
      assert.deepEqual([...state.conf.voters].sort(), [...to].sort());
      assert.deepEqual(state.conf.learners, []);
    }
  }
});
