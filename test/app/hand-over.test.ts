// Goal: a stopping broker hands each group it leads to a reachable voter, the one holding most of the
// log, also when check-quorum has just cleared every follower's recently-active mark (an idle group
// between a check and the next heartbeat answers); never to a learner, itself, or an unreachable broker.
// Method: handOverTarget over hand-built leader statuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handOverTarget } from '../../src/app/hand-over.ts';
import type { PeerStatus, Status } from '../../src/raft/index.ts';

function leaderStatus(peers: Record<number, Partial<PeerStatus>>): Status {
  const progress = new Map<number, PeerStatus>();
  for (const [id, p] of Object.entries(peers)) progress.set(Number(id), { match: 10, next: 11, state: 'replicate', recentActive: true, isLearner: false, inflightBytes: 0, ...p });
  return { id: 1, term: 3, vote: 1, commit: 10, applied: 10, lastIndex: 10, lead: 1, role: 'leader', leadTransferee: 0, confState: { voters: [1, 2, 3], learners: [] }, progress };
}

test('an idle group whose followers check-quorum just unmarked is still handed over', () => {
  const status = leaderStatus({ 1: {}, 2: { recentActive: false }, 3: { recentActive: false } });
  assert.notEqual(handOverTarget(status, () => true), 0);
  assert.equal(handOverTarget(status, (id) => id !== 2), 3);
});

test('the most caught-up reachable voter is chosen; a recently active one wins a tie', () => {
  assert.equal(handOverTarget(leaderStatus({ 1: {}, 2: { match: 8 }, 3: { match: 9, recentActive: false } }), () => true), 3);
  assert.equal(handOverTarget(leaderStatus({ 1: {}, 2: { recentActive: false }, 3: {} }), () => true), 3);
  assert.equal(handOverTarget(leaderStatus({ 1: {}, 2: {}, 3: { recentActive: false } }), () => true), 2);
});

test('no learner, no unreachable broker, and 0 when nobody can take over or this node does not lead', () => {
  assert.equal(handOverTarget(leaderStatus({ 1: {}, 2: { isLearner: true, match: 10 }, 3: { match: 4 } }), () => true), 3);
  assert.equal(handOverTarget(leaderStatus({ 1: {}, 2: {}, 3: {} }), (id) => id === 1), 0);
  assert.equal(handOverTarget({ ...leaderStatus({}), role: 'follower', progress: null }, () => true), 0);
});
