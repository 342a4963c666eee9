/**
 * Time as the coordinator sees it. Both are injected so that tests drive time by hand and every
 * rebalance, session expiry and retention check replays exactly.
 */

/** Wall-clock milliseconds since the Unix epoch. Contract: never goes backwards between two calls. */
export interface Clock {
  now(): number;
}

/** An opaque handle returned by `setTimer`; only ever passed back to `clearTimer`. */
export type TimerHandle = unknown;

/**
 * One-shot timers. Contract: `fn` runs once, no earlier than `delayMs` after `setTimer` by the Clock
 * the coordinator was given, never synchronously inside `setTimer`, and never after `clearTimer`
 * for its handle. `clearTimer` on a handle that already fired or was cleared is a no-op. Timers due
 * at the same time fire in the order they were set. A production scheduler should unref its timers
 * so that they never keep the process alive.
 */
export interface Scheduler {
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}
