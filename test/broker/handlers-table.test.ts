// Goal: what ApiVersions advertises and what the broker handles cannot drift apart.
// Method: compare the supported-versions table with the handler table, key by key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SUPPORTED_API_VERSIONS } from '../../src/protocol/kafka/api-versions.ts';
import { HANDLERS } from '../../src/broker/handlers/index.ts';

test('every advertised API has a handler and every handler is advertised', () => {
  const advertised = Object.keys(SUPPORTED_API_VERSIONS).map(Number).sort((a, b) => a - b);
  const handled = Object.keys(HANDLERS).map(Number).sort((a, b) => a - b);
  assert.deepEqual(handled, advertised);
});

test('the transaction APIs are advertised at the versions clients use; SASL at Kafka 3.9\'s versions', () => {
  const expected: Record<number, { min: number; max: number }> = { 24: { min: 0, max: 3 }, 25: { min: 0, max: 4 }, 26: { min: 0, max: 4 }, 27: { min: 0, max: 1 }, 28: { min: 0, max: 4 }, 65: { min: 0, max: 0 }, 66: { min: 0, max: 1 } };
  for (const [key, range] of Object.entries(expected)) {
    assert.deepEqual(SUPPORTED_API_VERSIONS[Number(key)], range, `API ${key}`);
    assert.equal(typeof HANDLERS[Number(key) as keyof typeof HANDLERS], 'function', `API ${key} handler`);
  }
  for (const key of [68, 69, 71, 72]) assert.equal(SUPPORTED_API_VERSIONS[key], undefined, `API ${key} advertised`);
  // SaslHandshake v0 (bare tokens afterwards) must be listed: librdkafka refuses SCRAM without it.
  assert.deepEqual(SUPPORTED_API_VERSIONS[17], { min: 0, max: 1 });
  assert.deepEqual(SUPPORTED_API_VERSIONS[36], { min: 0, max: 2 });
});

test('DeleteRecords and AlterConfigs are served at every version Kafka 3.9 serves', () => {
  assert.deepEqual(SUPPORTED_API_VERSIONS[21], { min: 0, max: 2 });
  assert.deepEqual(SUPPORTED_API_VERSIONS[33], { min: 0, max: 2 });
  assert.equal(typeof HANDLERS[21], 'function');
  assert.equal(typeof HANDLERS[33], 'function');
});
