// Goal: membership changes encode losslessly, apply as single-server steps, and invalid changes
// are named rather than applied.
// Method: round-trip every change type; apply valid and invalid changes to small configurations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyConfChange, confChangeProblem, decodeConfChange, encodeConfChange } from '../../src/raft/index.ts';
import type { ConfChange, ConfState } from '../../src/raft/index.ts';

test('encoding round-trips', () => {
  for (const change of [
    { type: 'addLearner', nodeId: 4 },
    { type: 'promoteLearner', nodeId: 0xffffffff },
    { type: 'removeNode', nodeId: 1 },
  ] as ConfChange[]) {
    assert.deepEqual(decodeConfChange(encodeConfChange(change)), change);
  }
  assert.throws(() => decodeConfChange(new Uint8Array([9, 0, 0, 0, 1])));
  assert.throws(() => decodeConfChange(new Uint8Array([1, 0, 0])));
  assert.throws(() => encodeConfChange({ type: 'addLearner', nodeId: 0 }));
});

test('learner in, promoted, removed', () => {
  let conf: ConfState = { voters: [1, 2, 3], learners: [] };
  conf = applyConfChange(conf, { type: 'addLearner', nodeId: 4 });
  assert.deepEqual(conf, { voters: [1, 2, 3], learners: [4] });
  conf = applyConfChange(conf, { type: 'promoteLearner', nodeId: 4 });
  assert.deepEqual(conf, { voters: [1, 2, 3, 4], learners: [] });
  conf = applyConfChange(conf, { type: 'removeNode', nodeId: 2 });
  assert.deepEqual(conf, { voters: [1, 3, 4], learners: [] });
});

test('invalid changes are named', () => {
  const conf = { voters: [1], learners: [2] };
  assert.equal(confChangeProblem(conf, { type: 'addLearner', nodeId: 1 }), 'already-member');
  assert.equal(confChangeProblem(conf, { type: 'addLearner', nodeId: 2 }), 'already-member');
  assert.equal(confChangeProblem(conf, { type: 'promoteLearner', nodeId: 1 }), 'not-learner');
  assert.equal(confChangeProblem(conf, { type: 'removeNode', nodeId: 9 }), 'not-member');
  assert.equal(confChangeProblem(conf, { type: 'removeNode', nodeId: 1 }), 'last-voter');
  assert.equal(confChangeProblem(conf, { type: 'removeNode', nodeId: 2 }), null);
  assert.throws(() => applyConfChange(conf, { type: 'removeNode', nodeId: 1 }), /last-voter/);
});
