/**
 * A token bucket of bytes per second, shared by every partition group a broker leads, for the appends
 * they send to learners (RaftConfig.learnerSendBudget): replicas being added by moves, balancing and
 * decommissioning catch up at most this fast together, so the copies leave the disks and network to
 * clients. It may go into debt by one message, so a message larger than a second's worth still goes.
 */
import type { SendBudget } from '../raft/index.ts';

export class ByteRateBudget implements SendBudget {
  private tokens: number;
  private last: number;
  /** Bytes taken since start (sent to learners). */
  taken = 0;
  /** Sends refused for want of allowance (each retried at a later tick). */
  refused = 0;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly now: () => number,
  ) {
    this.tokens = bytesPerSecond;
    this.last = now();
  }

  take(bytes: number): boolean {
    const now = this.now();
    // A second's worth at most: an idle budget does not save up a burst.
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000);
    this.last = now;
    if (this.tokens <= 0) {
      this.refused++;
      return false;
    }
    this.tokens -= bytes;
    this.taken += bytes;
    return true;
  }
}
