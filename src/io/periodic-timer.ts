/**
 * Periodic timers built on the Clock's one-shot ones, so that a clock implements a single kind of
 * timer and periodic work (sync intervals, Raft ticks, log maintenance) replays under a hand-driven
 * clock exactly as one-shot work does.
 */
import type { Clock, TimerHandle } from './clock.ts';
import { assert } from '../util/assert.ts';

export interface PeriodicTimer {
  /** Stops the timer: `fn` does not run again, even when a run was due. Idempotent. */
  cancel(): void;
}

/**
 * Calls `fn` every `intervalMs`, the first time `intervalMs` from now, until cancelled. The next run
 * is armed before `fn` runs, so `fn` may cancel it. Runs do not catch up: a late run is followed by
 * the next one `intervalMs` after it. `fn` must not throw.
 */
export function every(clock: Clock, intervalMs: number, fn: () => void): PeriodicTimer {
  assert(Number.isFinite(intervalMs) && intervalMs > 0, `periodic timer interval must be positive, got ${intervalMs}`);
  let cancelled = false;
  let handle: TimerHandle;
  const arm = (): void => {
    handle = clock.setTimer(intervalMs, () => {
      if (cancelled) return;
      arm();
      fn();
    });
  };
  arm();
  return {
    cancel() {
      cancelled = true;
      clock.clearTimer(handle);
    },
  };
}
