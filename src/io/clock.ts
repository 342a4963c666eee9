/**
 * Time and timers, injected so that storage, the group coordinator and the Raft driver run the same
 * code under the real clock (io/real/real-clock.ts) and under a hand-driven one in tests and the
 * simulator, where every session expiry, sync interval and election replays exactly.
 */

/** An opaque handle returned by `setTimer`; only ever passed back to `clearTimer`. */
export type TimerHandle = unknown;

export interface Clock {
  /**
   * Wall-clock milliseconds since the Unix epoch (record timestamps, retention, segment age, group
   * deadlines). A hand-driven clock never goes backwards; the real one is the system clock, which
   * an operator or NTP may step, so callers compare times but never assert that they increase.
   */
  now(): number;

  /**
   * A one-shot timer. Contract: `fn` runs once, no earlier than `delayMs` after `setTimer` by this
   * clock, never synchronously inside `setTimer`, and never after `clearTimer` for its handle.
   * Timers due at the same time fire in the order they were set. A pending timer never keeps the
   * process alive (the real clock unrefs it). `fn` must not throw.
   */
  setTimer(delayMs: number, fn: () => void): TimerHandle;

  /** Cancels a timer. A handle that already fired or was cleared is a no-op. */
  clearTimer(handle: TimerHandle): void;
}
