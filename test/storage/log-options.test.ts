// Goal: log options default sensibly and refuse values that break their relationships.
// Method: resolve defaults and bad values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LOG_OPTIONS, resolveLogOptions } from '../../src/storage/log-options.ts';

test('defaults and overrides', () => {
  const o = resolveLogOptions();
  assert.deepEqual(o, DEFAULT_LOG_OPTIONS);
  assert.equal(o.ioMode, 'direct');
  assert.equal(resolveLogOptions({ syncIntervalMs: 0 }).syncIntervalMs, 0);
});

test('bad values are programmer errors', () => {
  for (const bad of [{ ioMode: 'fast' as never }, { segmentBytes: 2 ** 31 }, { segmentBytes: 10 }, { syncIntervalMs: -1 }, { retentionMs: -2 }, { maxBatchBytes: 10 }, { cleanupPolicy: 'keep' as never }]) {
    assert.throws(() => resolveLogOptions(bad), /must|out of range|bad/, JSON.stringify(bad));
  }
});
