// Goal: MemDisk keeps the crash semantics the partition simulation relies on: fsynced bytes survive
// a power loss and unsynced ones survive only as a prefix of what was written; a file created or
// renamed is there after a power loss only if its folder was synced; writeFileDurable is atomic and
// durable; a killed process loses nothing written, and a dead process's operations never complete.
// Method: drive one MemDisk by hand on a ManualClock, over many seeds for the random tears.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../helpers/manual-clock.ts';
import { MemDisk } from './mem-disk.ts';
import { Prng } from './prng.ts';

/** Runs the clock (fsync latencies) until `promise` settles. */
async function settle<T>(clock: ManualClock, promise: Promise<T>): Promise<T> {
  let done = false;
  void promise.finally(() => (done = true)).catch(() => undefined);
  for (let i = 0; i < 100 && !done; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (!done) clock.advance(1000);
  }
  return promise;
}

test('a power loss keeps the synced bytes and a prefix of the unsynced ones', async () => {
  const kept = new Set<number>();
  for (let seed = 0; seed < 40; seed++) {
    const clock = new ManualClock();
    const memDisk = new MemDisk(new Prng(seed), { clock, lyingFsync: false });
    const disk = memDisk.mount();
    await disk.mkdir('/d');
    const file = await disk.openAppend('/d/f', { direct: false, preallocateBytes: 0, size: 0 });
    await settle(clock, disk.syncDir('/d'));
    await file.append([Buffer.from('durable-')]);
    await settle(clock, file.sync());
    await file.append([Buffer.from('volatile')]);
    memDisk.crash();
    const after = memDisk.mount();
    const content = (await after.readFile('/d/f'))!.toString();
    assert.ok('durable-volatile'.startsWith(content) && content.startsWith('durable-'), `kept ${content}`);
    kept.add(content.length);
  }
  assert.ok(kept.size > 3, 'tears land at different places');
});

test('names are durable only after a folder sync; writeFileDurable at once', async () => {
  const clock = new ManualClock();
  const memDisk = new MemDisk(new Prng(1), { clock, lyingFsync: false });
  const disk = memDisk.mount();
  await disk.mkdir('/d');
  await disk.writeFile('/d/a', Buffer.from('a'));
  await settle(clock, disk.syncFile('/d/a'));
  await settle(clock, disk.writeFileDurable('/d/b', Buffer.from('b')));
  await disk.writeFile('/d/c', Buffer.from('c'));
  await settle(clock, disk.syncFile('/d/c'));
  await disk.rename('/d/b', '/d/e');
  memDisk.crash();
  const after = memDisk.mount();
  // writeFileDurable synced the folder, so `a` (created before it) came along; `c` and the rename did not.
  assert.deepEqual(await after.readdir('/d'), ['a', 'b']);
  assert.equal((await after.readFile('/d/b'))!.toString(), 'b');
});

test('a killed process loses nothing written; a dead process never completes an operation', async () => {
  const clock = new ManualClock();
  const memDisk = new MemDisk(new Prng(2), { clock, lyingFsync: false });
  const disk = memDisk.mount();
  await disk.mkdir('/d');
  const file = await disk.openAppend('/d/f', { direct: false, preallocateBytes: 0, size: 0 });
  await file.append([Buffer.from('written')]);
  const sync = file.sync();
  memDisk.kill();
  let settled = false;
  void sync.finally(() => (settled = true));
  void file.append([Buffer.from('late')]).finally(() => (settled = true));
  clock.advance(10_000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(settled, false, 'the dead process saw an operation complete');
  assert.equal((await memDisk.mount().readFile('/d/f'))!.toString(), 'written');
});
