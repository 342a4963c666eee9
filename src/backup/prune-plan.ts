/**
 * Retention of backups (pure): which backup folders `streambus backup prune --keep-days N` removes.
 *
 * Kept: every complete backup created within the last N days, the newest complete backup whatever
 * its age (pruning never leaves a broker without a backup), and every backup whose files a kept one
 * still reads (an incremental backup's sealed segments may be stored in the full backup of its chain
 * or in an earlier incremental one). Because a manifest names, for each file, the backup that holds
 * its bytes, "needs" is already closed: no walk up the chain is required.
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
  const keep = new Set<string>();
  for (const b of complete) {
    if (b.createdAtMs >= cutoffMs || b === newest) {
      keep.add(b.id);
      for (const id of b.needs) keep.add(id);
    }
  }
  for (const b of backups) if (!b.complete && (newest === null || b.id > newest.id)) keep.add(b.id);
  const sorted = [...backups].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    keep: sorted.filter((b) => keep.has(b.id)).map((b) => b.id),
    remove: sorted.filter((b) => !keep.has(b.id)).map((b) => b.id),
  };
}
