// Goal: subscriptions and assignments survive the trip through JoinGroup/SyncGroup bytes, empty
// assignments decode as nothing, and versions newer than the schema still decode (their extra fields
// are appended and ignored). Method: round trips, plus bytes written by hand for other versions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from '../../../src/protocol/kafka/consumer-protocol.ts';
import { encodeConsumerProtocolAssignment, encodeConsumerProtocolSubscription } from '../../../src/protocol/kafka/generated/index.ts';
import { Writer } from '../../../src/protocol/kafka/writer.ts';

test('subscription and assignment round trip', () => {
  assert.deepEqual(decodeSubscription(encodeSubscription(['b', 'a'])).topics, ['a', 'b']);
  const assigned = [
    { topic: 'a', partitions: [0, 2] },
    { topic: 'b', partitions: [1] },
  ];
  assert.deepEqual(decodeAssignment(encodeAssignment(assigned)), assigned);
});

test('an empty assignment buffer is an empty assignment', () => {
  assert.deepEqual(decodeAssignment(Buffer.alloc(0)), []);
});

test('version 0 and 3 bytes decode; a future version is read as the newest known', () => {
  for (const version of [0, 3]) {
    const w = new Writer(64);
    w.int16(version);
    encodeConsumerProtocolSubscription(w, { topics: ['x'], userData: null, ownedPartitions: [], generationId: 4, rackId: 'r1' }, version);
    assert.deepEqual(decodeSubscription(w.toBuffer()).topics, ['x']);
  }
  const w = new Writer(64);
  w.int16(9);
  encodeConsumerProtocolAssignment(w, { assignedPartitions: [{ topic: 'x', partitions: [3, 1] }], userData: null }, 3);
  w.int32(12345); // a field a later version might append
  assert.deepEqual(decodeAssignment(w.toBuffer()), [{ topic: 'x', partitions: [1, 3] }]);
});
