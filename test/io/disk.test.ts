// Goal: both Disk backends keep the same contract (appends, logical size, sync, truncate, reads,
// folder and small-file operations, statfs) so that storage runs unchanged on either; the backend
// chooser picks native when it loads and says which backend runs and why.
// Method: the same checks against each backend over real files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createDisk } from '../../src/io/real/select-disk.ts';
import { IoError } from '../../src/util/errors.ts';
import { backends, tempDir } from '../storage/helpers.ts';

test('createDisk chooses native when it loads, portable on request', () => {
  const auto = createDisk();
  assert.equal(auto.info.backend, 'native');
  assert.equal(auto.info.crc32cHardware, true);
  const portable = createDisk('portable');
  assert.equal(portable.info.backend, 'portable');
  assert.match(portable.info.reason, /portable/);
});

for (const { name, disk } of backends()) {
  test(`${name}: append, size, truncate, reads`, async () => {
    const dir = tempDir('sb-disk-');
    const path = join(dir.path, 'f.log');
    try {
      const f = await disk.openAppend(path, { direct: false, preallocateBytes: 0, size: 0 });
      assert.equal(await f.append([Buffer.from('hello '), Buffer.from('world')]), 0);
      assert.equal(f.size, 11);
      assert.equal(await f.append([Buffer.from('!')]), 11);
      await f.sync();
      await f.truncate(5);
      assert.equal(f.size, 5);
      await f.close();
      assert.equal(readFileSync(path, 'utf8'), 'hello');
      for (const map of [true, false]) {
        const r = await disk.openRead(path, { map });
        assert.equal((await r.read(1, 3)).toString(), 'ell');
        assert.equal((await r.read(3, 100)).toString(), 'lo', 'short at the end');
        await r.close();
      }
      assert.equal(disk.crc32c(Buffer.from('123456789')), 0xe3069283);
    } finally {
      dir.remove();
    }
  });

  test(`${name}: appendNow writes at once and interleaves with append; refused on a closed file with an IoError`, async () => {
    const dir = tempDir('sb-disk-');
    const path = join(dir.path, 'now.log');
    try {
      const f = await disk.openAppend(path, { direct: false, preallocateBytes: 1 << 16, size: 0 });
      assert.equal(f.appendNow([Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cd')]), 0);
      assert.equal(f.size, 4);
      assert.equal(readFileSync(path).subarray(0, 4).toString(), 'abcd', 'written before the call returned');
      assert.equal(await f.append([Buffer.from('ef')]), 4);
      assert.equal(f.appendNow([Buffer.alloc(100_000, 7)]), 6);
      assert.equal(f.size, 100_006);
      await f.sync();
      await f.close();
      const bytes = readFileSync(path).subarray(0, 100_006);
      assert.equal(bytes.subarray(0, 6).toString(), 'abcdef');
      assert.ok(bytes.subarray(6).every((b) => b === 7));
      assert.throws(() => f.appendNow([Buffer.from('x')]), (e: unknown) => e instanceof IoError, 'a closed file refuses with an IoError');
    } finally {
      dir.remove();
    }
  });

  test(`${name}: folders and small files`, async () => {
    const dir = tempDir('sb-disk-');
    try {
      const sub = join(dir.path, 'a/b');
      await disk.mkdir(sub);
      await disk.mkdir(sub);
      await disk.writeFileDurable(join(sub, 'x'), Buffer.from('1'));
      await disk.writeFile(join(sub, 'y'), Buffer.from('22'));
      await disk.syncFile(join(sub, 'y'));
      assert.deepEqual(await disk.readdir(sub), ['x', 'y']);
      assert.deepEqual(readdirSync(sub).filter((n) => n.endsWith('.tmp')), []);
      assert.equal(await disk.fileSize(join(sub, 'y')), 2);
      assert.equal(await disk.fileSize(join(sub, 'z')), undefined);
      assert.equal(await disk.readFile(join(sub, 'z')), undefined);
      await disk.rename(join(sub, 'y'), join(sub, 'z'));
      assert.equal((await disk.readFile(join(sub, 'z')))!.toString(), '22');
      await disk.unlink(join(sub, 'z'));
      await disk.unlink(join(sub, 'z'));
      await disk.syncDir(sub);
      await assert.rejects(disk.readdir(join(dir.path, 'missing')), (e) => e instanceof IoError && e.errno === 'ENOENT');
      await disk.removeDir(join(dir.path, 'a'));
      assert.equal(existsSync(join(dir.path, 'a')), false);
      const s = await disk.statfs(dir.path);
      assert.ok(s.totalBytes > 0 && s.usedBytes === s.totalBytes - s.freeBytes && s.availableBytes <= s.freeBytes);
    } finally {
      dir.remove();
    }
  });
}
