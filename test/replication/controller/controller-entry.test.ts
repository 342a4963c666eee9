// Goal: the controller log's entries and snapshots round-trip, and bytes that are not one (a broken
// log, a newer version) are refused with SB_ERR_CONTROLLER_LOG rather than half-read. Forwarded
// commands of the wrong shape are refused with a reason before anything reads them.
// Method: examples plus random values (fast-check).
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeControllerEntry, decodeControllerSnapshot, encodeControllerEntry, encodeControllerSnapshot } from '../../../src/replication/controller/controller-entry.ts';
import { decodeAnswer, decodeForward } from '../../../src/replication/controller/controller-channel.ts';
import { commandShapeProblem } from '../../../src/metadata/command-shape.ts';
import { StreamBusError } from '../../../src/util/errors.ts';
import type { MetadataCommand } from '../../../src/metadata/cluster-state.ts';

const create: MetadataCommand = {
  type: 'create-topic',
  name: 'orders',
  topicId: '00000000-0000-4000-8000-000000000001',
  partitions: 2,
  replicationFactor: 2,
  assignments: [[1, 2], [2, 3]],
  configs: { 'cleanup.policy': 'compact' },
  timestampMs: 5,
};

test('entries and snapshots round-trip', () => {
  assert.deepEqual(decodeControllerEntry(encodeControllerEntry({ kind: 'command', cmd: create })), { kind: 'command', cmd: create });
  assert.deepEqual(decodeControllerEntry(encodeControllerEntry({ kind: 'init', clusterId: 'abc' })), { kind: 'init', clusterId: 'abc' });
  const snap = { version: 2 as const, clusterId: 'abc', brokers: [], topics: [], nextProducerId: '1000' };
  assert.deepEqual(decodeControllerSnapshot(encodeControllerSnapshot(snap)), snap);
  assert.equal(decodeControllerSnapshot(encodeControllerSnapshot(null)), null);
  assert.equal(decodeControllerSnapshot(new Uint8Array(0)), null);
});

test('anything else is refused with SB_ERR_CONTROLLER_LOG', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  for (const bad of ['', 'null', '[]', '{"v":2,"init":"x"}', '{"v":1}', '{"v":1,"cmd":{"type":"nope"}}', '{"v":1,"cmd":{"type":"delete-topic"}}']) {
    assert.throws(() => decodeControllerEntry(enc(bad)), (e: unknown) => e instanceof StreamBusError && e.code === 'SB_ERR_CONTROLLER_LOG', bad);
  }
  assert.throws(() => decodeControllerEntry(new Uint8Array([0xff, 0xfe])), /not UTF-8 JSON/);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        decodeControllerEntry(bytes);
      } catch (e) {
        assert.ok(e instanceof StreamBusError && e.code === 'SB_ERR_CONTROLLER_LOG');
      }
    }),
  );
});

test('command shapes: every field checked, unknown fields and types refused', () => {
  assert.equal(commandShapeProblem(create), null);
  assert.match(commandShapeProblem({ ...create, partitions: '2' })!, /partitions/);
  assert.match(commandShapeProblem({ ...create, extra: 1 })!, /unexpected field/);
  assert.match(commandShapeProblem({ ...create, configs: { a: 1 } })!, /configs/);
  assert.match(commandShapeProblem({ ...create, assignments: [[1, 'x']] })!, /assignments/);
  assert.match(commandShapeProblem({ type: 'toString' })!, /unknown command type/);
  assert.match(commandShapeProblem(null)!, /object/);
  fc.assert(fc.property(fc.anything(), (value) => typeof commandShapeProblem(value) === 'string' || commandShapeProblem(value) === null));
});

test('forward and answer bodies from peers are checked, never trusted', () => {
  assert.deepEqual(decodeForward([3, create]), { requestId: 3, cmd: create });
  assert.equal('problem' in decodeForward([0, create]), true);
  assert.equal('problem' in decodeForward([3, { type: 'delete-topic', name: 5 }]), true);
  assert.deepEqual(decodeAnswer([3, 1, 2]), { requestId: 3, answer: { kind: 'not-leader', leader: 2 } });
  assert.deepEqual(decodeAnswer([3, 0, null, null, '1000', 7]), { requestId: 3, answer: { kind: 'result', result: { error: null, firstProducerId: 1000n }, appliedIndex: 7 } });
  assert.equal(decodeAnswer([3, 0, 'NOT_A_KAFKA_ERROR', null, null, 7]), null);
  assert.equal(decodeAnswer([3, 0, null, null, '-1', 7]), null);
  fc.assert(fc.property(fc.anything(), (value) => {
    decodeAnswer(value);
    decodeForward(value);
  }));
});
