/** The wall clock and unref'd interval timers (a pending timer never keeps the process alive). */
import type { Clock } from '../clock.ts';

export const realClock: Clock = {
  now: () => Date.now(),
  every(intervalMs, fn) {
    const t = setInterval(fn, intervalMs);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};
