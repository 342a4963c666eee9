import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureLog as capture } from '../helpers/capture-log.ts';
import { LineRateLimiter, rateLimitedLogger } from '../../src/observability/rate-limited-logger.ts';

test('limiter: perWindow lines per key, then drops, then reports the drops in the next window', () => {
  let now = 0;
  const limiter = new LineRateLimiter({ perWindow: 3, windowMs: 1000 }, () => now);
  assert.deepEqual([1, 2, 3, 4, 5].map(() => limiter.take('a')), [0, 0, 0, null, null]);
  assert.equal(limiter.take('b'), 0, 'keys are counted apart');
  now = 999;
  assert.equal(limiter.take('a'), null);
  now = 1000;
  assert.equal(limiter.take('a'), 3, 'first line of the next window carries the count');
  assert.equal(limiter.take('a'), 0);
});

test('logger: a tight loop of the same warning writes a bounded number of lines; debug passes', () => {
  let now = 0;
  const { log, lines } = capture();
  const limited = rateLimitedLogger(log, new LineRateLimiter({ perWindow: 5, windowMs: 60_000 }, () => now));
  for (let i = 0; i < 1000; i++) limited.warn({ conn: i }, 'request failed, closing connection');
  for (let i = 0; i < 3; i++) limited.info('other line');
  for (let i = 0; i < 20; i++) limited.debug({ i }, 'debug line');
  now = 60_000;
  limited.warn({ conn: 1000 }, 'request failed, closing connection');
  const all = lines();
  const warned = all.filter((l) => l.msg === 'request failed, closing connection');
  assert.equal(warned.length, 6);
  assert.equal(warned[5]!.suppressed, 995);
  assert.equal(warned[5]!.conn, 1000, 'the line keeps its own fields');
  assert.equal(all.filter((l) => l.msg === 'other line').length, 3);
  assert.equal(all.filter((l) => l.msg === 'debug line').length, 20);
});
