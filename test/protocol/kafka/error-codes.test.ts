// Goal: the error table matches the codes and retriable flags clients act on (COMPAT.md section 3).
// Method: spot checks against Kafka 3.9's Errors table, plus uniqueness of codes and names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KAFKA_ERRORS, KafkaErrorCode, isRetriable, kafkaError } from '../../../src/protocol/kafka/error-codes.ts';

test('codes and names are unique and ordered', () => {
  const codes = KAFKA_ERRORS.map((e) => e.code);
  assert.deepEqual(codes, [...new Set(codes)].sort((a, b) => a - b));
  assert.equal(new Set(KAFKA_ERRORS.map((e) => e.name)).size, KAFKA_ERRORS.length);
  assert.equal(codes[0], -1);
  assert.equal(codes.at(-1), 127);
});

test('spot checks of codes and retriable flags', () => {
  assert.equal(KafkaErrorCode.UNSUPPORTED_VERSION, 35);
  assert.equal(KafkaErrorCode.MEMBER_ID_REQUIRED, 79);
  assert.equal(KafkaErrorCode.INVALID_RECORD, 87);
  assert.equal(KafkaErrorCode.UNKNOWN_TOPIC_ID, 100);
  for (const c of [2, 3, 5, 6, 7, 14, 15, 16, 41, 56, 70, 74, 75, 88]) assert.ok(isRetriable(c), `code ${c} retriable`);
  for (const c of [0, 1, 22, 25, 27, 35, 36, 45, 47, 79, 87]) assert.ok(!isRetriable(c), `code ${c} not retriable`);
  assert.equal(kafkaError(6)?.name, 'NOT_LEADER_OR_FOLLOWER');
  assert.equal(kafkaError(4242), undefined);
  assert.equal(isRetriable(4242), false);
});
