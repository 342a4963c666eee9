/**
 * Disk over node:fs alone, for machines where the native addon cannot load (no compiler, another
 * OS, a runtime without N-API). Same contracts, fewer tricks: no O_DIRECT, no preallocation, no
 * mmap (reads are copies), and the table-driven CRC32C from src/util.
 */
import { close, constants, fdatasync, fstat, fsync, ftruncate, ftruncateSync, open, read, statfs, writev, writevSync, type StatsFs } from 'node:fs';
import type { AppendFile, AppendFileOptions, Disk, DiskBackendInfo, FsStats, ReadFile } from '../disk.ts';
import { assert } from '../../util/assert.ts';
import { crc32c } from '../../util/crc32c.ts';
import { FsMetadata } from './fs-metadata.ts';
import { toIoError } from './io-error.ts';

function openFd(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, 0o644, (e, fd) => (e ? reject(e) : resolve(fd))));
}

function statfsAsync(path: string): Promise<StatsFs> {
  return new Promise((resolve, reject) => statfs(path, (e, s) => (e ? reject(e) : resolve(s))));
}

function call(fn: (cb: (e: NodeJS.ErrnoException | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((e) => (e ? reject(e) : resolve())));
}

function writevAt(fd: number, buffers: Uint8Array[], position: number): Promise<number> {
  return new Promise((resolve, reject) => writev(fd, buffers, position, (e, n) => (e ? reject(e) : resolve(n))));
}

class PortableAppendFile implements AppendFile {
  readonly direct = false;
  #size: number;
  constructor(
    private readonly fd: number,
    readonly path: string,
    size: number,
  ) {
    this.#size = size;
  }

  get size(): number {
    return this.#size;
  }

  async append(buffers: readonly Uint8Array[]): Promise<number> {
    const start = this.#size;
    let pending = buffers.filter((b) => b.byteLength > 0);
    let position = start;
    try {
      while (pending.length > 0) {
        // writev may write less than asked; continue with what is left.
        let n = await writevAt(this.fd, pending, position);
        assert(n > 0, 'writev wrote nothing');
        position += n;
        while (pending.length > 0 && n >= pending[0]!.byteLength) n -= pending.shift()!.byteLength;
        if (n > 0) pending[0] = pending[0]!.subarray(n);
      }
    } catch (e) {
      // Best effort: drop partial bytes past the logical end, as the native backend does.
      await call((cb) => ftruncate(this.fd, start, cb)).catch(() => undefined);
      throw toIoError(e, this.path, 'append');
    }
    this.#size = position;
    return start;
  }

  appendNow(buffers: readonly Uint8Array[]): number {
    const start = this.#size;
    let pending = buffers.filter((b) => b.byteLength > 0);
    let position = start;
    try {
      while (pending.length > 0) {
        let n = writevSync(this.fd, pending, position);
        assert(n > 0, 'writev wrote nothing');
        position += n;
        while (pending.length > 0 && n >= pending[0]!.byteLength) n -= pending.shift()!.byteLength;
        if (n > 0) pending[0] = pending[0]!.subarray(n);
      }
    } catch (e) {
      try {
        ftruncateSync(this.fd, start);
      } catch {
        // Best effort, as in append.
      }
      throw toIoError(e, this.path, 'append');
    }
    this.#size = position;
    return start;
  }

  async sync(full = false): Promise<void> {
    try {
      await call((cb) => (full ? fsync(this.fd, cb) : fdatasync(this.fd, cb)));
    } catch (e) {
      throw toIoError(e, this.path, full ? 'fsync' : 'fdatasync');
    }
  }

  async truncate(size: number): Promise<void> {
    assert(size >= 0 && size <= this.#size, 'truncate beyond the logical size');
    try {
      await call((cb) => ftruncate(this.fd, size, cb));
    } catch (e) {
      throw toIoError(e, this.path, 'truncate');
    }
    this.#size = size;
  }

  async close(): Promise<void> {
    try {
      await call((cb) => close(this.fd, cb));
    } catch (e) {
      throw toIoError(e, this.path, 'close');
    }
  }
}

class PortableReadFile implements ReadFile {
  readonly mapped = false;
  constructor(
    private readonly fd: number,
    readonly path: string,
  ) {}

  async read(position: number, length: number): Promise<Buffer> {
    assert(position >= 0 && length >= 0, 'read range must be non-negative');
    const target = Buffer.allocUnsafe(length);
    let done = 0;
    try {
      while (done < length) {
        const n = await new Promise<number>((resolve, reject) =>
          read(this.fd, target, done, length - done, position + done, (e, bytes) => (e ? reject(e) : resolve(bytes))),
        );
        if (n === 0) break;
        done += n;
      }
    } catch (e) {
      throw toIoError(e, this.path, 'pread');
    }
    return done === length ? target : target.subarray(0, done);
  }

  async close(): Promise<void> {
    try {
      await call((cb) => close(this.fd, cb));
    } catch (e) {
      throw toIoError(e, this.path, 'close');
    }
  }
}

export class PortableDisk extends FsMetadata implements Disk {
  readonly info: DiskBackendInfo;

  constructor(reason: string) {
    super();
    this.info = { backend: 'portable', reason, crc32cHardware: false };
  }

  async openAppend(path: string, options: AppendFileOptions): Promise<AppendFile> {
    assert(options.size >= 0, 'size must be non-negative');
    let fd: number | undefined;
    try {
      fd = await openFd(path, constants.O_RDWR | constants.O_CREAT);
      const size = await new Promise<number>((resolve, reject) => fstat(fd!, (e, st) => (e ? reject(e) : resolve(st.size))));
      if (options.size > size) throw Object.assign(new Error('logical size beyond the end of the file'), { code: 'EINVAL' });
    } catch (e) {
      if (fd !== undefined) await call((cb) => close(fd!, cb)).catch(() => undefined);
      throw toIoError(e, path, 'open for append');
    }
    return new PortableAppendFile(fd, path, options.size);
  }

  async openRead(path: string): Promise<ReadFile> {
    try {
      return new PortableReadFile(await openFd(path, constants.O_RDONLY), path);
    } catch (e) {
      throw toIoError(e, path, 'open for read');
    }
  }

  crc32c(data: Uint8Array, seed = 0, start = 0, end = data.length): number {
    return crc32c(data, seed, start, end);
  }

  async statfs(path: string): Promise<FsStats> {
    try {
      const s = await statfsAsync(path);
      const total = s.blocks * s.bsize;
      const free = s.bfree * s.bsize;
      return { totalBytes: total, freeBytes: free, availableBytes: s.bavail * s.bsize, usedBytes: total - free };
    } catch (e) {
      throw toIoError(e, path, 'statfs');
    }
  }
}
