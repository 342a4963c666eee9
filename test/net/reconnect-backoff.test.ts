// Goal: reconnect delays double from the base up to the cap, always within the upper half of their
// range, and the transport's limits refuse relations that could never work.
// Method: delays at the extremes of the jitter draw, and peerLimits with each broken relation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconnectDelayMs } from '../../src/net/reconnect-backoff.ts';
import { DEFAULT_PEER_LIMITS, peerLimits } from '../../src/net/peer-limits.ts';
import { AssertionError } from '../../src/util/assert.ts';

test('delays double up to the cap, jittered within the upper half', () => {
  const low = (failures: number): number => reconnectDelayMs(failures, 50, 1000, () => 0);
  const high = (failures: number): number => reconnectDelayMs(failures, 50, 1000, () => 0.999999);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 50, 5000].map(high), [50, 100, 200, 400, 800, 1000, 1000, 1000]);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 50].map(low), [25, 50, 100, 200, 400, 500, 500]);
  assert.equal(reconnectDelayMs(2, 50, 1000, () => 0.5), 150);
  assert.throws(() => reconnectDelayMs(0, 50, 1000, () => 1), AssertionError, 'a draw of 1 is out of range');
});

test('limits: defaults hold together, broken relations are refused', () => {
  assert.deepEqual(peerLimits(), DEFAULT_PEER_LIMITS);
  const bad = [
    { maxFrameBytes: DEFAULT_PEER_LIMITS.controlLaneBytesMax + 1 },
    { dataLaneBytesMax: 1024, maxFrameBytes: 2048, controlLaneBytesMax: 4096 },
    { keepaliveMs: 4000, idleTimeoutMs: 6000 },
    { reconnectBaseMs: 2000, reconnectMaxMs: 1000 },
    { closeTimeoutMs: 0 },
    { keepaliveMs: 1.5 },
  ];
  for (const overrides of bad) assert.throws(() => peerLimits(overrides), AssertionError, JSON.stringify(overrides));
});
