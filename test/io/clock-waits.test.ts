// Goal: the waits request handlers use (src/io/clock-waits.ts) follow the injected clock: a pause ends
// when that clock says so, a deadline raced against work gives the work's value, its rejection, or
// TIMED_OUT, clears its timer either way, and a rejection after the deadline is not left unhandled.
// Method: the manual clock driven by hand; promises observed after microtasks settle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pause, raceDeadline, TIMED_OUT } from '../../src/io/clock-waits.ts';
import { ManualClock } from '../helpers/manual-clock.ts';

const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

test('pause ends when the injected clock reaches it, not before', async () => {
  const clock = new ManualClock(0);
  let done = false;
  void pause(clock, 100).then(() => (done = true));
  clock.advance(99);
  await settled();
  assert.equal(done, false);
  clock.advance(1);
  await settled();
  assert.equal(done, true);
});

test('raceDeadline: the work wins before the deadline, and its timer is cleared', async () => {
  const clock = new ManualClock(0);
  const result = raceDeadline(clock, 50, Promise.resolve(7));
  assert.equal(await result, 7);
  assert.equal(clock.pendingTimers(), 0);
});

test('raceDeadline: the deadline wins over slow work; the work failing later is not an unhandled rejection', async () => {
  const clock = new ManualClock(0);
  let fail!: (err: Error) => void;
  const work = new Promise<number>((_, reject) => (fail = reject));
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const result = raceDeadline(clock, 50, work);
    clock.advance(50);
    assert.equal(await result, TIMED_OUT);
    fail(new Error('late failure'));
    await settled();
    await settled();
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('raceDeadline: a rejection before the deadline is passed on and the timer cleared', async () => {
  const clock = new ManualClock(0);
  await assert.rejects(raceDeadline(clock, 50, Promise.reject(new Error('disk full'))), /disk full/);
  assert.equal(clock.pendingTimers(), 0);
});
