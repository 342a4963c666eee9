// Goal: the controller leader changes the controller group one step at a time: a voter an operator
// decommissioned leaves once it holds nothing (the leader hands leadership over first when that voter
// is itself), never below three voters nor leaving the reachable voters without a majority; a drained
// voter of cluster.nodes recommissioned (or a listed learner) becomes a voter once caught up; other
// registered brokers follow as learners; a drained broker that is gone leaves; an automatically drained
// voter stays.
// Method: nextMembershipStep() on hand-made facts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BrokerRecord } from '../../../src/metadata/broker-registration.ts';
import { nextMembershipStep as planned, voterRemovalProblem, type MembershipFacts } from '../../../src/replication/controller/controller-membership.ts';

const broker = (id: number, extra: Partial<BrokerRecord> = {}): BrokerRecord => ({ id, incarnationId: `i-${id}`, host: '127.0.0.1', port: 9000 + id, grpcPort: 9100 + id, rack: null, registeredAtMs: 0, ...extra });

const nextMembershipStep = (f: MembershipFacts) => planned(f).step;

function facts(changes: Partial<MembershipFacts> & { holding?: number[]; down?: number[]; behind?: number[] } = {}): MembershipFacts {
  const { holding = [], down = [], behind = [], ...rest } = changes;
  return {
    self: 1,
    conf: { voters: [1, 2, 3, 4], learners: [] },
    brokers: [1, 2, 3, 4].map((id) => broker(id)),
    listed: new Set([1, 2, 3, 4]),
    holds: (id) => holding.includes(id),
    reachable: (id) => !down.includes(id),
    caughtUp: (id) => !behind.includes(id),
    ...rest,
  };
}

test('a decommissioned voter leaves once it holds nothing', () => {
  const brokers = [broker(1), broker(2), broker(3), broker(4, { draining: true })];
  assert.equal(nextMembershipStep(facts({ brokers, holding: [4] })), null, 'it still holds replicas');
  assert.deepEqual(nextMembershipStep(facts({ brokers })), { kind: 'change', change: { type: 'removeNode', nodeId: 4 } });
  assert.deepEqual(nextMembershipStep(facts({ brokers, down: [4] })), { kind: 'change', change: { type: 'removeNode', nodeId: 4 } }, 'also when it is already stopped');
});

test('the leader never removes itself: it hands leadership to a reachable voter that stays', () => {
  const brokers = [broker(1, { draining: true }), broker(2, { draining: true }), broker(3), broker(4)];
  assert.deepEqual(nextMembershipStep(facts({ brokers, conf: { voters: [1, 2, 3, 4, 5], learners: [] }, holding: [2], down: [3] })), { kind: 'transfer-leadership', to: 4 });
});

test('never below three voters, nor with the reachable voters left short of a majority', () => {
  const brokers = [broker(1), broker(2), broker(3, { draining: true })];
  const held = planned(facts({ brokers, conf: { voters: [1, 2, 3], learners: [] } }));
  assert.equal(held.step, null);
  assert.match(held.held!.reason, /would be left/);
  const meanwhile = planned(facts({ brokers: [...brokers, broker(6)], conf: { voters: [1, 2, 3], learners: [] } }));
  assert.deepEqual([meanwhile.step, meanwhile.held?.voter], [{ kind: 'change', change: { type: 'addLearner', nodeId: 6 } }, 3], 'a held removal does not hold other changes');
  const four = [broker(1), broker(2), broker(3), broker(4, { draining: true }), broker(5)];
  const short = planned(facts({ brokers: four, conf: { voters: [1, 2, 3, 4, 5], learners: [] }, down: [2, 3] }));
  assert.equal(short.held?.voter, 4, 'voters 1, 2, 3, 5 with 2 and 3 down: two of four is no majority');
  assert.equal(voterRemovalProblem([1, 2, 3, 4, 5], 4, (id) => id !== 2), null);
  assert.match(voterRemovalProblem([1, 2, 3], 3, () => true)!, /3 voters/);
});

test('an automatically drained voter stays a voter', () => {
  const brokers = [broker(1), broker(2), broker(3), broker(4, { draining: true, autoDrained: true })];
  assert.equal(nextMembershipStep(facts({ brokers, down: [4] })), null);
});

test('a listed learner that is not draining becomes a voter once caught up and reachable', () => {
  const conf = { voters: [1, 2, 3], learners: [4] };
  assert.deepEqual(nextMembershipStep(facts({ conf })), { kind: 'change', change: { type: 'promoteLearner', nodeId: 4 } });
  assert.equal(nextMembershipStep(facts({ conf, behind: [4] })), null, 'not before it caught up');
  assert.equal(nextMembershipStep(facts({ conf, down: [4] })), null);
  assert.equal(nextMembershipStep(facts({ conf, brokers: [broker(1), broker(2), broker(3), broker(4, { draining: true })], holding: [4] })), null, 'not while decommissioned');
  assert.equal(nextMembershipStep(facts({ conf, listed: new Set([1, 2, 3]) })), null, 'a broker outside cluster.nodes stays a learner');
});

test('other registered brokers follow as learners; a drained one that is gone leaves', () => {
  const conf = { voters: [1, 2, 3], learners: [5] };
  const listed = new Set([1, 2, 3]);
  const brokers = [broker(1), broker(2), broker(3), broker(4), broker(5, { draining: true })];
  assert.deepEqual(nextMembershipStep(facts({ conf, listed, brokers })), { kind: 'change', change: { type: 'addLearner', nodeId: 4 } });
  const withFour = { voters: [1, 2, 3], learners: [4, 5] };
  assert.equal(nextMembershipStep(facts({ conf: withFour, listed, brokers })), null, 'the drained one still runs: it follows');
  assert.deepEqual(nextMembershipStep(facts({ conf: withFour, listed, brokers, down: [5] })), { kind: 'change', change: { type: 'removeNode', nodeId: 5 } });
});
