import { assert } from '../util/assert.ts';
import { Inflights } from './inflights.ts';

/**
 * What a leader knows about one follower's log (paper: nextIndex and matchIndex), and how it
 * sends to it:
 * - `probe`: the leader does not know where the logs diverge; it sends one append at a time and
 *   waits for the answer (or the next heartbeat response) before sending again.
 * - `replicate`: the logs match up to `match`; the leader streams appends optimistically
 *   (pipelining), advancing `next` at send time, bounded by the in-flight limits.
 * - `snapshot`: the follower needs entries the leader compacted; a snapshot is on its way and
 *   nothing else is sent until it is acknowledged, reported failed, or times out.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** The snapshot index being sent while in `snapshot` state. */
  pendingSnapshot = 0;
  /** Ticks spent in `snapshot` state without an answer. */
  snapshotTicks = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** In probe state: an append is outstanding, wait for an answer before the next. */
  probeSent = false;
  /**
   * Ticks since the outstanding probe was sent, counted (RaftConfig.probeRetryTicks) only when it is an
   * append; -1 while the probe is a delivered snapshot, whose answer comes once it is installed.
   */
  probeSentTicks = -1;
  /**
   * A heartbeat answer arrived while the follower still lacks entries. The appends that would
   * bring them (or their acknowledgements) may have been lost, and the leader would otherwise wait
   * forever. So, unless something else goes to that follower anyway, the leader sends one empty
   * append at `next - 1`: in replicate state outside the window (its acknowledgement frees the
   * window, its rejection falls back to probing); in probe state as the retried probe.
   */
  probeDue = false;
  /** The leader's commit index last sent to this follower, to know when an empty append is worth sending. */
  sentCommit = 0;
  isLearner: boolean;
  readonly inflights: Inflights;

  constructor(next: number, isLearner: boolean, maxInflightCount: number, maxInflightBytes: number) {
    assert(next >= 1, 'next index starts at 1');
    this.next = next;
    this.isLearner = isLearner;
    this.inflights = new Inflights(maxInflightCount, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.probeSentTicks = -1;
    this.probeDue = false;
    this.pendingSnapshot = 0;
    this.snapshotTicks = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** Forgets what the follower acknowledged (it may have lost it): probe again from `next`. */
  forget(next: number): void {
    assert(next >= 1, 'next index starts at 1');
    this.match = 0;
    this.next = next;
    this.sentCommit = 0;
    this.resetState('probe');
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      // Resume after the snapshot if the follower has it, else just after what is known to match.
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** Records that the follower's log matches up to `index`; returns whether that is news. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    if (this.next < index + 1) this.next = index + 1;
    return updated;
  }

  /** Bookkeeping after sending an append carrying `count` entries ending at `lastIndex`, of `bytes` bytes. */
  sentEntries(count: number, lastIndex: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
      this.probeSentTicks = 0;
    } else {
      assert(false, 'no appends are sent to a follower receiving a snapshot');
    }
  }

  /**
   * Handles a rejected append for `rejected` (its previous index) with the follower's hint that
   * nothing above `matchHint` can match. Returns false when the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In probe state, only the answer to the last probe counts.
    if (this.next - 1 !== rejected) return false;
    // The probe sat at the match index and the follower lacks that entry: it lost what it acknowledged
    // (a replaced disk). Forget the match, or the leader would probe the same index for ever.
    if (rejected === this.match && matchHint < this.match) this.match = matchHint;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Whether sending more appends must wait. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
