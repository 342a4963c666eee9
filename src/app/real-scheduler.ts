/** Timers for the group coordinator: real setTimeout, unref'd so they never keep the process alive. */
import type { Scheduler } from '../groups/timer.ts';

export const realScheduler: Scheduler = {
  setTimer(delayMs, fn) {
    const t = setTimeout(fn, delayMs);
    t.unref();
    return t;
  },
  clearTimer(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
