// Goal: every function of the native addon keeps its contract: CRC32C equals the portable one,
// O_DIRECT and buffered appends leave exactly the appended bytes (the partial tail page rewritten,
// zero padding past the logical end), truncate reloads the tail, mappings and pread read what was
// written, errors carry errno and path, sd_notify reaches a datagram socket, and the probes answer.
// Method: random appends compared with an in-memory copy; a python3 datagram receiver for sd_notify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNativeAddon, type NativeAddon } from '../../src/io/real/native-addon.ts';
import { NativeDisk } from '../../src/io/real/native-disk.ts';
import { openFileLimit, probeDirectIo, sdNotify } from '../../src/io/real/system.ts';
import { crc32c } from '../../src/util/crc32c.ts';
import { IoError } from '../../src/util/errors.ts';
import { tempDir } from '../storage/helpers.ts';

function addon(): NativeAddon {
  const status = loadNativeAddon();
  assert.ok(status.addon, status.reason);
  return status.addon;
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test('the addon loads and says why', () => {
  const status = loadNativeAddon();
  assert.ok(status.addon);
  assert.match(status.reason, /streambus\.node loaded/);
});

test('crc32c matches the portable implementation on any range and seed', () => {
  const a = addon();
  const rnd = random(1);
  const big = Buffer.alloc(200_000);
  for (let i = 0; i < big.length; i++) big[i] = Math.floor(rnd() * 256);
  assert.equal(a.crc32c(Buffer.from('123456789')), 0xe3069283);
  for (let i = 0; i < 300; i++) {
    const start = Math.floor(rnd() * 1000);
    const end = start + Math.floor(rnd() * (i % 10 === 0 ? 150_000 : 3000));
    const seed = Math.floor(rnd() * 2 ** 32);
    assert.equal(a.crc32c(big, seed, start, end), crc32c(big, seed, start, end), `range ${start}..${end}`);
  }
  assert.throws(() => a.crc32c(big, 0, 10, 5), RangeError);
});

for (const direct of [true, false]) {
  test(`appends (${direct ? 'O_DIRECT' : 'buffered'}) leave exactly the appended bytes; truncate reloads the tail`, async () => {
    const a = addon();
    const dir = tempDir('sb-native-');
    const path = join(dir.path, 'seg.log');
    const rnd = random(direct ? 2 : 3);
    try {
      const opened = await a.openSegment(path, { direct, preallocate: 64 * 1024, size: 0 });
      assert.equal(opened.direct, direct);
      let expected = Buffer.alloc(0);
      for (let i = 0; i < 60; i++) {
        const parts = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => Buffer.alloc(Math.floor(rnd() * 9000), Math.floor(rnd() * 255) + 1));
        const position = await a.append(opened.handle, parts);
        assert.equal(position, expected.length);
        expected = Buffer.concat([expected, ...parts]);
        if (i === 30) {
          const cut = Math.floor(expected.length / 2) + 1;
          await a.truncate(opened.handle, cut);
          expected = expected.subarray(0, cut);
        }
      }
      await a.sync(opened.handle);
      assert.equal(a.segmentSize(opened.handle), expected.length);
      const onDisk = readFileSync(path);
      assert.ok(onDisk.subarray(0, expected.length).equals(expected));
      assert.ok(onDisk.subarray(expected.length).every((x) => x === 0), 'only zeros past the logical end');
      if (direct) assert.equal(onDisk.length % 4096, 0);
      await a.close(opened.handle);
      // Reopen at the logical size: the next append continues exactly there.
      const again = await a.openSegment(path, { direct, preallocate: 0, size: expected.length });
      await a.append(again.handle, [Buffer.from('tail')]);
      await a.truncate(again.handle, expected.length + 4);
      await a.close(again.handle);
      const mapped = Buffer.from(a.mapReadonly(path));
      assert.ok(mapped.equals(Buffer.concat([expected, Buffer.from('tail')])));
      const file = await a.openFile(path);
      const target = Buffer.alloc(10);
      assert.equal(await a.pread(file, target, expected.length), 4, 'short read at the end');
      assert.equal(target.subarray(0, 4).toString(), 'tail');
      await a.closeFile(file);
    } finally {
      dir.remove();
    }
  });
}

