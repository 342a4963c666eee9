/**
 * The backup folder (a mounted backup volume, one folder per broker):
 *
 *   <dir>/.lock                              held while a create or prune runs
 *   <dir>/<id>.partial/                      a backup being written (or abandoned by a crash)
 *   <dir>/<id>/manifest.json                 a complete backup (manifest.ts)
 *   <dir>/<id>/files/<path>                  the bytes of the files it copied
 *
 * A backup is written under `<id>.partial`, its manifest last, and renamed to `<id>` once everything
 * in it is durable: a folder named by a bare id is complete, whatever happened to the process.
 */
import { join } from 'node:path';
import type { Disk } from '../io/disk.ts';
import { StreamBusError } from '../util/errors.ts';
import { backupIdTimeMs, decodeManifest, FILES_DIR_NAME, isBackupId, MANIFEST_FILE_NAME, type Manifest } from './manifest.ts';
import { isNotFound } from './file-copy.ts';

export const PARTIAL_SUFFIX = '.partial';

/** Takes an exclusive lock on a folder (app/data-dir-lock.ts, handed in by the composition root). */
export type LockDirectory = (dir: string, inUse: string, hint: string) => { release(): void };

export interface BackupFolderEntry {
  readonly id: string;
  /** The folder's name in the backup folder (`<id>` or `<id>.partial`). */
  readonly folder: string;
  readonly createdAtMs: number;
  /** The manifest of a complete backup; null for an unfinished one. */
  readonly manifest: Manifest | null;
}

/** Every backup in `dir` (none when it does not exist), oldest first; a damaged manifest is SB_ERR_BACKUP. */
export async function listBackups(disk: Disk, dir: string): Promise<BackupFolderEntry[]> {
  let names: string[];
  try {
    names = await disk.readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const out: BackupFolderEntry[] = [];
  for (const name of names) {
    if (name.endsWith(PARTIAL_SUFFIX) && isBackupId(name.slice(0, -PARTIAL_SUFFIX.length))) {
      const id = name.slice(0, -PARTIAL_SUFFIX.length);
      out.push({ id, folder: name, createdAtMs: backupIdTimeMs(id), manifest: null });
      continue;
    }
    if (!isBackupId(name)) continue;
    const path = join(dir, name, MANIFEST_FILE_NAME);
    const text = await disk.readFile(path);
    if (text === undefined) throw new StreamBusError('SB_ERR_BACKUP', `${join(dir, name)} has no ${MANIFEST_FILE_NAME}: a backup folder that was changed by hand`);
    const manifest = decodeManifest(text.toString('utf8'), path);
    if (manifest.id !== name) throw new StreamBusError('SB_ERR_BACKUP', `${path} names backup ${manifest.id}, not ${name}`);
    out.push({ id: name, folder: name, createdAtMs: backupIdTimeMs(name), manifest });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The complete backups of a listing, oldest first. */
export function completeBackups(entries: readonly BackupFolderEntry[]): Manifest[] {
  return entries.flatMap((e) => (e.manifest === null ? [] : [e.manifest]));
}

/** The backup `id` (or the newest complete one), and every backup it reads, all present; else SB_ERR_BACKUP. */
export function backupToRestore(entries: readonly BackupFolderEntry[], dir: string, id?: string): Manifest {
  const complete = completeBackups(entries);
  const chosen = id === undefined ? complete[complete.length - 1] : complete.find((m) => m.id === id);
  if (chosen === undefined) throw new StreamBusError('SB_ERR_BACKUP', id === undefined ? `${dir} holds no complete backup` : `${dir} holds no complete backup ${id}`);
  const present = new Set(complete.map((m) => m.id));
  for (const f of chosen.files) {
    if (!present.has(f.storedIn)) throw new StreamBusError('SB_ERR_BACKUP', `backup ${chosen.id} needs ${f.path} from backup ${f.storedIn}, which is not in ${dir} (removed by hand?)`);
  }
  return chosen;
}

/** Where the bytes of a manifest file lie. */
export function storedPath(dir: string, storedIn: string, path: string): string {
  return join(dir, storedIn, FILES_DIR_NAME, ...path.split('/'));
}
