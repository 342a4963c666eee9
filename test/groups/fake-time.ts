// A hand-driven clock and scheduler for deterministic coordinator tests: time moves only in advance(),
// which fires due timers in (due time, creation order), including timers they set themselves.
import assert from 'node:assert/strict';
import type { Clock, Scheduler, TimerHandle } from '../../src/groups/timer.ts';

interface FakeTimer {
  readonly id: number;
  readonly dueMs: number;
  readonly fn: () => void;
}

export class FakeTime implements Clock, Scheduler {
  private nowMs: number;
  private nextId = 1;
  private readonly timers = new Map<number, FakeTimer>();

  constructor(startMs = 1_700_000_000_000) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    assert.ok(Number.isFinite(delayMs) && delayMs >= 0, `bad timer delay ${delayMs}`);
    const id = this.nextId++;
    this.timers.set(id, { id, dueMs: this.nowMs + delayMs, fn });
    return id;
  }

  clearTimer(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way in order. */
  advance(ms: number): void {
    assert.ok(ms >= 0);
    const targetMs = this.nowMs + ms;
    for (let fired = 0; ; fired++) {
      assert.ok(fired < 1_000_000, 'timer storm: more than a million timers fired in one advance');
      let next: FakeTimer | undefined;
      for (const t of this.timers.values()) {
        if (t.dueMs > targetMs) continue;
        if (next === undefined || t.dueMs < next.dueMs || (t.dueMs === next.dueMs && t.id < next.id)) next = t;
      }
      if (next === undefined) break;
      this.timers.delete(next.id);
      this.nowMs = Math.max(this.nowMs, next.dueMs);
      next.fn();
    }
    this.nowMs = targetMs;
  }
}
