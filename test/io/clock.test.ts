// Goal: both Clock implementations keep the contract of src/io/clock.ts (one-shot timers fire once,
// never early, never inside setTimer, never after clearTimer, ties in the order set; real timers do
// not keep the process alive), and periodic timers built on them run, re-arm and cancel as promised.
// Method: the manual clock driven by hand; the real clock with short real delays, bounded by a timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../src/io/clock.ts';
import { every } from '../../src/io/periodic-timer.ts';
import { realClock } from '../../src/io/real/real-clock.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { withTimeout } from '../helpers/timeout.ts';

test('manual clock: timers fire once, in due order then in the order set, never early', () => {
  const clock = new ManualClock(1000);
  const fired: string[] = [];
  clock.setTimer(20, () => fired.push(`b@${clock.now()}`));
  clock.setTimer(10, () => fired.push(`a@${clock.now()}`));
  clock.setTimer(20, () => fired.push(`c@${clock.now()}`));
  clock.setTimer(0, () => fired.push(`zero@${clock.now()}`));
  assert.deepEqual(fired, [], 'nothing fires inside setTimer');
  clock.advance(9);
  assert.deepEqual(fired, ['zero@1000']);
  clock.advance(11);
  assert.deepEqual(fired, ['zero@1000', 'a@1010', 'b@1020', 'c@1020']);
  assert.equal(clock.now(), 1020);
  clock.advance(100);
  assert.equal(fired.length, 4, 'a timer fires only once');
  assert.equal(clock.pendingTimers(), 0);
});

test('manual clock: a cleared timer never fires, clearing twice or after firing is a no-op', () => {
  const clock = new ManualClock();
  const fired: number[] = [];
  const a = clock.setTimer(5, () => fired.push(1));
  const b = clock.setTimer(5, () => fired.push(2));
  clock.clearTimer(a);
  clock.clearTimer(a);
  assert.equal(clock.pendingTimers(), 1);
  clock.advance(5);
  clock.clearTimer(b);
  assert.deepEqual(fired, [2]);
  // A timer that clears another one due at the same moment stops it.
  let late: unknown;
  clock.setTimer(1, () => clock.clearTimer(late));
  late = clock.setTimer(1, () => fired.push(3));
  clock.advance(1);
  assert.deepEqual(fired, [2]);
});

test('manual clock: timers set by timers fire within the same advance when due; runNext jumps to the next one', () => {
  const clock = new ManualClock(0);
  const fired: number[] = [];
  clock.setTimer(3, () => {
    fired.push(clock.now());
    clock.setTimer(3, () => fired.push(clock.now()));
  });
  clock.advance(10);
  assert.deepEqual(fired, [3, 6]);
  clock.setTimer(100, () => fired.push(clock.now()));
  assert.equal(clock.runNext(), true);
  assert.deepEqual(fired, [3, 6, 110]);
  assert.equal(clock.runNext(), false);
  assert.equal(clock.now(), 110);
});

test('periodic timer: runs every interval, catches up run by run, and a run may cancel it', () => {
  const clock = new ManualClock(0);
  const runs: number[] = [];
  const timer = every(clock, 10, () => {
    runs.push(clock.now());
    if (runs.length === 4) timer.cancel();
  });
  clock.advance(9);
  assert.deepEqual(runs, []);
  clock.advance(21);
  assert.deepEqual(runs, [10, 20, 30]);
  clock.advance(100);
  assert.deepEqual(runs, [10, 20, 30, 40]);
  assert.equal(clock.pendingTimers(), 0, 'a cancelled periodic timer leaves nothing pending');
  assert.throws(() => every(clock, 0, () => {}), /interval must be positive/);
});

test('real clock: now is the wall clock, timers fire after their delay and not once cleared', async () => {
  const clock: Clock = realClock;
  const before = Date.now();
  assert.ok(Math.abs(clock.now() - before) < 1000);
  let cleared = false;
  clock.clearTimer(clock.setTimer(1, () => (cleared = true)));
  const startedMs = performance.now();
  const firedAfterMs = await withTimeout(
    new Promise<number>((resolve) => clock.setTimer(20, () => resolve(performance.now() - startedMs))),
    5000,
    'real timer did not fire',
  );
  // Node's timers may fire up to a millisecond early when measured with another clock.
  assert.ok(firedAfterMs >= 19, `fired after ${firedAfterMs} ms`);
  assert.equal(cleared, false);
});

test('real clock: a pending timer does not keep the process alive', () => {
  const handle = realClock.setTimer(60_000, () => assert.fail('must have been cleared'));
  try {
    assert.equal((handle as NodeJS.Timeout).hasRef(), false);
  } finally {
    realClock.clearTimer(handle);
  }
});
