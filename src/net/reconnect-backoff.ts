/**
 * Delays between attempts to dial a peer: capped exponential backoff with jitter. The delay doubles with
 * each failure so a peer that is down or refusing is not hammered, stops at a small cap so a restarted
 * peer is reached again soon (the dialer is the only side that reconnects), and is drawn from the upper
 * half of its range so brokers that lost the same peer do not redial it in lockstep.
 */
import { assert } from '../util/assert.ts';

/** The delay before the next attempt after `failures` failed ones (0: after a connection was lost). */
export function reconnectDelayMs(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  assert(Number.isInteger(failures) && failures >= 0, 'failures must be a non-negative integer');
  assert(baseMs > 0 && baseMs <= maxMs, 'backoff needs 0 < baseMs <= maxMs');
  // 2 ** 30 already exceeds any sensible cap; limiting the exponent keeps the product finite.
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(failures, 30));
  const draw = random();
  assert(draw >= 0 && draw < 1, 'random() must be in [0, 1)');
  return Math.round(ceiling / 2 + (ceiling / 2) * draw);
}
