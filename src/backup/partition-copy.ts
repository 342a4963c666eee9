/**
 * Copying one partition folder of a running broker so that the copy is a state the broker's own
 * recovery accepts, as if the broker had been killed at the moment of the copy:
 *
 * 1. `recovery-point` first: segments below it were sealed (cut to size, fsynced, never appended to
 *    again) before it was written, so they are copied whole and must be valid to their last byte.
 * 2. `raft.snapshot` (read and kept), then `raft.index` and the other small files.
 * 3. The segments, oldest first. Sealed ones are taken from the previous backup when unchanged;
 *    the others are copied up to their last whole, CRC-valid batch: the active segment's reserved
 *    space (zeros) and a batch still being written are left out.
 * 4. `raft.snapshot` again. If it changed, the broker took or installed a snapshot meanwhile (and
 *    may have rewritten raft.index and let retention pass the old one): the partition is copied again.
 *    With the snapshot unchanged, the index copied in 2 starts at or before it (the index drops a
 *    prefix only up to a durable snapshot) and reaches it (a snapshot is taken at an applied index,
 *    which the index held when the snapshot was written), which is what the broker's open requires.
 *    Segments copied in 3 may hold batches the index copied in 2 does not name, or (after a Raft
 *    truncation of an uncommitted tail) batches of another term: the open cuts those, as after a crash.
 * 5. Consecutive segments must meet (each ends where the next begins); a copy that raced a
 *    truncation may not, and is made again.
 *
 * A partition folder that disappears (a deleted topic) is left out of the backup.
 */
import { join } from 'node:path';
import type { Disk } from '../io/disk.ts';
import { StreamBusError } from '../util/errors.ts';
import { RECOVERY_POINT_FILE, parseSegmentFileName } from '../storage/file-names.ts';
import { SNAPSHOT_FILE_NAME } from '../replication/partition-raft-files.ts';
import type { ManifestFile } from './manifest.ts';
import type { BackupWriter } from './backup-writer.ts';
import { readOrder, sourceFileKind } from './file-kinds.ts';
import { isNotFound } from './file-copy.ts';

/** Copies of one partition attempted before giving up: each retry means the broker changed it meanwhile. */
export const PARTITION_COPY_ATTEMPTS_MAX = 5;

class CopyRaced extends Error {}

/** Copies the partition folder `source` as `<root>/<name>/...`; null when the folder is gone. */
export async function copyPartition(disk: Disk, writer: BackupWriter, source: string, path: string): Promise<ManifestFile[] | null> {
  let lastReason = '';
  for (let attempt = 1; attempt <= PARTITION_COPY_ATTEMPTS_MAX; attempt++) {
    try {
      return await copyOnce(disk, writer, source, path);
    } catch (err) {
      if (!(err instanceof CopyRaced) && !isNotFound(err)) throw err;
      await writer.discard(path);
      if ((await disk.fileSize(source)) === undefined) return null; // the partition was deleted
      lastReason = err instanceof CopyRaced ? err.message : `a file vanished (${(err as Error).message})`;
    }
  }
  throw new StreamBusError('SB_ERR_BACKUP', `${source} kept changing while it was copied (${PARTITION_COPY_ATTEMPTS_MAX} attempts; last: ${lastReason})`);
}

async function copyOnce(disk: Disk, writer: BackupWriter, source: string, path: string): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  const recoveryPointText = await disk.readFile(join(source, RECOVERY_POINT_FILE));
  const recoveryPoint = recoveryPointText === undefined ? 0 : Number(recoveryPointText.toString('utf8').trim());
  const snapshotBefore = await disk.readFile(join(source, SNAPSHOT_FILE_NAME));
  const names = await disk.readdir(source);
  const segments: { name: string; baseOffset: number }[] = [];
  for (const name of readOrder(names, true)) {
    const kind = sourceFileKind(name, true);
    if (kind === 'skip') continue;
    if (kind === 'segment') {
      segments.push({ name, baseOffset: parseSegmentFileName(name)!.baseOffset });
      continue;
    }
    const bytes = name === SNAPSHOT_FILE_NAME ? snapshotBefore : name === RECOVERY_POINT_FILE ? recoveryPointText : await disk.readFile(join(source, name));
    if (bytes === undefined) continue; // removed since the listing (a joining marker, a checkpoint consumed on open)
    files.push(await writer.writeBytes(`${path}/${name}`, kind, bytes));
  }
  segments.sort((a, b) => a.baseOffset - b.baseOffset);
  let previous: ManifestFile | null = null;
  for (let i = 0; i < segments.length; i++) {
    const { name, baseOffset } = segments[i]!;
    const last = i === segments.length - 1;
    const sealed = !last && Number.isSafeInteger(recoveryPoint) && baseOffset < recoveryPoint;
    const entry = await writer.copySegment(`${path}/${name}`, join(source, name), baseOffset, sealed);
    if (previous !== null && previous.nextOffset !== baseOffset) {
      throw new CopyRaced(`${segments[i - 1]!.name} ends at offset ${previous.nextOffset}, the next segment begins at ${baseOffset}`);
    }
    files.push(entry);
    previous = entry;
  }
  const snapshotAfter = await disk.readFile(join(source, SNAPSHOT_FILE_NAME));
  if (!sameBytes(snapshotBefore, snapshotAfter)) throw new CopyRaced(`${SNAPSHOT_FILE_NAME} changed`);
  return files;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}
