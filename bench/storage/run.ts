// Storage benchmark: append throughput through the partition Log (100 KiB and 1 MiB batches, direct
// and buffered, fdatasync per batch and every 1 s), read throughput (mmap views against pread copies),
// and CRC32C (native against the portable table), each next to fio running the same pattern on the
// same disk in the same run. Writes bench/results/storage.json.
//
// Usage: npm run build && node lib/bench/storage/run.js [--quick]
// Files go to bench/results/tmp/ (removed afterwards). --quick shrinks every volume (a smoke run).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join, resolve } from 'node:path';
import type { Disk, ReadFile } from '../../src/io/disk.ts';
import { realClock } from '../../src/io/real/real-clock.ts';
import { createDisk } from '../../src/io/real/select-disk.ts';
import { PortableDisk } from '../../src/io/real/portable-disk.ts';
import { Log } from '../../src/storage/log.ts';
import type { IoMode } from '../../src/storage/log-options.ts';
import { crc32c as portableCrc } from '../../src/util/crc32c.ts';

const quick = process.argv.includes('--quick');
const root = resolve(new URL('.', import.meta.url).pathname, '../../..');
const tmp = join(root, 'bench/results/tmp');
const MiB = 1024 * 1024;
const KiB = 1024;

/** A valid record batch v2 of exactly `size` bytes: one record whose value fills the rest. */
function batchOf(size: number, disk: Disk): Buffer {
  const b = Buffer.alloc(size);
  // Record: varint length, attributes, timestampDelta 0, offsetDelta 0, key -1, value, headers 0.
  const zig = (n: number): number[] => {
    let v = n >= 0 ? n * 2 : -n * 2 - 1;
    const out: number[] = [];
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
    return out;
  };
  // Solve for the value length so that the batch is exactly `size` bytes.
  let valueLength = size - 61 - 16;
  for (;;) {
    const body = [0, ...zig(0), ...zig(0), ...zig(-1), ...zig(valueLength)].length + valueLength + zig(0).length;
    const total = 61 + zig(body).length + body;
    if (total === size) break;
    valueLength += size - total;
  }
  const head = [0, ...zig(0), ...zig(0), ...zig(-1), ...zig(valueLength)];
  const bodyLength = head.length + valueLength + 1;
  let at = 61;
  for (const x of [...zig(bodyLength), ...head]) b[at++] = x;
  for (let i = 0; i < valueLength; i++) b[at + i] = (i * 131) & 0xff;
  b[at + valueLength] = 0;
  b.writeInt32BE(size - 12, 8);
  b[16] = 2;
  b.writeInt32BE(0, 23);
  b.writeBigInt64BE(BigInt(Date.now()), 27);
  b.writeBigInt64BE(BigInt(Date.now()), 35);
  b.writeBigInt64BE(-1n, 43);
  b.writeInt16BE(-1, 51);
  b.writeInt32BE(-1, 53);
  b.writeInt32BE(1, 57);
  b.writeUInt32BE(disk.crc32c(b, 0, 21, size), 17);
  return b;
}

interface AppendRun {
  batchBytes: number;
  ioMode: IoMode;
  syncIntervalMs: number;
  bytes: number;
  seconds: number;
  mbPerSecond: number;
  batchesPerSecond: number;
}