test('a new segment reserves 1 MiB at first and the reservation doubles as it fills, up to the configured step', async () => {
  const a = addon();
  const dir = tempDir('sb-native-');
  const path = join(dir.path, 'seg.log');
  const MiB = 1024 * 1024;
  try {
    const opened = await a.openSegment(path, { direct: false, preallocate: 32 * MiB, size: 0 });
    // Every Linux filesystem the broker supports (ext4, xfs, tmpfs) takes fallocate.
    assert.ok(opened.preallocated, 'fallocate refused here');
    // An idle partition holds 1 MiB, not a full step (thousands of partitions per broker).
    assert.equal(statSync(path).size, MiB);
    await a.append(opened.handle, [Buffer.alloc(MiB + 1, 1)]);
    assert.equal(statSync(path).size, 2 * MiB, 'grown by a step of 1 MiB');
    await a.append(opened.handle, [Buffer.alloc(2 * MiB, 2)]);
    assert.equal(statSync(path).size, 4 * MiB, 'then by a doubled step of 2 MiB');
    assert.equal(a.segmentSize(opened.handle), 3 * MiB + 1);
    await a.close(opened.handle);
  } finally {
    dir.remove();
  }
});

test('errors become IoError with errno and path; opening beyond the end is refused', async () => {
  const a = addon();
  const disk = new NativeDisk(a, 'test');
  await assert.rejects(disk.openAppend('/nonexistent-dir/x.log', { direct: false, preallocateBytes: 0, size: 0 }), (e) => {
    assert.ok(e instanceof IoError);
    assert.equal(e.errno, 'ENOENT');
    assert.equal(e.path, '/nonexistent-dir/x.log');
    assert.equal(e.code, 'SB_ERR_IO');
    return true;
  });
  const dir = tempDir('sb-native-');
  try {
    writeFileSync(join(dir.path, 'small'), 'abc');
    await assert.rejects(disk.openAppend(join(dir.path, 'small'), { direct: false, preallocateBytes: 0, size: 10 }), (e) => e instanceof IoError && e.errno === 'EINVAL');
    assert.throws(() => a.mapReadonly(join(dir.path, 'missing')), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    assert.equal(a.mapReadonly(join(dir.path, 'small')).byteLength, 3);
  } finally {
    dir.remove();
  }
});

test('statfs, the open-file limit and the O_DIRECT probe', async () => {
  const a = addon();
  const s = a.statfs(tmpdir());
  assert.ok(s.totalBytes > 0 && s.freeBytes <= s.totalBytes && s.availableBytes <= s.freeBytes);
  const limit = openFileLimit();
  assert.ok(limit && limit.soft > 0 && limit.soft <= limit.hard);
  const probe = await probeDirectIo(tmpdir());
  assert.equal(typeof probe.supported, 'boolean');
  assert.equal(probe.supported, true, `O_DIRECT refused in ${tmpdir()}: ${probe.reason}`);
});

test('sdNotify: false without NOTIFY_SOCKET; delivers the datagram with it', async () => {
  const saved = process.env['NOTIFY_SOCKET'];
  delete process.env['NOTIFY_SOCKET'];
  try {
    assert.equal(sdNotify('READY=1'), false);
    const dir = tempDir('sb-notify-');
    const socketPath = join(dir.path, 'notify.sock');
    // Node has no unix datagram sockets: a small python3 receiver prints what it gets.
    const receiver = spawn('python3', ['-c', `import socket,sys
s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); print('bound', flush=True)
print(s.recv(4096).decode(), flush=True)`, socketPath]);
    let out = '';
    const bound = new Promise<void>((resolve) => receiver.stdout.on('data', (d: Buffer) => ((out += d), out.includes('bound') && resolve())));
    const exited = new Promise<void>((resolve) => receiver.on('exit', () => resolve()));
    try {
      await bound;
      process.env['NOTIFY_SOCKET'] = socketPath;
      assert.equal(sdNotify('READY=1\nSTATUS=storage recovered'), true);
      await exited;
      assert.match(out, /READY=1\nSTATUS=storage recovered/);
      process.env['NOTIFY_SOCKET'] = join(dir.path, 'nobody-listens.sock');
      assert.throws(() => sdNotify('READY=1'), (e) => e instanceof IoError);
    } finally {
      receiver.kill();
      dir.remove();
    }
  } finally {
    if (saved === undefined) delete process.env['NOTIFY_SOCKET'];
    else process.env['NOTIFY_SOCKET'] = saved;
  }
});
