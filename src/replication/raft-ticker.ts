/**
 * One periodic timer that ticks many Raft groups. A broker hosts a group per partition replica
 * plus the controller group: one timer for all of them instead of one each, and the groups of a
 * broker tick together, in the order they were (last) added: the multi-raft host takes a quiesced
 * group out and adds it back when it wakes, so idle groups cost nothing per tick. A tick is the unit of the core's election
 * and heartbeat timeouts, so `tickMs` times `electionTicks` is the base election timeout.
 */
import type { Clock } from '../io/clock.ts';
import { every, type PeriodicTimer } from '../io/periodic-timer.ts';
import { assert } from '../util/assert.ts';

export interface Tickable {
  tick(): void;
}

export class RaftTicker {
  private readonly groups = new Set<Tickable>();
  private timer: PeriodicTimer | null = null;

  constructor(
    private readonly clock: Clock,
    readonly tickMs: number,
  ) {
    assert(Number.isSafeInteger(tickMs) && tickMs > 0, `tick interval must be a positive integer, got ${tickMs}`);
  }

  get size(): number {
    return this.groups.size;
  }

  /** Ticks `group` from the next tick on, after the groups added before it. */
  add(group: Tickable): void {
    assert(!this.groups.has(group), 'group is ticked already');
    this.groups.add(group);
  }

  has(group: Tickable): boolean {
    return this.groups.has(group);
  }

  /** Stops ticking `group`, even in the middle of a tick. */
  remove(group: Tickable): void {
    this.groups.delete(group);
  }

  /** Ticks every group each `tickMs`, the first time `tickMs` from now. */
  start(): void {
    assert(this.timer === null, 'ticker started twice');
    this.timer = every(this.clock, this.tickMs, () => {
      for (const group of this.groups) group.tick();
    });
  }

  /** No tick runs after this; start() may be called again. */
  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
