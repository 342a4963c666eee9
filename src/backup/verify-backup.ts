/**
 * `streambus backup verify`: re-reads every file a backup folder holds and compares it with the
 * manifests: its size and CRC-32C, and for segments every record batch again (length, magic, offsets,
 * codec, CRC-32C, through the same checker the broker uses), with the offsets the manifest recorded.
 * Each stored file is read once, however many backups of a chain name it. Every manifest's references
 * must resolve to a backup in the folder. Restore runs the same checks on the files it is about to
 * write, and refuses on any problem.
 */
import type { Disk } from '../io/disk.ts';
import { isNotFound, readInChunks } from './file-copy.ts';
import { completeBackups, listBackups, storedPath } from './backup-folder.ts';
import type { Manifest, ManifestFile } from './manifest.ts';
import { scanSegmentFile } from './segment-scan.ts';
import { parseSegmentFileName } from '../storage/file-names.ts';

export interface VerifyProblem {
  /** The backup whose files/ folder holds the file, or the backup whose manifest is wrong. */
  readonly backup: string;
  readonly path: string;
  readonly problem: string;
}

export interface VerifyResult {
  readonly backups: string[];
  readonly files: number;
  readonly bytes: number;
  readonly problems: VerifyProblem[];
}

/** What is wrong with the stored bytes of `file`, or null when they are what the manifest says. */
export async function checkStoredFile(disk: Disk, dir: string, file: ManifestFile): Promise<string | null> {
  const path = storedPath(dir, file.storedIn, file.path);
  const noop = (): Promise<void> => Promise.resolve();
  try {
    if (file.kind === 'segment') {
      const name = file.path.slice(file.path.lastIndexOf('/') + 1);
      const baseOffset = parseSegmentFileName(name)?.baseOffset ?? 0;
      const reader = await disk.openRead(path, { map: false });
      let scan;
      try {
        scan = await scanSegmentFile(reader, baseOffset, (b, seed, start, end) => disk.crc32c(b, seed, start, end), noop);
      } finally {
        await reader.close();
      }
      if (scan.stoppedBy !== null) return `${scan.stoppedBy.reason} at position ${scan.stoppedBy.position}`;
      if (scan.validBytes !== file.bytes) return `${scan.validBytes} bytes of batches, the manifest says ${file.bytes}`;
      if (scan.crc32c !== file.crc32c) return `CRC-32C ${hex(scan.crc32c)}, the manifest says ${hex(file.crc32c)}`;
      if (scan.validBytes > 0 && (scan.firstOffset !== file.firstOffset || scan.nextOffset !== file.nextOffset)) {
        return `offsets ${scan.firstOffset}..${scan.nextOffset - 1}, the manifest says ${file.firstOffset}..${(file.nextOffset ?? 0) - 1}`;
      }
      return null;
    }
    const read = await readInChunks(disk, path, noop);
    if (read.bytes !== file.bytes) return `${read.bytes} bytes, the manifest says ${file.bytes}`;
    if (read.crc32c !== file.crc32c) return `CRC-32C ${hex(read.crc32c)}, the manifest says ${hex(file.crc32c)}`;
    return null;
  } catch (err) {
    if (isNotFound(err)) return 'missing';
    throw err;
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * Checks the files of `manifests` (each stored file once), and that each manifest's files are held by
 * backups in `present`. Calls `onFile` after each file.
 */
export async function checkManifests(
  disk: Disk,
  dir: string,
  manifests: readonly Manifest[],
  present: ReadonlySet<string>,
  onFile?: (done: number, total: number) => void,
): Promise<{ files: number; bytes: number; problems: VerifyProblem[] }> {
  const problems: VerifyProblem[] = [];
  const stored = new Map<string, ManifestFile>();
  for (const m of manifests) {
    for (const f of m.files) {
      if (!present.has(f.storedIn)) {
        problems.push({ backup: m.id, path: f.path, problem: `stored in backup ${f.storedIn}, which is not in the folder` });
        continue;
      }
      const key = `${f.storedIn}/${f.path}`;
      const seen = stored.get(key);
      if (seen === undefined) stored.set(key, f);
      else if (seen.bytes !== f.bytes || seen.crc32c !== f.crc32c) {
        problems.push({ backup: m.id, path: f.path, problem: `its manifest and an earlier one disagree about the copy in ${f.storedIn}` });
      }
    }
  }
  let done = 0;
  let bytes = 0;
  for (const f of stored.values()) {
    const problem = await checkStoredFile(disk, dir, f);
    if (problem !== null) problems.push({ backup: f.storedIn, path: f.path, problem });
    bytes += f.bytes;
    onFile?.(++done, stored.size);
  }
  return { files: stored.size, bytes, problems };
}

/** Verifies backup `id` (and the backups it reads), or every complete backup in `dir`. */
export async function verifyBackups(disk: Disk, dir: string, id: string | undefined, onFile?: (done: number, total: number) => void): Promise<VerifyResult> {
  const entries = await listBackups(disk, dir);
  const complete = completeBackups(entries);
  const chosen = id === undefined ? complete : complete.filter((m) => m.id === id);
  const present = new Set(complete.map((m) => m.id));
  const checked = await checkManifests(disk, dir, chosen, present, onFile);
  const problems = id !== undefined && chosen.length === 0 ? [{ backup: id, path: '', problem: 'no complete backup with this id' }, ...checked.problems] : checked.problems;
  if (id === undefined && complete.length === 0) problems.push({ backup: '', path: '', problem: `${dir} holds no complete backup` });
  return { backups: chosen.map((m) => m.id), files: checked.files, bytes: checked.bytes, problems };
}
