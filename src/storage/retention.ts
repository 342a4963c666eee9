/**
 * Retention by time and size: which of the oldest segments to delete. Only whole, closed segments
 * go, oldest first, and never the active one (the log deletes them: renamed away, then unlinked).
 * Pure, so that it is tested without files.
 */
import { assert } from '../util/assert.ts';

export interface RetentionCandidate {
  readonly sizeBytes: number;
  /** Greatest batch timestamp in the segment (-1 when empty). */
  readonly maxTimestamp: number;
  /** Closed (no longer the active segment). */
  readonly sealed: boolean;
}

/**
 * How many leading segments to delete: a segment goes when its newest batch is older than
 * `retentionMs` (unless -1), or while the log without it would still be at least `retentionBytes`
 * (unless -1). Stops at the first segment that stays, and at the active segment.
 */
export function segmentsToDelete(segments: readonly RetentionCandidate[], nowMs: number, retentionMs: number, retentionBytes: number): number {
  assert(retentionMs === -1 || retentionMs >= 0, 'retentionMs must be -1 or non-negative');
  assert(retentionBytes === -1 || retentionBytes >= 0, 'retentionBytes must be -1 or non-negative');
  let total = 0;
  for (const s of segments) total += s.sizeBytes;
  let n = 0;
  for (; n < segments.length - 1; n++) {
    const s = segments[n]!;
    if (!s.sealed) break;
    const expired = retentionMs >= 0 && s.maxTimestamp >= 0 && nowMs - s.maxTimestamp > retentionMs;
    const oversize = retentionBytes >= 0 && total - s.sizeBytes >= retentionBytes;
    if (!expired && !oversize) break;
    total -= s.sizeBytes;
  }
  return n;
}
