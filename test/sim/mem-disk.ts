/**
 * The simulated disk of one broker: an in-memory file system behind the production `Disk`
 * interface (src/io/disk.ts), with crash semantics, for the partition simulation.
 *
 * Model (deliberately conservative, so that anything the storage code forgets to make durable is
 * lost in a crash):
 *   - A file (inode) has its content and its durable content. Writes change the content at once;
 *     AppendFile.sync and syncFile make the whole content durable once their fsync latency (on the
 *     simulation's clock) has passed.
 *   - A folder has its names and its durable names. Creating a file, rename and unlink change the
 *     names at once; they become durable only at the next syncDir of that folder. writeFileDurable
 *     is atomic and durable when it resolves (it fsyncs the temp file, renames and syncs the folder,
 *     so it also makes the folder's other pending changes durable, as the real one does).
 *     mkdir and removeDir are durable at once (folders are created once and removed whole).
 *   - crash() brings back the durable names of every folder, and keeps of each file its durable
 *     content plus a random prefix of what was written after it (a torn write): when the file only
 *     grew, the durable bytes and some of the new ones; when it was cut or rewritten, either the
 *     durable content or the common prefix plus some of the new bytes.
 *   - One process sees the disk through mount(). A crash kills every mount: operations of a dead
 *     process, even those called later by its leftover promise chains, never complete and change
 *     nothing, as nothing runs in a dead process.
 *
 * With `lyingFsync` (a deliberate bug), fsyncs report success without making anything durable.
 */
import { basename, dirname } from 'node:path';
import type { AppendFile, AppendFileOptions, Disk, DiskBackendInfo, FsStats, ReadFile } from '../../src/io/disk.ts';
import { crc32c } from '../../src/util/crc32c.ts';
import { IoError } from '../../src/util/errors.ts';
import type { ManualClock } from '../helpers/manual-clock.ts';
import type { Prng } from './prng.ts';

class Inode {
  content: Buffer = Buffer.alloc(0);
  durable: Buffer = Buffer.alloc(0);

  write(position: number, buffers: readonly Uint8Array[]): number {
    const bytes = Buffer.concat(buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
    const end = position + bytes.length;
    const next = Buffer.alloc(Math.max(end, this.content.length));
    this.content.copy(next, 0, 0, this.content.length);
    bytes.copy(next, position);
    this.content = next;
    return bytes.length;
  }
}

export interface MemDiskEnv {
  readonly clock: ManualClock;
  /** A deliberate bug: fsync reports success and makes nothing durable. */
  readonly lyingFsync: boolean;
}

const NEVER = new Promise<never>(() => undefined);

export class MemDisk {
  /** Until this simulated time, fsyncs are slow. */
  slowUntilMs = 0;
  private readonly folders = new Set<string>(['/']);
  private names = new Map<string, Map<string, Inode>>();
  private durableNames = new Map<string, Map<string, Inode>>();
  private generation = 0;

  constructor(
    private readonly random: Prng,
    private readonly env: MemDiskEnv,
  ) {}

  /** The disk as one process sees it, until the next crash. */
  mount(): Disk {
    return new MountedDisk(this, this.generation);
  }

  /** The process dies, the machine stays up: everything written survives (it is in the page cache). */
  kill(): string {
    this.generation++;
    return '';
  }

  /** The machine loses power: unsynced writes are torn, undurable folder changes undone. Returns a description. */
  crash(): string {
    this.generation++;
    this.names = copyNames(this.durableNames);
    let torn = 0;
    const seen = new Set<Inode>();
    for (const folder of this.names.values()) {
      for (const inode of folder.values()) {
        if (seen.has(inode)) continue;
        seen.add(inode);
        if (this.tear(inode)) torn++;
      }
    }
    return torn === 0 ? '' : `${torn} file(s) torn`;
  }

  // ---- for MountedDisk ----

  alive(generation: number): boolean {
    return generation === this.generation;
  }

  /** How long an fsync takes, from now. */
  syncLatencyMs(): number {
    if (this.env.clock.now() < this.slowUntilMs || this.random.chance(0.02)) return this.random.between(20, 300);
    return this.random.between(0, 3);
  }

  /** Resolves after an fsync's latency, with `inode`'s content durable (unless the fsync lies). */
  fsync(generation: number, inode: Inode): Promise<void> {
    if (this.env.lyingFsync) return Promise.resolve();
    return new Promise((resolve) => {
      this.env.clock.setTimer(this.syncLatencyMs(), () => {
        if (!this.alive(generation)) return;
        inode.durable = Buffer.from(inode.content);
        resolve();
      });
    });
  }

