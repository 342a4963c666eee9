/**
 * Writes the files of one backup under `<dir>/<id>.partial/files/` and collects their manifest
 * entries. Every file is fsynced when written; the folders are fsynced by `syncFolders` before the
 * manifest is written, so a complete backup never names a file a crash could lose.
 */
import { dirname, join } from 'node:path';
import type { Disk, ReadFile } from '../io/disk.ts';
import { IoError, StreamBusError } from '../util/errors.ts';
import { FILES_DIR_NAME, TAIL_FINGERPRINT_BYTES, type FileKind, type ManifestFile } from './manifest.ts';
import { reuseOf } from './chain-plan.ts';
import { isNotFound, tailCrc32c, writeNewFile } from './file-copy.ts';
import { scanSegmentFile, type SegmentScan } from './segment-scan.ts';

export interface CopyTotals {
  copiedFiles: number;
  copiedBytes: number;
  reusedFiles: number;
  reusedBytes: number;
}

export class BackupWriter {
  readonly totals: CopyTotals = { copiedFiles: 0, copiedBytes: 0, reusedFiles: 0, reusedBytes: 0 };
  private readonly folders = new Set<string>();

  constructor(
    private readonly disk: Disk,
    readonly workDir: string,
    readonly id: string,
    private readonly reusable: ReadonlyMap<string, ManifestFile>,
  ) {}

  /** Where the backup keeps the bytes of `path`. */
  target(path: string): string {
    return join(this.workDir, FILES_DIR_NAME, ...path.split('/'));
  }

  /** Stores `bytes` (a file read whole) as `path`. */
  async writeBytes(path: string, kind: FileKind, bytes: Uint8Array): Promise<ManifestFile> {
    const target = this.target(path);
    const written = await writeNewFile(this.disk, target, (append) => append(bytes));
    this.noteFolder(target);
    this.totals.copiedFiles++;
    this.totals.copiedBytes += written.bytes;
    return { path, kind, bytes: written.bytes, crc32c: written.crc32c, storedIn: this.id };
  }

  /**
   * Stores the valid batches of the segment file `source` as `path`. A sealed segment must be valid to
   * its last byte (a bad batch there is corruption, SB_ERR_CORRUPT); it is taken from the previous
   * backup instead when it did not change since.
   */
  async copySegment(path: string, source: string, baseOffset: number, sealed: boolean): Promise<ManifestFile> {
    if (sealed) {
      const size = await this.disk.fileSize(source);
      if (size === undefined) throw new IoError('ENOENT', source, 'stat'); // retention removed it: the caller copies the partition again
      const tail = await tailCrc32c(this.disk, source, size, TAIL_FINGERPRINT_BYTES);
      const reused = reuseOf({ path, bytes: size, tailCrc32c: tail }, this.reusable);
      if (reused !== null) {
        this.totals.reusedFiles++;
        this.totals.reusedBytes += reused.bytes;
        return reused;
      }
    }
    const target = this.target(path);
    const file: ReadFile = await this.disk.openRead(source, { map: false });
    let scan: SegmentScan | undefined;
    let written;
    try {
      written = await writeNewFile(this.disk, target, async (append) => {
        scan = await scanSegmentFile(file, baseOffset, (b, seed, start, end) => this.disk.crc32c(b, seed, start, end), append);
      });
    } finally {
      await file.close();
    }
    this.noteFolder(target);
    const result = scan!;
    if (sealed && result.stoppedBy !== null) {
      throw new StreamBusError('SB_ERR_CORRUPT', `${source}: ${result.stoppedBy.reason} at position ${result.stoppedBy.position} (a sealed segment)`);
    }
    const entry: ManifestFile = {
      path,
      kind: 'segment',
      bytes: written.bytes,
      crc32c: written.crc32c,
      storedIn: this.id,
      sealed,
      firstOffset: result.firstOffset,
      nextOffset: result.nextOffset,
    };
    this.totals.copiedFiles++;
    this.totals.copiedBytes += written.bytes;
    if (!sealed) return entry;
    // The fingerprint of what was copied: the copy of a sealed segment is the whole file.
    return { ...entry, tailCrc32c: await tailCrc32c(this.disk, target, written.bytes, TAIL_FINGERPRINT_BYTES) };
  }

  /** Forgets (and deletes) what was written under the folder `path` (a partition copied again). */
  async discard(path: string): Promise<void> {
    await this.disk.removeDir(this.target(path));
  }

  /** fsyncs every folder a file was written to, deepest first, up to the backup's own folder. */
  async syncFolders(): Promise<void> {
    const all = new Set<string>();
    for (const folder of this.folders) {
      for (let f = folder; f.startsWith(this.workDir); f = dirname(f)) {
        all.add(f);
        if (f === this.workDir) break;
      }
    }
    const ordered = [...all].sort((a, b) => b.length - a.length);
    for (const folder of ordered) {
      try {
        await this.disk.syncDir(folder);
      } catch (err) {
        // A partition copied again had its folder removed; the others must be durable.
        if (!isNotFound(err)) throw err;
      }
    }
  }

  private noteFolder(file: string): void {
    this.folders.add(dirname(file));
  }
}
