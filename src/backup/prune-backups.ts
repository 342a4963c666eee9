/**
 * `streambus backup prune`: removes the backups planPrune (prune-plan.ts) lets go, holding the backup
 * folder's lock so that no create plans an incremental backup on a parent being removed.
 */
import { join, resolve } from 'node:path';
import type { Disk } from '../io/disk.ts';
import { backupsNeeded } from './manifest.ts';
import { listBackups, type LockDirectory } from './backup-folder.ts';
import { planPrune, type PrunePlan } from './prune-plan.ts';

export interface PruneOptions {
  readonly backupDir: string;
  readonly keepDays: number;
  readonly nowMs: number;
  /** Plan only: remove nothing. */
  readonly dryRun: boolean;
  readonly lock: LockDirectory;
}

export async function pruneBackups(disk: Disk, options: PruneOptions): Promise<PrunePlan> {
  const dir = resolve(options.backupDir);
  const lock = options.lock(dir, `backup folder ${dir} is in use by another backup`, 'wait for it to finish');
  try {
    const entries = await listBackups(disk, dir);
    const plan = planPrune(
      entries.map((e) => ({
        id: e.id,
        createdAtMs: e.createdAtMs,
        complete: e.manifest !== null,
        needs: e.manifest === null ? [] : backupsNeeded(e.manifest).filter((id) => id !== e.id),
      })),
      options.nowMs,
      options.keepDays * 24 * 60 * 60 * 1000,
    );
    if (!options.dryRun) {
      const folders = new Map(entries.map((e) => [e.id, e.folder]));
      for (const id of plan.remove) await disk.removeDir(join(dir, folders.get(id)!));
      if (plan.remove.length > 0) await disk.syncDir(dir);
    }
    return plan;
  } finally {
    lock.release();
  }
}
