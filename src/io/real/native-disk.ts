/**
 * Disk over the native addon: O_DIRECT or buffered appends with fallocate'd segments, fdatasync on
 * the libuv pool, read-only mappings of sealed segments, hardware CRC32C.
 */
import type { AppendFile, AppendFileOptions, Disk, DiskBackendInfo, FsStats, ReadFile } from '../disk.ts';
import { assert } from '../../util/assert.ts';
import { FsMetadata } from './fs-metadata.ts';
import { toIoError } from './io-error.ts';
import type { NativeAddon, NativeHandle } from './native-addon.ts';

class NativeAppendFile implements AppendFile {
  #size: number;
  constructor(
    private readonly addon: NativeAddon,
    private readonly handle: NativeHandle,
    readonly path: string,
    readonly direct: boolean,
    size: number,
  ) {
    this.#size = size;
  }

  get size(): number {
    return this.#size;
  }

  async append(buffers: readonly Uint8Array[]): Promise<number> {
    let total = 0;
    for (const b of buffers) total += b.byteLength;
    let position: number;
    try {
      // A fresh array: the addon holds it (and through it the buffers) until the write settles.
      position = await this.addon.append(this.handle, buffers.slice());
    } catch (e) {
      throw toIoError(e, this.path, 'append');
    }
    assert(position === this.#size, 'native append wrote at an unexpected position');
    this.#size = position + total;
    return position;
  }

  appendNow(buffers: readonly Uint8Array[]): number {
    assert(!this.direct, 'appendNow is for buffered files');
    let total = 0;
    for (const b of buffers) total += b.byteLength;
    let position: number;
    try {
      position = this.addon.appendNow(this.handle, buffers.slice());
    } catch (e) {
      throw toIoError(e, this.path, 'append');
    }
    assert(position === this.#size, 'native append wrote at an unexpected position');
    this.#size = position + total;
    return position;
  }

  async sync(full = false): Promise<void> {
    try {
      await this.addon.sync(this.handle, full);
    } catch (e) {
      throw toIoError(e, this.path, full ? 'fsync' : 'fdatasync');
    }
  }

  async truncate(size: number): Promise<void> {
    assert(size >= 0 && size <= this.#size, 'truncate beyond the logical size');
    try {
      await this.addon.truncate(this.handle, size);
    } catch (e) {
      throw toIoError(e, this.path, 'truncate');
    }
    this.#size = size;
  }

  async close(): Promise<void> {
    try {
      await this.addon.close(this.handle);
    } catch (e) {
      throw toIoError(e, this.path, 'close');
    }
  }
}

class MappedReadFile implements ReadFile {
  readonly mapped = true;
  constructor(
    readonly path: string,
    private readonly bytes: Buffer,
  ) {}
  read(position: number, length: number): Promise<Buffer> {
    assert(position >= 0 && length >= 0, 'read range must be non-negative');
    return Promise.resolve(this.bytes.subarray(position, Math.min(position + length, this.bytes.length)));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

class NativeReadFile implements ReadFile {
  readonly mapped = false;
  constructor(
    private readonly addon: NativeAddon,
    private readonly handle: NativeHandle,
    readonly path: string,
  ) {}
  async read(position: number, length: number): Promise<Buffer> {
    assert(position >= 0 && length >= 0, 'read range must be non-negative');
    const target = Buffer.allocUnsafe(length);
    let n: number;
    try {
      n = await this.addon.pread(this.handle, target, position);
    } catch (e) {
      throw toIoError(e, this.path, 'pread');
    }
    return n === length ? target : target.subarray(0, n);
  }
  async close(): Promise<void> {
    try {
      await this.addon.closeFile(this.handle);
    } catch (e) {
      throw toIoError(e, this.path, 'close');
    }
  }
}

export class NativeDisk extends FsMetadata implements Disk {
  readonly info: DiskBackendInfo;

  constructor(
    private readonly addon: NativeAddon,
    reason: string,
  ) {
    super();
    this.info = { backend: 'native', reason, crc32cHardware: addon.crc32cHardware };
  }

  async openAppend(path: string, options: AppendFileOptions): Promise<AppendFile> {
    assert(options.size >= 0 && options.preallocateBytes >= 0, 'sizes must be non-negative');
    try {
      const r = await this.addon.openSegment(path, { direct: options.direct, preallocate: options.preallocateBytes, size: options.size });
      return new NativeAppendFile(this.addon, r.handle, path, r.direct, options.size);
    } catch (e) {
      throw toIoError(e, path, 'open for append');
    }
  }

  async openRead(path: string, options: { map: boolean }): Promise<ReadFile> {
    try {
      if (options.map) return new MappedReadFile(path, Buffer.from(this.addon.mapReadonly(path)));
      return new NativeReadFile(this.addon, await this.addon.openFile(path), path);
    } catch (e) {
      throw toIoError(e, path, 'open for read');
    }
  }

  crc32c(data: Uint8Array, seed = 0, start = 0, end = data.length): number {
    return this.addon.crc32c(data, seed, start, end);
  }

  async statfs(path: string): Promise<FsStats> {
    try {
      const s = this.addon.statfs(path);
      return { totalBytes: s.totalBytes, freeBytes: s.freeBytes, availableBytes: s.availableBytes, usedBytes: s.totalBytes - s.freeBytes };
    } catch (e) {
      throw toIoError(e, path, 'statfs');
    }
  }
}