  /** Resolves after an fsync's latency, with the folder's names as they are then durable. */
  fsyncDir(generation: number, path: string): Promise<void> {
    return new Promise((resolve) => {
      this.env.clock.setTimer(this.syncLatencyMs(), () => {
        if (!this.alive(generation)) return;
        this.syncDir(path);
        resolve();
      });
    });
  }

  lookup(path: string): Inode | undefined {
    return this.names.get(dirname(path))?.get(basename(path));
  }

  create(path: string): Inode {
    const folder = this.folder(dirname(path), path);
    let inode = folder.get(basename(path));
    if (inode === undefined) {
      inode = new Inode();
      folder.set(basename(path), inode);
    }
    return inode;
  }

  /** Replaces the name `path` with `inode` (rename, writeFileDurable). */
  link(path: string, inode: Inode): void {
    this.folder(dirname(path), path).set(basename(path), inode);
  }

  unlink(path: string): void {
    this.names.get(dirname(path))?.delete(basename(path));
  }

  syncDir(path: string): void {
    const folder = this.names.get(path);
    if (folder === undefined) this.durableNames.delete(path);
    else this.durableNames.set(path, new Map(folder));
  }

  mkdir(path: string): void {
    for (let p = path; !this.folders.has(p); p = dirname(p)) {
      this.folders.add(p);
      this.names.set(p, new Map());
      this.durableNames.set(p, new Map());
    }
  }

  removeDir(path: string): void {
    for (const p of [...this.folders]) {
      if (p !== path && !p.startsWith(`${path}/`)) continue;
      this.folders.delete(p);
      this.names.delete(p);
      this.durableNames.delete(p);
    }
  }

  readdir(path: string): string[] {
    const names = new Set(this.names.get(path)?.keys() ?? []);
    for (const p of this.folders) if (p !== path && dirname(p) === path) names.add(basename(p));
    return [...names].sort();
  }

  private folder(path: string, forPath: string): Map<string, Inode> {
    const folder = this.names.get(path);
    if (folder === undefined) throw new IoError('ENOENT', forPath, 'create');
    return folder;
  }

  /** Keeps the durable content plus a random part of what came after it; true when bytes were lost or kept undurably. */
  private tear(inode: Inode): boolean {
    const { content, durable } = inode;
    if (content.equals(durable)) return false;
    let common = 0;
    const limit = Math.min(content.length, durable.length);
    while (common < limit && content[common] === durable[common]) common++;
    if (common === durable.length || this.random.chance(0.5)) {
      inode.content = Buffer.from(content.subarray(0, common + this.random.nextInt(content.length - common + 1)));
    } else {
      inode.content = Buffer.from(durable);
    }
    inode.durable = Buffer.from(inode.content);
    return true;
  }
}

function copyNames(names: Map<string, Map<string, Inode>>): Map<string, Map<string, Inode>> {
  return new Map([...names].map(([path, folder]) => [path, new Map(folder)]));
}

class MemAppendFile implements AppendFile {
  readonly direct = false;

  constructor(
    private readonly mounted: MountedDisk,
    private readonly inode: Inode,
    readonly path: string,
    public size: number,
  ) {}

  append(buffers: readonly Uint8Array[]): Promise<number> {
    return this.mounted.run(() => {
      const start = this.size;
      this.size += this.inode.write(start, buffers);
      return start;
    });
  }

  /** On a dead process's disk nothing is written: that process's code cannot have reached the call. */
  appendNow(buffers: readonly Uint8Array[]): number {
    const start = this.size;
    if (this.mounted.alive) this.size += this.inode.write(start, buffers);
    return start;
  }

  sync(): Promise<void> {
    return this.mounted.sync(this.inode);
  }

  truncate(size: number): Promise<void> {
    return this.mounted.run(() => {
      if (size < 0 || size > this.size) throw new Error(`truncate of ${this.path} to ${size} beyond the logical size ${this.size}`);
      this.inode.content = Buffer.from(this.inode.content.subarray(0, size));
      this.size = size;
    });
  }

  close(): Promise<void> {
    return this.mounted.run(() => undefined);
  }
}

class MemReadFile implements ReadFile {
  readonly mapped = false;

