/**
 * `streambus backup create`: one backup of a broker's storage.dataDir, storage.raftDir and its
 * configuration and TLS files into a backup folder, while the broker runs or not. It never takes
 * the data directory's lock (the broker keeps serving); it holds the backup folder's.
 *
 * Order, so that what is copied later is never older than what it depends on (docs/backup.md):
 *   1. the configuration and TLS files;
 *   2. storage.raftDir when it lies outside storage.dataDir (the controller log before its snapshots);
 *   3. storage.dataDir: its files (identity, the solo broker's cluster-metadata.json, the partition
 *      groups' hard states), then its other folders (the controller, when storage.raftDir is inside),
 *      then every partition folder (partition-copy.ts). Metadata is thus read before the partitions it
 *      describes: a topic created meanwhile has a folder the restored broker does not know of, and a
 *      topic deleted meanwhile comes back without its folder (empty) rather than the other way round.
 *   4. every folder fsynced, the manifest written durably, the folder renamed from `<id>.partial`
 *      to `<id>`.
 *
 * Incremental (the default once the folder holds a backup of this broker): the newest complete backup
 * is the parent, and sealed segments unchanged since it are not copied again (chain-plan.ts).
 */
import { join, relative, resolve } from 'node:path';
import type { Disk } from '../io/disk.ts';
import { StreamBusError } from '../util/errors.ts';
import { parsePartitionDirName } from '../storage/file-names.ts';
import { backupId, encodeManifest, MANIFEST_FILE_NAME, MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest, type ManifestFile } from './manifest.ts';
import { chooseParent, reusableFiles } from './chain-plan.ts';
import { completeBackups, listBackups, PARTIAL_SUFFIX, type LockDirectory } from './backup-folder.ts';
import { BackupWriter, type CopyTotals } from './backup-writer.ts';
import { copyPartition } from './partition-copy.ts';
import { folderEntries, isInside } from './file-copy.ts';
import { readOrder, sourceFileKind } from './file-kinds.ts';

export interface CreateBackupOptions {
  readonly backupDir: string;
  readonly dataDir: string;
  readonly raftDir: string;
  readonly brokerId: number;
  /** The configuration file, or null when the broker runs on the embedded defaults and the environment. */
  readonly configFile: string | null;
  /** Files the configuration names (TLS certificate, key, CA, JWT keys), absolute or relative to the working directory. */
  readonly configFiles: readonly string[];
  /** Force a full backup even when the folder holds a chain. */
  readonly full: boolean;
  readonly version: string;
  readonly now: () => Date;
  readonly lock: LockDirectory;
  /** Called after each partition. */
  readonly onProgress?: (progress: { partitionsDone: number; partitionsTotal: number; totals: CopyTotals }) => void;
}

export interface CreateBackupResult {
  readonly manifest: Manifest;
  readonly totals: CopyTotals;
  readonly partitions: number;
  /** Partition folders that vanished while the backup ran (deleted topics). */
  readonly vanishedPartitions: string[];
}


export async function createBackup(disk: Disk, options: CreateBackupOptions): Promise<CreateBackupResult> {
  const backupDir = resolve(options.backupDir);
  const dataDir = resolve(options.dataDir);
  const raftDir = resolve(options.raftDir);
  if (isInside(dataDir, backupDir) || isInside(raftDir, backupDir)) {
    throw new StreamBusError('SB_ERR_BACKUP', `the backup folder ${backupDir} lies inside the broker's storage; put backups on another volume`);
  }
  if ((await folderEntries(disk, dataDir).catch(() => null)) === null) {
    throw new StreamBusError('SB_ERR_BACKUP', `storage.dataDir ${dataDir} is not a readable folder: nothing to back up`);
  }
  await disk.mkdir(backupDir);
  const lock = options.lock(backupDir, `backup folder ${backupDir} is in use by another backup`, 'wait for it to finish');
  try {
    return await createLocked(disk, options, backupDir, dataDir, raftDir);
  } finally {
    lock.release();
  }
}

