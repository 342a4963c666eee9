// Shared helpers of the storage tests: record batch builders, both Disk backends, temp folders and a
// disk that fails on demand. Not a test file itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Disk } from '../../src/io/disk.ts';
import { createDisk } from '../../src/io/real/select-disk.ts';
import { PortableDisk } from '../../src/io/real/portable-disk.ts';
import { crc32c } from '../../src/util/crc32c.ts';
import { IoError } from '../../src/util/errors.ts';

export interface RecordSpec {
  key?: Buffer | null;
  value?: Buffer | null;
  timestampDelta?: number;
}

function zigzag(n: number): number[] {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function encodeRecord(r: RecordSpec, offsetDelta: number): Buffer {
  const key = r.key ?? null;
  const value = r.value === undefined ? Buffer.from(`v${offsetDelta}`) : r.value;
  const body = Buffer.concat([
    Buffer.from([0]),
    Buffer.from(zigzag(r.timestampDelta ?? 0)),
    Buffer.from(zigzag(offsetDelta)),
    Buffer.from(zigzag(key ? key.length : -1)),
    key ?? Buffer.alloc(0),
    Buffer.from(zigzag(value ? value.length : -1)),
    value ?? Buffer.alloc(0),
    Buffer.from(zigzag(0)),
  ]);
  return Buffer.concat([Buffer.from(zigzag(body.length)), body]);
}

/** A valid uncompressed record batch v2 with the given records (base offset 0, epoch 0). */
export function makeBatch(records: RecordSpec[], baseTimestamp = 1_700_000_000_000, attributes = 0): Buffer {
  const encoded = records.map((r, i) => encodeRecord(r, i));
  const body = Buffer.concat(encoded);
  const b = Buffer.alloc(61 + body.length);
  b.writeBigInt64BE(0n, 0);
  b.writeInt32BE(b.length - 12, 8);
  b.writeInt32BE(0, 12);
  b.writeInt8(2, 16);
  b.writeInt16BE(attributes, 21);
  b.writeInt32BE(Math.max(0, records.length - 1), 23);
  b.writeBigInt64BE(BigInt(baseTimestamp), 27);
  const maxDelta = Math.max(0, ...records.map((r) => r.timestampDelta ?? 0));
  b.writeBigInt64BE(BigInt(baseTimestamp + maxDelta), 35);
  b.writeBigInt64BE(-1n, 43);
  b.writeInt16BE(-1, 51);
  b.writeInt32BE(-1, 53);
  b.writeInt32BE(records.length, 57);
  body.copy(b, 61);
  b.writeUInt32BE(crc32c(b, 0, 21, b.length), 17);
  return b;
}

/** A batch of `count` records whose values fill about `bytes` bytes, deterministic from `seed`. */
export function sizedBatch(count: number, bytes: number, seed: number, baseTimestamp = 1_700_000_000_000): Buffer {
  const per = Math.max(1, Math.floor(bytes / Math.max(1, count)));
  const records: RecordSpec[] = [];
  for (let i = 0; i < count; i++) {
    const value = Buffer.alloc(per);
    for (let j = 0; j < per; j++) value[j] = (seed * 31 + i * 7 + j) & 0xff;
    records.push({ key: Buffer.from(`k${(seed + i) % 50}`), value });
  }
  return makeBatch(records, baseTimestamp);
}

export interface Backend {
  readonly name: 'native' | 'portable';
  readonly disk: Disk;
}

/** Both Disk backends. The native one must load: a missing addon fails the tests, it does not skip them. */
export function backends(): Backend[] {
  return [
    { name: 'native', disk: createDisk('native') },
    { name: 'portable', disk: new PortableDisk('tests') },
  ];
}

export function tempDir(prefix = 'sb-storage-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A Disk wrapper that counts appends and syncs and can fail them on demand: `failSync` makes the next
 * fdatasync/fsync fail with EIO; `capacityBytes` makes appends past that many bytes (summed over all
 * files written through it) fail with ENOSPC, as a full disk would, until it is raised.
 */
export class FaultyDisk implements Disk {
  syncs = 0;
  appends = 0;
  writtenBytes = 0;
  failSync = false;
  capacityBytes = Number.POSITIVE_INFINITY;
  constructor(private readonly inner: Disk) {}
  get info() {
    return this.inner.info;
  }
  async openAppend(path: string, options: Parameters<Disk['openAppend']>[1]): ReturnType<Disk['openAppend']> {
    const file = await this.inner.openAppend(path, options);
    const self = this;
    return {
      path: file.path,
      get direct() {
        return file.direct;
      },
      get size() {
        return file.size;
      },
      async append(buffers) {
        let bytes = 0;
        for (const b of buffers) bytes += b.byteLength;
        if (self.writtenBytes + bytes > self.capacityBytes) throw new IoError('ENOSPC', path, 'append (simulated full disk)');
        self.appends++;
        self.writtenBytes += bytes;
        return file.append(buffers);
      },
      appendNow(buffers) {
        let bytes = 0;
        for (const b of buffers) bytes += b.byteLength;
        if (self.writtenBytes + bytes > self.capacityBytes) throw new IoError('ENOSPC', path, 'append (simulated full disk)');
        self.appends++;
        self.writtenBytes += bytes;
        return file.appendNow(buffers);
      },
      async sync(full) {
        self.syncs++;
        if (self.failSync) throw new IoError('EIO', path, 'fdatasync (simulated)');
        return file.sync(full);
      },
      truncate: (size) => file.truncate(size),
      close: () => file.close(),
    };
  }
  openRead(path: string, options: { map: boolean }) {
    return this.inner.openRead(path, options);
  }
  crc32c(data: Uint8Array, seed?: number, start?: number, end?: number): number {
    return this.inner.crc32c(data, seed, start, end);
  }
  statfs(path: string) {
    return this.inner.statfs(path);
  }
  mkdir(path: string) {
    return this.inner.mkdir(path);
  }
  readdir(path: string) {
    return this.inner.readdir(path);
  }
  fileSize(path: string) {
    return this.inner.fileSize(path);
  }
  readFile(path: string) {
    return this.inner.readFile(path);
  }
  writeFile(path: string, data: Uint8Array) {
    return this.inner.writeFile(path, data);
  }
  writeFileDurable(path: string, data: Uint8Array) {
    return this.inner.writeFileDurable(path, data);
  }
  syncFile(path: string) {
    return this.inner.syncFile(path);
  }
  rename(from: string, to: string) {
    return this.inner.rename(from, to);
  }
  unlink(path: string) {
    return this.inner.unlink(path);
  }
  removeDir(path: string) {
    return this.inner.removeDir(path);
  }
  syncDir(path: string) {
    return this.inner.syncDir(path);
  }
}
