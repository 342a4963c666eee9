/**
 * Time, injected so that storage and the broker can run under a simulated clock. The real clock
 * lives in io/real/real-clock.ts.
 */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (record timestamps, retention, segment age). */
  now(): number;
  /**
   * Calls `fn` every `intervalMs` until cancelled. The real clock's timers do not keep the process
   * alive. `fn` must not throw.
   */
  every(intervalMs: number, fn: () => void): { cancel(): void };
}
