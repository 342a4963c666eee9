/**
 * Retention of backups (pure): which backup folders `streambus backup prune --keep-days N` removes.
 *
 * Kept: every complete backup created within the last N days, the newest complete backup whatever
 * its age (pruning never leaves a broker without a backup), and every backup whose files a kept one
 * still reads (an incremental backup's sealed segments may be stored in the full backup of its chain
 * or in an earlier incremental one), and so on: every backup left is restorable on its own.
 * Removed: every other complete backup, and unfinished ones (no manifest: a run that crashed or was
 * stopped) older than the newest complete backup; a newer unfinished one may still be running.
 */
export interface BackupEntry {
  readonly id: string;
  readonly createdAtMs: number;
  /** Whether its manifest was written. */
  readonly complete: boolean;
  /** Ids of the backups holding bytes of its files, itself excluded (empty when incomplete). */
  readonly needs: readonly string[];
}

export interface PrunePlan {
  readonly keep: string[];
  readonly remove: string[];
}

export function planPrune(backups: readonly BackupEntry[], nowMs: number, keepMs: number): PrunePlan {
  const cutoffMs = nowMs - keepMs;
  const complete = backups.filter((b) => b.complete);
  const newest = complete.reduce<BackupEntry | null>((a, b) => (a === null || b.id > a.id ? b : a), null);
  const byId = new Map(backups.map((b) => [b.id, b]));
  const keep = new Set<string>();
  const pending = complete.filter((b) => b.createdAtMs >= cutoffMs || b === newest).map((b) => b.id);
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (keep.has(id)) continue;
    keep.add(id);
    pending.push(...(byId.get(id)?.needs ?? []));
  }
  for (const b of backups) if (!b.complete && (newest === null || b.id > newest.id)) keep.add(b.id);
  const sorted = [...backups].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    keep: sorted.filter((b) => keep.has(b.id)).map((b) => b.id),
    remove: sorted.filter((b) => !keep.has(b.id)).map((b) => b.id),
  };
}
