// A hand-driven Clock for deterministic tests and the cluster simulator: time moves only in
// advance() or runNext(), which fire due timers in (due time, order set), including timers that
// running timers set themselves. It keeps the Clock contract of src/io/clock.ts: a timer never
// fires inside setTimer, never early, and never after clearTimer.
import assert from 'node:assert/strict';
import type { Clock, TimerHandle } from '../../src/io/clock.ts';
import { EventQueue } from './event-queue.ts';

/** More timers than this firing in one advance() means a timer re-arms itself with no delay. */
const FIRED_PER_ADVANCE_MAX = 1_000_000;

export class ManualClock implements Clock {
  private nowMs: number;
  private nextId = 1;
  /** Pending timers by id; a cleared timer leaves the queue lazily (it is skipped when popped). */
  private readonly timers = new Map<number, () => void>();
  private readonly queue = new EventQueue<number>();

  constructor(startMs = 1_700_000_000_000) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    assert.ok(Number.isFinite(delayMs) && delayMs >= 0, `bad timer delay ${delayMs}`);
    const id = this.nextId++;
    this.timers.set(id, fn);
    this.queue.push(this.nowMs + delayMs, id);
    return id;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    assert.ok(ms >= 0, `cannot move time back by ${-ms} ms`);
    const targetMs = this.nowMs + ms;
    for (let fired = 0; this.fireNext(targetMs); fired++) {
      assert.ok(fired < FIRED_PER_ADVANCE_MAX, 'timer storm: more than a million timers fired in one advance');
    }
    this.nowMs = targetMs;
  }

  /** Jumps to the earliest pending timer and fires it. False when no timer is pending. */
  runNext(): boolean {
    return this.fireNext(Number.POSITIVE_INFINITY);
  }

  /** Fires the earliest pending timer if it is due by `limitMs`, moving time to its due time. */
  private fireNext(limitMs: number): boolean {
    for (;;) {
      const next = this.queue.peek();
      if (next === undefined || next.time > limitMs) return false;
      this.queue.pop();
      const fn = this.timers.get(next.event);
      if (fn === undefined) continue;
      this.timers.delete(next.event);
      this.nowMs = Math.max(this.nowMs, next.time);
      fn();
      return true;
    }
  }
}
