/**
 * `streambus restore`: writes one backup (by default the newest complete one) into an empty
 * storage.dataDir (and storage.raftDir), for a broker that is not running.
 *
 * 1. Takes the data directory's lock, the one a broker takes at start: a running broker makes the
 *    restore refuse, and a broker started during the restore refuses to start.
 * 2. Refuses a data directory (or raft directory) that holds anything: restore never merges a backup
 *    into existing logs, and never deletes anything.
 * 3. Checks every file it will write (verify-backup.ts): a backup with any problem is refused before
 *    a byte is written.
 * 4. Copies the files, fsyncs each and every folder, and releases the lock. The configuration and
 *    TLS files are not written back: they stay in the backup for the operator (docs/backup.md).
 *
 * The restored broker opens every partition as after a crash: it scans and CRC-checks every batch,
 * rebuilds the indexes, and reconciles the Raft index with the segments (cutting what a running
 * broker had written but not yet indexed when the backup read it).
 */
import { join, relative, resolve } from 'node:path';
import type { Disk } from '../io/disk.ts';
import { StreamBusError } from '../util/errors.ts';
import { backupToRestore, completeBackups, listBackups, storedPath, type LockDirectory } from './backup-folder.ts';
import { isInside, isNotFound, readInChunks, writeNewFile } from './file-copy.ts';
import type { Manifest, ManifestFile } from './manifest.ts';
import { checkManifests } from './verify-backup.ts';

export interface RestoreOptions {
  readonly backupDir: string;
  /** The backup to restore; the newest complete one when absent. */
  readonly id?: string;
  readonly dataDir: string;
  readonly raftDir: string;
  readonly lock: LockDirectory;
  readonly onProgress?: (phase: 'verify' | 'copy', done: number, total: number) => void;
}

export interface RestoreResult {
  readonly manifest: Manifest;
  readonly files: number;
  readonly bytes: number;
  /** Where the backup keeps the configuration and TLS files (not restored), with their original paths. */
  readonly configFiles: { readonly original: string; readonly stored: string }[];
}

const LOCK_FILE_NAME = '.lock';

export async function restoreBackup(disk: Disk, options: RestoreOptions): Promise<RestoreResult> {
  const backupDir = resolve(options.backupDir);
  const dataDir = resolve(options.dataDir);
  const raftDir = resolve(options.raftDir);
  const manifest = backupToRestore(await listBackups(disk, backupDir), backupDir, options.id);
  const lock = options.lock(dataDir, `data directory ${dataDir} is in use by a running broker`, 'stop the broker before restoring');
  try {
    await refuseUnlessEmpty(disk, dataDir, [LOCK_FILE_NAME]);
    if (raftDir !== dataDir && !isInside(dataDir, raftDir)) await refuseUnlessEmpty(disk, raftDir, []);
    const present = new Set(completeBackups(await listBackups(disk, backupDir)).map((m) => m.id));
    const checked = await checkManifests(disk, backupDir, [manifest], present, (done, total) => options.onProgress?.('verify', done, total));
    if (checked.problems.length > 0) {
      const shown = checked.problems.slice(0, 5).map((p) => `${p.backup}/${p.path}: ${p.problem}`).join('; ');
      throw new StreamBusError('SB_ERR_CORRUPT', `backup ${manifest.id} failed verification, nothing was restored (${checked.problems.length} problem(s): ${shown})`);
    }
    const targets = manifest.files.filter((f) => f.kind !== 'config').map((f) => ({ file: f, target: targetOf(manifest, f, dataDir, raftDir) }));
    const folders = new Set<string>([dataDir]);
    let bytes = 0;
    for (let i = 0; i < targets.length; i++) {
      const { file, target } = targets[i]!;
      const written = await writeNewFile(disk, target, async (append) => {
        await readInChunks(disk, storedPath(backupDir, file.storedIn, file.path), append);
      });
      if (written.bytes !== file.bytes || written.crc32c !== file.crc32c) {
        throw new StreamBusError('SB_ERR_CORRUPT', `${storedPath(backupDir, file.storedIn, file.path)} changed while it was restored (the restored data directory is incomplete: empty it and restore again)`);
      }
      for (let f = join(target, '..'); isInside(dataDir, f) || isInside(raftDir, f); f = join(f, '..')) {
        folders.add(f);
        if (f === dataDir || f === raftDir) break;
      }
      bytes += written.bytes;
      options.onProgress?.('copy', i + 1, targets.length);
    }
    for (const folder of [...folders].sort((a, b) => b.length - a.length)) await disk.syncDir(folder);
    const configFiles = manifest.files
      .filter((f) => f.kind === 'config')
      .map((f) => ({ original: '/' + f.path.slice('config/'.length), stored: storedPath(backupDir, f.storedIn, f.path) }));
    return { manifest, files: targets.length, bytes, configFiles };
  } finally {
    lock.release();
  }
}


async function refuseUnlessEmpty(disk: Disk, dir: string, ignored: readonly string[]): Promise<void> {
  let names: string[];
  try {
    names = await disk.readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  const found = names.filter((n) => !ignored.includes(n));
  if (found.length > 0) {
    throw new StreamBusError('SB_ERR_BACKUP', `${dir} is not empty (${found.slice(0, 3).join(', ')}${found.length > 3 ? ', ...' : ''}): restore writes only into an empty directory`);
  }
}

/**
 * Where a file goes: `data/...` under dataDir, `raft/...` under raftDir. When the backed-up broker kept
 * its raftDir inside its dataDir (the default, `<dataDir>/raft`), those files go to this raftDir too.
 */
export function targetOf(manifest: Manifest, file: ManifestFile, dataDir: string, raftDir: string): string {
  const [root, ...rest] = file.path.split('/');
  if (root === 'raft') return join(raftDir, ...rest);
  const raftRel = relative(manifest.source.dataDir, manifest.source.raftDir).split(/[\\/]/).join('/');
  const raftInside = raftRel !== '' && isInside(manifest.source.dataDir, manifest.source.raftDir);
  const inData = rest.join('/');
  if (raftInside && inData.startsWith(raftRel + '/')) return join(raftDir, ...inData.slice(raftRel.length + 1).split('/'));
  return join(dataDir, ...rest);
}
