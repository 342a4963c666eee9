/** The system wall clock and real one-shot timers, unref'd so that a pending timer never keeps the process alive. */
import type { Clock } from '../clock.ts';

export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fn) {
    const t = setTimeout(fn, delayMs);
    t.unref();
    return t;
  },
  clearTimer(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