/** Appends `total` bytes in `batchBytes` batches; syncInterval 0 waits for each batch's fdatasync. */
async function appendRun(disk: Disk, batchBytes: number, ioMode: IoMode, syncIntervalMs: number, total: number): Promise<AppendRun> {
  const dir = join(tmp, `append-${ioMode}-${batchBytes}-${syncIntervalMs}`);
  rmSync(dir, { recursive: true, force: true });
  const log = await Log.open(dir, { ioMode, syncIntervalMs, segmentBytes: 1024 * MiB, preallocateBytes: 64 * MiB, maxBatchBytes: 2 * MiB, tailCacheBytes: 0 }, disk, realClock);
  const template = batchOf(batchBytes, disk);
  const count = Math.floor(total / batchBytes);
  // Acknowledge on write (the broker's behaviour with an interval), with up to 4 MiB in flight, as a
  // few concurrent producers would have. (With 32 MiB in flight the batches are cold in the CPU cache
  // by the time they are written, and copying them ran at about a third of the speed on this machine.)
  const window = Math.max(1, Math.floor((4 * MiB) / batchBytes));
  // Each append takes ownership of its buffer until written; a ring larger than the window of copies
  // avoids measuring allocation without reusing a buffer still queued.
  const ring = Array.from({ length: window + 2 }, () => Buffer.from(template));
  settle();
  const started = process.hrtime.bigint();
  if (syncIntervalMs === 0) {
    for (let i = 0; i < count; i++) {
      const r = log.append(ring[i % ring.length]!, { leaderEpoch: 0 });
      await log.waitDurable(r.lastOffset);
    }
  } else {
    for (let i = 0; i < count; i++) {
      const r = log.append(ring[i % ring.length]!, { leaderEpoch: 0 });
      if (i >= window) await log.waitWritten(r.lastOffset - window);
    }
    await log.sync();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  const bytes = count * batchBytes;
  return { batchBytes, ioMode, syncIntervalMs, bytes, seconds, mbPerSecond: bytes / MiB / seconds, batchesPerSecond: count / seconds };
}

function fio(args: string[]): { mbPerSecond: number } | { error: string } {
  const r = spawnSync('fio', ['--output-format=json', ...args], { encoding: 'utf8' });
  if (r.status !== 0) return { error: (r.stderr || r.stdout || `fio exit ${r.status}`).trim().split('\n')[0]! };
  const job = (JSON.parse(r.stdout) as { jobs: Array<{ write: { bw_bytes: number }; read: { bw_bytes: number } }> }).jobs[0]!;
  return { mbPerSecond: Math.max(job.write.bw_bytes, job.read.bw_bytes) / MiB };
}

/** Flushes dirty pages of earlier runs so that each measurement starts from the same state. */
function settle(): void {
  spawnSync('sync');
}

function fioAppend(batchBytes: number, ioMode: IoMode, syncEach: boolean, total: number): ReturnType<typeof fio> {
  const file = join(tmp, `fio-${ioMode}-${batchBytes}`);
  settle();
  const result = fio([
    '--name=append',
    `--filename=${file}`,
    '--rw=write',
    `--bs=${batchBytes}`,
    `--size=${total}`,
    '--ioengine=psync',
    `--direct=${ioMode === 'direct' ? 1 : 0}`,
    syncEach ? '--fdatasync=1' : '--end_fsync=1',
    '--fallocate=native',
  ]);
  rmSync(file, { force: true });
  return result;
}

/** Reads every batch of a log through Log.read (1 MiB per call), touching one byte per page. */
async function readRun(disk: Disk, dir: string): Promise<{ bytes: number; seconds: number; mbPerSecond: number }> {
  const log = await Log.open(dir, { segmentBytes: 256 * MiB, maxBatchBytes: 2 * MiB, tailCacheBytes: 0 }, disk, realClock);
  let bytes = 0;
  let checksum = 0;
  const started = process.hrtime.bigint();
  for (let pass = 0; pass < 2; pass++) {
    let offset = log.logStartOffset;
    while (offset < log.endOffset) {
      const r = await log.read(offset, MiB);
      for (const b of r.buffers) {
        for (let i = 0; i < b.length; i += 4096) checksum ^= b[i]!;
        bytes += b.length;
      }
      offset = r.nextOffset;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await log.close();
  if (checksum === -1) console.log('unreachable');
  return { bytes, seconds, mbPerSecond: bytes / MiB / seconds };
}

/** The native Disk with mappings turned off: reads become pread copies (the active-segment path). */
function preadOnly(disk: Disk): Disk {
  return Object.assign(Object.create(disk) as Disk, { openRead: (path: string): Promise<ReadFile> => disk.openRead(path, { map: false }) });
}

function crcRun(fn: (b: Uint8Array) => number, buffer: Buffer, seconds: number): number {
  let bytes = 0;
  const started = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < seconds) {
    fn(buffer);
    bytes += buffer.length;
    elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  }
  return bytes / elapsed / 1e9;
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

async function main(): Promise<void> {
  mkdirSync(tmp, { recursive: true });
  const native = createDisk('native');
  const portable = new PortableDisk('bench');
  const volume = (bytes: number): number => (quick ? Math.min(bytes, 16 * MiB) : bytes);
  const report: Record<string, unknown> = {
    generatedAt: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      kernel: release(),
      loadAverage: loadavg(),
      filesystem: sh('stat', ['-f', '-c', '%T', tmp]),
      device: sh('df', ['--output=source', tmp]).split('\n').pop(),
      node: process.version,
      bun: sh(join(root, existsSync(join(root, 'node_modules/@oven/bun-linux-x64/bin/bun')) ? 'node_modules/@oven/bun-linux-x64/bin/bun' : 'node_modules/bun/bin/bun.exe'), ['--version']),
      fio: sh('fio', ['--version']),
      commit: sh('git', ['-C', root, 'rev-parse', 'HEAD']),
      backend: native.info.reason,
    },
    quick,
  };

  // CRC32C.
  const crcBuffer = Buffer.alloc(64 * MiB, 7);
  for (let i = 0; i < crcBuffer.length; i += 97) crcBuffer[i] = i & 0xff;
  const small = crcBuffer.subarray(0, 16 * KiB);
  report['crc32c'] = {
    nativeGBps: crcRun((b) => native.crc32c(b), crcBuffer, quick ? 0.2 : 1),
    portableGBps: crcRun((b) => portableCrc(b), crcBuffer, quick ? 0.2 : 1),
    native16KiBGBps: crcRun((b) => native.crc32c(b), small, quick ? 0.2 : 0.5),
    targetGBps: 5,
  };
  console.log('crc32c', report['crc32c']);

  // Appends, next to fio. The disk is shared, so ours and fio alternate, REPS times each, and the
  // report keeps every sample and compares medians.
  const REPS = quick ? 1 : 3;
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const appends: Array<AppendRun & { samplesMBps: number[]; fioMBps?: number; fioSamplesMBps?: number[]; fioError?: string; ratioToFio?: number }> = [];
  for (const batchBytes of [100 * KiB, MiB]) {
    for (const ioMode of ['direct', 'buffered'] as const) {
      for (const syncIntervalMs of [0, 1000]) {
        const base = syncIntervalMs === 0 && ioMode === 'buffered' ? 128 * MiB : 256 * MiB;
        const total = Math.floor(volume(base) / (batchBytes === MiB ? 1 : 2));
        const ours: AppendRun[] = [];
        const theirs: number[] = [];
        let fioError: string | undefined;
        for (let rep = 0; rep < REPS; rep++) {
          ours.push(await appendRun(native, batchBytes, ioMode, syncIntervalMs, total));
          const f = fioAppend(batchBytes, ioMode, syncIntervalMs === 0, Math.floor(total / batchBytes) * batchBytes);
          if ('error' in f) fioError = f.error;
          else theirs.push(f.mbPerSecond);
        }
        const samplesMBps = ours.map((o) => o.mbPerSecond);
        const mid = ours.find((o) => o.mbPerSecond === median(samplesMBps))!;
        const fioMBps = theirs.length ? median(theirs) : undefined;
        const row = { ...mid, samplesMBps, ...(fioMBps !== undefined ? { fioMBps, fioSamplesMBps: theirs, ratioToFio: mid.mbPerSecond / fioMBps } : { fioError }) };
        appends.push(row);
        console.log('append', JSON.stringify(row));
      }
    }
  }
  report['append'] = appends;
  const pick = (b: number, m: IoMode, s: number) => appends.find((a) => a.batchBytes === b && a.ioMode === m && a.syncIntervalMs === s)!;
  const direct1M = pick(MiB, 'direct', 0);
  const buffered1M = pick(MiB, 'buffered', 0);
  report['ioModeWinner'] = {
    pattern: '1 MiB appends, fdatasync per batch',
    directMBps: direct1M.mbPerSecond,
    bufferedMBps: buffered1M.mbPerSecond,
    winner: direct1M.mbPerSecond >= buffered1M.mbPerSecond ? 'direct' : 'buffered',
  };
  report['targets'] = {
    append1MiBSyncEachRatioToFio: { direct: direct1M.ratioToFio, buffered: buffered1M.ratioToFio, target: 0.8 },
    bufferedSequentialRatioToFio: { '1MiB': pick(MiB, 'buffered', 1000).ratioToFio, '100KiB': pick(100 * KiB, 'buffered', 1000).ratioToFio, target: 0.8 },
    crc32cNativeGBps: (report['crc32c'] as { nativeGBps: number }).nativeGBps,
  };

  // Reads: one log of sealed 256 MiB segments, read through mappings and through pread.
  const readDir = join(tmp, 'read');
  rmSync(readDir, { recursive: true, force: true });
  const writer = await Log.open(readDir, { ioMode: 'buffered', syncIntervalMs: 1000, segmentBytes: 256 * MiB, maxBatchBytes: 2 * MiB, tailCacheBytes: 0 }, native, realClock);
  const readVolume = volume(768 * MiB);
  const template = batchOf(MiB, native);
  for (let i = 0; i < readVolume / MiB; i++) {
    const r = writer.append(Buffer.from(template), { leaderEpoch: 0 });
    if (i % 16 === 15) await writer.waitWritten(r.lastOffset);
  }
  await writer.close();
  const mmapRead = await readRun(native, readDir);
  const preadRead = await readRun(preadOnly(native), readDir);
  const portableRead = await readRun(portable, readDir);
  const fioFile = join(readDir, '00000000000000000000.log');
  const fioPsync = fio(['--name=read', `--filename=${fioFile}`, '--rw=read', '--bs=1M', '--ioengine=psync', '--loops=2']);
  const fioMmap = fio(['--name=read', `--filename=${fioFile}`, '--rw=read', '--bs=1M', '--ioengine=mmap', '--loops=2']);
  report['read'] = {
    note: 'page cache warm (the log was just written); each Log.read returns up to 1 MiB; one byte per 4 KiB page is touched',
    nativeMmapMBps: mmapRead.mbPerSecond,
    nativePreadMBps: preadRead.mbPerSecond,
    portablePreadMBps: portableRead.mbPerSecond,
    fioPsyncMBps: 'error' in fioPsync ? fioPsync.error : fioPsync.mbPerSecond,
    fioMmapMBps: 'error' in fioMmap ? fioMmap.error : fioMmap.mbPerSecond,
    bytesPerRun: mmapRead.bytes,
  };
  console.log('read', report['read']);
  rmSync(readDir, { recursive: true, force: true });

  (report['machine'] as Record<string, unknown>)['loadAverageAtEnd'] = loadavg();
  const out = join(root, 'bench/results/storage.json');
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  if (!quick) writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  else console.log(JSON.stringify(report, null, 2));
  rmSync(tmp, { recursive: true, force: true });
  if (!quick) console.log(`wrote ${out}`);
  void readFileSync;
}

await main();
