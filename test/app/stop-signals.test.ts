// Goal: the signal rules of a running broker: the first SIGTERM/SIGINT starts a graceful stop and the
// exit code is 0 when it finishes (1 when it fails); past the timeout the process exits 1; a second
// signal exits 1 at once, without waiting for the stop. Method: stopOnSignals with a stop promise
// controlled by the test, a recorded exit and a hand-fired timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { stopOnSignals } from '../../src/app/stop-signals.ts';

const log = pino({ level: 'silent' });

function harness(stop: () => Promise<void>) {
  const exits: number[] = [];
  let timer: (() => void) | null = null;
  const { onSignal, stopped } = stopOnSignals({ stop, timeoutMs: 10_000, log, exit: (c) => exits.push(c), setTimer: (fn) => ((timer = fn), {}) });
  return { onSignal, stopped, exits, fireTimer: () => timer?.() };
}

test('one signal: graceful stop, exit code 0 once it finishes', async () => {
  let finish!: () => void;
  const h = harness(() => new Promise<void>((r) => (finish = r)));
  h.onSignal('SIGTERM');
  assert.deepEqual(h.exits, []);
  finish();
  assert.equal(await h.stopped, 0);
  assert.deepEqual(h.exits, []);
});

test('a failing stop ends with exit code 1', async () => {
  const h = harness(() => Promise.reject(new Error('disk gone')));
  h.onSignal('SIGINT');
  assert.equal(await h.stopped, 1);
});

test('a second signal exits at once; a stop past the timeout exits 1', () => {
  const h = harness(() => new Promise<void>(() => undefined));
  h.onSignal('SIGTERM');
  h.onSignal('SIGTERM');
  assert.deepEqual(h.exits, [1]);
  const t = harness(() => new Promise<void>(() => undefined));
  t.onSignal('SIGINT');
  t.fireTimer();
  assert.deepEqual(t.exits, [1]);
});
