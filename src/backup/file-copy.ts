/**
 * File copies through the injected Disk: a new file written from pieces and made durable before it
 * counts, and a file read from its start in chunks. Both compute the CRC-32C of the bytes they move
 * (the native one when the addon runs), which is what the manifest records and verify compares.
 */
import { dirname, isAbsolute, relative } from 'node:path';
import type { Disk } from '../io/disk.ts';
import { IoError } from '../util/errors.ts';

const READ_CHUNK_BYTES = 4 * 1024 * 1024;

export interface WrittenFile {
  readonly bytes: number;
  readonly crc32c: number;
}

/**
 * Creates `path` (its folder too) and fills it by calling `fill` with an append function; fsyncs it
 * before resolving. The folder's entry is fsynced by the caller once the folder is complete.
 */
export async function writeNewFile(disk: Disk, path: string, fill: (append: (bytes: Uint8Array) => Promise<void>) => Promise<void>): Promise<WrittenFile> {
  await disk.mkdir(dirname(path));
  const file = await disk.openAppend(path, { direct: false, preallocateBytes: 0, size: 0 });
  let crc = 0;
  let bytes = 0;
  try {
    await fill(async (piece) => {
      if (piece.length === 0) return;
      crc = disk.crc32c(piece, crc, 0, piece.length);
      bytes += piece.length;
      // The appender owns the array until the write settles; the piece may be a view the caller reuses.
      await file.append([piece]);
    });
    await file.sync(true);
  } finally {
    await file.close();
  }
  return { bytes, crc32c: crc };
}

/** Reads `path` from its start in chunks, calling `onBytes` with each; resolves with the size and CRC-32C read. */
export async function readInChunks(disk: Disk, path: string, onBytes: (bytes: Uint8Array) => Promise<void> | void): Promise<WrittenFile> {
  const file = await disk.openRead(path, { map: false });
  let crc = 0;
  let position = 0;
  try {
    for (;;) {
      const chunk = await file.read(position, READ_CHUNK_BYTES);
      if (chunk.length > 0) {
        crc = disk.crc32c(chunk, crc, 0, chunk.length);
        position += chunk.length;
        await onBytes(chunk);
      }
      if (chunk.length < READ_CHUNK_BYTES) break;
    }
  } finally {
    await file.close();
  }
  return { bytes: position, crc32c: crc };
}

/** CRC-32C of the last `tailBytes` of a file of `size` bytes. */
export async function tailCrc32c(disk: Disk, path: string, size: number, tailBytes: number): Promise<number> {
  const file = await disk.openRead(path, { map: false });
  try {
    const from = Math.max(0, size - tailBytes);
    const tail = await file.read(from, size - from);
    return disk.crc32c(tail, 0, 0, tail.length);
  } finally {
    await file.close();
  }
}

/** True when `err` says the file or folder does not exist (removed while a backup ran: retention, a deleted topic). */
export function isNotFound(err: unknown): boolean {
  return err instanceof IoError && err.errno === 'ENOENT';
}

/** Names in `path`, or null when it is not a folder. */
export async function folderEntries(disk: Disk, path: string): Promise<string[] | null> {
  try {
    return await disk.readdir(path);
  } catch (err) {
    if (err instanceof IoError && err.errno === 'ENOTDIR') return null;
    throw err;
  }
}

/** True when `child` is `parent` or lies inside it (both absolute). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}
