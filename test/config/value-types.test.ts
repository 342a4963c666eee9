// Goal: durations become milliseconds and sizes bytes, from every accepted spelling, and every
// malformed or out-of-range spelling is refused; printed forms load back to the same number.
// Method: tables of inputs and expected results through the schema's own value types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { duration, formatDuration, formatSize, integer, oneOf, size, type ValueType } from '../../src/config/value-types.ts';

function value<T>(type: ValueType<T>, raw: unknown): T | 'refused' {
  const r = type.parse(raw);
  return r.ok ? r.value : 'refused';
}

test('durations', () => {
  const d = duration();
  const cases: [unknown, number | 'refused'][] = [
    ['1s', 1000], ['500ms', 500], ['1h', 3_600_000], ['7d', 604_800_000], ['30m', 1_800_000], ['3600s', 3_600_000],
    ['1.5s', 1500], ['1.1s', 1100], [' 2S ', 2000], ['0', 0], [0, 0], [250, 250], ['250', 250],
    ['1 sec', 'refused'], ['1w', 'refused'], ['-1s', 'refused'], [-1, 'refused'], ['0.5ms', 'refused'], [1.5, 'refused'],
    ['', 'refused'], [true, 'refused'], [null, 'refused'], ['1s2', 'refused'], ['s', 'refused'],
  ];
  for (const [raw, expected] of cases) assert.equal(value(d, raw), expected, JSON.stringify(raw));
  assert.equal(value(duration(1), '0s'), 'refused');
  assert.equal(value(duration(0, 1000), '2s'), 'refused');
});

test('sizes: SI units are powers of 1000, binary units powers of 1024', () => {
  const s = size();
  const cases: [unknown, number | 'refused'][] = [
    ['100MB', 100_000_000], ['1GiB', 2 ** 30], ['512KiB', 512 * 1024], ['1KB', 1000], ['2tib', 2 * 2 ** 40], ['100 mb', 100_000_000],
    ['4096', 4096], [4096, 4096], ['10B', 10], ['1.5KiB', 1536], ['0', 0],
    ['100XB', 'refused'], ['1.5B', 'refused'], ['-1', 'refused'], [-1, 'refused'], [1.5, 'refused'], ['MB', 'refused'], [false, 'refused'],
  ];
  for (const [raw, expected] of cases) assert.equal(value(s, raw), expected, JSON.stringify(raw));
  const unlimited = size(0, undefined, { unlimited: true });
  assert.equal(value(unlimited, -1), -1);
  assert.equal(value(unlimited, '-1'), -1);
  assert.equal(value(unlimited, -2), 'refused');
  assert.equal(value(size(1024), '1000'), 'refused');
});

test('printed durations and sizes load back to the same value', () => {
  assert.equal(formatDuration(1000), '1s');
  assert.equal(formatDuration(1500), '1500ms');
  assert.equal(formatDuration(604_800_000), '7d');
  assert.equal(formatDuration(0), '0ms');
  assert.equal(formatSize(2 ** 30), '1GiB');
  assert.equal(formatSize(100_000_000), '100MB');
  assert.equal(formatSize(1048588), 1048588);
  assert.equal(formatSize(-1), -1);
  for (const ms of [0, 1, 999, 1000, 61_000, 3_600_000, 86_400_000 * 3, 123_456_789]) assert.equal(value(duration(), formatDuration(ms)), ms);
  for (const bytes of [0, 1, 1000, 1024, 1536, 4096, 1048588, 100e6, 2 ** 30, 3 * 2 ** 40]) assert.equal(value(size(), formatSize(bytes)), bytes);
});

test('integers and choices from strings', () => {
  assert.equal(value(integer(1, 10), '7'), 7);
  assert.equal(value(integer(1, 10), '7.0'), 'refused');
  assert.equal(value(integer(1, 10), '0x7'), 'refused');
  assert.equal(value(integer(), 2 ** 53), 'refused');
  assert.equal(value(oneOf(['json', 'pretty']), 'JSON'), 'json');
  assert.equal(value(oneOf(['json', 'pretty']), 1), 'refused');
});
