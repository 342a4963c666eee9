/**
 * The storage engine's view of the file system. Two implementations share this interface: the
 * native addon (O_DIRECT, fallocate, fdatasync on the libuv pool, mmap) and a portable one over
 * node:fs. Tests wrap it to inject faults (failed fsync, a full disk).
 *
 * Errors: every method rejects (or throws, for the synchronous ones) with an `IoError` from
 * src/util/errors.ts carrying the errno name and the path; ENOSPC becomes code SB_ERR_DISK_FULL.
 */

/** Which implementation runs, and why (for the broker's startup log and `streambus doctor`). */
export interface DiskBackendInfo {
  readonly backend: 'native' | 'portable';
  /** One sentence: what was loaded, or why the native addon was not. */
  readonly reason: string;
  /** True when CRC32C runs on the CPU's crc32 instruction (SSE4.2). */
  readonly crc32cHardware: boolean;
}

export interface AppendFileOptions {
  /** Ask for O_DIRECT. The file's `direct` says whether it took (the portable backend never does). */
  readonly direct: boolean;
  /**
   * Reserve this many bytes when the file is new and empty (fallocate), and grow the reservation in
   * steps of this size ahead of the appends, so that fdatasync rarely has a file-size change to
   * journal; 0 for none. Best effort. The file then may be longer than its logical size.
   */
  readonly preallocateBytes: number;
  /**
   * Logical size of the existing content: appends continue here. The file may be longer (reserved
   * space, O_DIRECT page padding); it must not be shorter.
   */
  readonly size: number;
}

/**
 * One append-only file (a segment's .log).
 *
 * Ordering contract: at most one `append` or `truncate` is in flight at a time (the caller queues).
 * `sync` may overlap an append; it covers every append that had resolved before `sync` was called.
 * The buffers and the array given to `append` belong to the file until the promise settles.
 */
export interface AppendFile {
  readonly path: string;
  /** Whether writes bypass the page cache (O_DIRECT). */
  readonly direct: boolean;
  /** Logical size: bytes [0, size) are appended data. Grows when an append resolves. */
  readonly size: number;
  /**
   * Writes the buffers, in order, at `size`. Resolves with the position of the first byte once the
   * write returned (not yet durable). On failure nothing counts as written (size is unchanged), and
   * any partial bytes past `size` are garbage that a later append overwrites.
   */
  append(buffers: readonly Uint8Array[]): Promise<number>;
  /**
   * append() done at once on the calling thread: returns the position of the first byte, throws the
   * IoError. For small records on buffered files (not `direct`): the thread blocks for the write,
   * which for a few bytes into the page cache costs less than a round trip through the I/O pool on a
   * busy machine. The same ordering contract as append (nothing else in flight on the file).
   */
  appendNow(buffers: readonly Uint8Array[]): number;
  /** fdatasync (fsync when `full`). Resolved = everything appended before the call is durable. */
  sync(full?: boolean): Promise<void>;
  /** Shortens the file to `size` (<= this.size), physically, so nothing past it can resurface. */
  truncate(size: number): Promise<void>;
  /** Closes the descriptor; pending work must have settled. */
  close(): Promise<void>;
}

/** A file opened for reading: a read-only mapping (native) or a descriptor read with pread. */
export interface ReadFile {
  readonly path: string;
  /** True when reads return views of a shared mapping (zero-copy) rather than copies. */
  readonly mapped: boolean;
  /**
   * Bytes [position, position + length), shorter only at the end of the file. Mapped: a view of the
   * mapping, valid as long as it is referenced, even after close or unlink (the file must not shrink
   * while mapped). Otherwise: a fresh buffer.
   */
  read(position: number, length: number): Promise<Buffer>;
  /** Releases the descriptor (a mapping is released when its last view is collected). */
  close(): Promise<void>;
}

export interface FsStats {
  readonly totalBytes: number;
  readonly freeBytes: number;
  /** Free bytes usable by an unprivileged process (what df shows as available). */
  readonly availableBytes: number;
  /** totalBytes - freeBytes. */
  readonly usedBytes: number;
}

export interface Disk {
  readonly info: DiskBackendInfo;
  openAppend(path: string, options: AppendFileOptions): Promise<AppendFile>;
  /**
   * `map: true` asks for a read-only mapping; only for files that will not shrink while mapped
   * (sealed segments). Backends without mmap ignore it and read with pread.
   */
  openRead(path: string, options: { map: boolean }): Promise<ReadFile>;
  /** CRC-32C of data[start, end), continuing from `seed` (0 to begin). */
  crc32c(data: Uint8Array, seed?: number, start?: number, end?: number): number;
  statfs(path: string): Promise<FsStats>;

  /** Creates the folder and its parents; no error when it exists. */
  mkdir(path: string): Promise<void>;
  /** Names in the folder, sorted. */
  readdir(path: string): Promise<string[]>;
  /** The file's size, or undefined when it does not exist. */
  fileSize(path: string): Promise<number | undefined>;
  /** The whole file, or undefined when it does not exist. */
  readFile(path: string): Promise<Buffer | undefined>;
  /** Creates or replaces the file, not durably (contents may be lost or torn by a crash). */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** Atomically and durably replaces the file: temp file, fsync, rename, fsync of the folder. */
  writeFileDurable(path: string, data: Uint8Array): Promise<void>;
  /** Durably flushes a file written with writeFile (fsync). */
  syncFile(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Removes the file; no error when it does not exist. */
  unlink(path: string): Promise<void>;
  /** Removes the folder and everything in it; no error when it does not exist. */
  removeDir(path: string): Promise<void>;
  /** fsync of a folder, so that creates, renames and unlinks in it are durable. */
  syncDir(path: string): Promise<void>;
}