  constructor(
    private readonly mounted: MountedDisk,
    private readonly inode: Inode,
    readonly path: string,
  ) {}

  read(position: number, length: number): Promise<Buffer> {
    return this.mounted.run(() => Buffer.from(this.inode.content.subarray(position, position + length)));
  }

  close(): Promise<void> {
    return this.mounted.run(() => undefined);
  }
}

/** One process's view of a MemDisk; everything it does stops at the next crash. */
class MountedDisk implements Disk {
  readonly info: DiskBackendInfo = { backend: 'portable', reason: 'simulated in-memory disk', crc32cHardware: false };

  constructor(
    private readonly disk: MemDisk,
    private readonly generation: number,
  ) {}

  /** Whether the process that mounted this disk still runs. */
  get alive(): boolean {
    return this.disk.alive(this.generation);
  }

  /** Runs `op` now and completes it in a later microtask; never, once this process crashed. */
  run<T>(op: () => T): Promise<T> {
    if (!this.disk.alive(this.generation)) return NEVER;
    try {
      const value = op();
      return Promise.resolve(value);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  sync(inode: Inode): Promise<void> {
    if (!this.disk.alive(this.generation)) return NEVER;
    return this.disk.fsync(this.generation, inode);
  }

  openAppend(path: string, options: AppendFileOptions): Promise<AppendFile> {
    return this.run(() => {
      const inode = this.disk.create(path);
      if (options.size > inode.content.length) throw new IoError('EINVAL', path, 'open for append: logical size beyond the end of the file');
      return new MemAppendFile(this, inode, path, options.size);
    });
  }

  openRead(path: string): Promise<ReadFile> {
    return this.run(() => {
      const inode = this.disk.lookup(path);
      if (inode === undefined) throw new IoError('ENOENT', path, 'open for read');
      return new MemReadFile(this, inode, path);
    });
  }

  crc32c(data: Uint8Array, seed = 0, start = 0, end = data.length): number {
    return crc32c(data, seed, start, end);
  }

  statfs(): Promise<FsStats> {
    return this.run(() => ({ totalBytes: 1 << 40, freeBytes: 1 << 39, availableBytes: 1 << 39, usedBytes: 1 << 39 }));
  }

  mkdir(path: string): Promise<void> {
    return this.run(() => this.disk.mkdir(path));
  }

  readdir(path: string): Promise<string[]> {
    return this.run(() => this.disk.readdir(path));
  }

  fileSize(path: string): Promise<number | undefined> {
    return this.run(() => this.disk.lookup(path)?.content.length);
  }

  readFile(path: string): Promise<Buffer | undefined> {
    return this.run(() => {
      const inode = this.disk.lookup(path);
      return inode === undefined ? undefined : Buffer.from(inode.content);
    });
  }

  writeFile(path: string, data: Uint8Array): Promise<void> {
    return this.run(() => {
      const inode = this.disk.create(path);
      inode.content = Buffer.from(data);
    });
  }

  writeFileDurable(path: string, data: Uint8Array): Promise<void> {
    if (!this.disk.alive(this.generation)) return NEVER;
    const inode = new Inode();
    inode.content = Buffer.from(data);
    // The temp file's fsync, then rename and folder fsync: atomic, durable once resolved.
    return this.disk.fsync(this.generation, inode).then(() =>
      this.run(() => {
        this.disk.link(path, inode);
        this.disk.syncDir(dirname(path));
      }),
    );
  }

  syncFile(path: string): Promise<void> {
    if (!this.disk.alive(this.generation)) return NEVER;
    const inode = this.disk.lookup(path);
    if (inode === undefined) return Promise.reject(new IoError('ENOENT', path, 'fsync'));
    return this.disk.fsync(this.generation, inode);
  }

  rename(from: string, to: string): Promise<void> {
    return this.run(() => {
      const inode = this.disk.lookup(from);
      if (inode === undefined) throw new IoError('ENOENT', from, `rename to ${to}`);
      this.disk.unlink(from);
      this.disk.link(to, inode);
    });
  }

  unlink(path: string): Promise<void> {
    return this.run(() => this.disk.unlink(path));
  }

  removeDir(path: string): Promise<void> {
    return this.run(() => this.disk.removeDir(path));
  }

  syncDir(path: string): Promise<void> {
    if (!this.disk.alive(this.generation)) return NEVER;
    return this.disk.fsyncDir(this.generation, path);
  }
}