async function createLocked(disk: Disk, options: CreateBackupOptions, backupDir: string, dataDir: string, raftDir: string): Promise<CreateBackupResult> {
  const existing = completeBackups(await listBackups(disk, backupDir));
  const parent = options.full ? null : chooseParent(existing);
  const newest = chooseParent(existing);
  if (newest !== null && (newest.source.brokerId !== options.brokerId || resolve(newest.source.dataDir) !== dataDir)) {
    throw new StreamBusError(
      'SB_ERR_BACKUP',
      `${backupDir} holds backups of broker ${newest.source.brokerId} (${newest.source.dataDir}), not of broker ${options.brokerId} (${dataDir}): give each broker its own backup folder`,
    );
  }
  const createdAt = options.now();
  const id = backupId(createdAt, parent === null ? 'full' : 'incremental');
  if (newest !== null && id <= newest.id) throw new StreamBusError('SB_ERR_BACKUP', `the clock reads ${createdAt.toISOString()}, before the newest backup ${newest.id}`);
  const workDir = join(backupDir, id + PARTIAL_SUFFIX);
  await disk.mkdir(workDir);
  const writer = new BackupWriter(disk, workDir, id, reusableFiles(parent));
  const files: ManifestFile[] = [];

  const configPaths = [...new Set([...(options.configFile === null ? [] : [options.configFile]), ...options.configFiles].map((p) => resolve(p)))];
  for (const path of configPaths) {
    const bytes = await disk.readFile(path);
    if (bytes === undefined) throw new StreamBusError('SB_ERR_BACKUP', `${path}, named by the configuration, does not exist`);
    files.push(await writer.writeBytes(`config/${relative('/', path).split(/[\\/]/).join('/')}`, 'config', bytes));
  }
  const raftInside = isInside(dataDir, raftDir);
  if (!raftInside) files.push(...(await copyFolder(disk, writer, raftDir, 'raft')));

  const partitions: string[] = [];
  files.push(...(await copyFolder(disk, writer, dataDir, 'data', partitions)));
  const vanishedPartitions: string[] = [];
  for (let i = 0; i < partitions.length; i++) {
    const name = partitions[i]!;
    const copied = await copyPartition(disk, writer, join(dataDir, name), `data/${name}`);
    if (copied === null) vanishedPartitions.push(name);
    else files.push(...copied);
    options.onProgress?.({ partitionsDone: i + 1, partitionsTotal: partitions.length, totals: writer.totals });
  }

  await writer.syncFolders();
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    id,
    kind: parent === null ? 'full' : 'incremental',
    parent: parent?.id ?? null,
    createdAt: createdAt.toISOString(),
    finishedAt: options.now().toISOString(),
    streambusVersion: options.version,
    source: { brokerId: options.brokerId, dataDir, raftDir, configFile: options.configFile === null ? null : resolve(options.configFile) },
    files: files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
  };
  await disk.writeFileDurable(join(workDir, MANIFEST_FILE_NAME), new TextEncoder().encode(encodeManifest(manifest)));
  await disk.rename(workDir, join(backupDir, id));
  await disk.syncDir(backupDir);
  return { manifest, totals: writer.totals, partitions: partitions.length - vanishedPartitions.length, vanishedPartitions };
}

/**
 * Copies a folder and its subfolders, files before subfolders. With `partitions`, subfolders named
 * like partition folders are not copied but collected there (storage.dataDir itself).
 */
async function copyFolder(disk: Disk, writer: BackupWriter, source: string, path: string, partitions?: string[]): Promise<ManifestFile[]> {
  const names = await folderEntries(disk, source).catch(() => null);
  if (names === null) return [];
  const files: ManifestFile[] = [];
  const subfolders: string[] = [];
  for (const name of readOrder(names, false)) {
    const child = join(source, name);
    if (await isFolder(disk, child)) {
      if (partitions !== undefined && parsePartitionDirName(name) !== undefined) partitions.push(name);
      else subfolders.push(name);
      continue;
    }
    const kind = sourceFileKind(name, false);
    if (kind === 'skip') continue;
    const bytes = await disk.readFile(child);
    if (bytes !== undefined) files.push(await writer.writeBytes(`${path}/${name}`, kind, bytes));
  }
  for (const name of subfolders) files.push(...(await copyFolder(disk, writer, join(source, name), `${path}/${name}`)));
  return files;
}

async function isFolder(disk: Disk, path: string): Promise<boolean> {
  return (await folderEntries(disk, path).catch(() => null)) !== null;
}
