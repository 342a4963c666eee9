/**
 * Waiting on an injected Clock: a pause, and a deadline raced against work. Request handlers use
 * these rather than the global timers, so a hand-driven clock moves their timeouts too.
 */
import type { Clock, TimerHandle } from './clock.ts';

/** What raceDeadline resolves with when the deadline came first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/** Resolves after `ms` by `clock`. */
export function pause(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => void clock.setTimer(ms, resolve));
}

/**
 * `work`'s value, or TIMED_OUT when `ms` pass first; rejects when `work` rejects first. After a
 * timeout nobody awaits `work`, so its later failure is swallowed here rather than reported as an
 * unhandled rejection. The timer is cleared either way.
 */
export async function raceDeadline<T>(clock: Clock, ms: number, work: Promise<T>): Promise<T | typeof TIMED_OUT> {
  work.catch(() => undefined);
  let timer: TimerHandle | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => (timer = clock.setTimer(ms, () => resolve(TIMED_OUT))));
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clock.clearTimer(timer);
  }
}
