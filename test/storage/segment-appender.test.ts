// Goal: the write-behind appender writes in order with one write in flight, coalesces what queues up
// meanwhile, reports progress, and after a failed write resumes at the last written position.
// Method: an in-memory AppendFile whose writes complete when the test says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppendFile } from '../../src/io/disk.ts';
import { SegmentAppender } from '../../src/storage/segment-appender.ts';
import { IoError } from '../../src/util/errors.ts';

class MemoryFile implements AppendFile {
  readonly path = 'mem';
  readonly direct = false;
  size = 0;
  data: number[] = [];
  writes: number[] = [];
  pending: Array<() => void> = [];
  failNext = false;
  append(buffers: readonly Uint8Array[]): Promise<number> {
    this.writes.push(buffers.length);
    return new Promise((resolve, reject) => {
      this.pending.push(() => {
        if (this.failNext) {
          this.failNext = false;
          return reject(new IoError('ENOSPC', 'mem', 'append'));
        }
        const at = this.size;
        for (const b of buffers) for (const x of b) this.data.push(x);
        this.size = this.data.length;
        resolve(at);
      });
    });
  }
  inline: number[] = [];
  failNow = false;
  appendNow(buffers: readonly Uint8Array[]): number {
    if (this.failNow) {
      this.failNow = false;
      throw new IoError('ENOSPC', 'mem', 'append');
    }
    const at = this.size;
    for (const b of buffers) for (const x of b) this.data.push(x);
    this.size = this.data.length;
    this.inline.push(buffers.length);
    return at;
  }
  async sync(): Promise<void> {}
  async truncate(size: number): Promise<void> {
    this.data.length = size;
    this.size = size;
  }
  async close(): Promise<void> {}
  /** Completes the oldest write and lets its continuation run. */
  async complete(): Promise<void> {
    this.pending.shift()!();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

const tick = () => new Promise((r) => setImmediate(r));

test('one write in flight; queued appends go out together; positions are contiguous', async () => {
  const file = new MemoryFile();
  const written: number[] = [];
  const a = new SegmentAppender(file, 0, { onWritten: (p) => written.push(p), onWriteError: () => assert.fail('no error expected') });
  assert.equal(a.append(Buffer.from('aa')), 0);
  await tick();
  assert.equal(file.writes.length, 1);
  assert.equal(a.append(Buffer.from('bbb')), 2);
  assert.equal(a.append(Buffer.from('c')), 5);
  await tick();
  assert.equal(file.writes.length, 1, 'second write waits for the first');
  const drained = a.drained();
  await file.complete();
  await tick();
  assert.deepEqual(file.writes, [1, 2], 'the two queued appends share one write');
  await file.complete();
  await drained;
  assert.deepEqual(written, [2, 6]);
  assert.equal(Buffer.from(file.data).toString(), 'aabbbc');
  assert.equal(a.writtenPosition, 6);
});

test('a failed write drops it and what queued behind it; appending resumes there', async () => {
  const file = new MemoryFile();
  const errors: number[] = [];
  const a = new SegmentAppender(file, 0, { onWritten: () => undefined, onWriteError: (_e, p) => errors.push(p) });
  a.append(Buffer.from('ok'));
  await tick();
  await file.complete();
  file.failNext = true;
  a.append(Buffer.from('lost'));
  await tick();
  a.append(Buffer.from('also'));
  const drained = a.drained();
  await file.complete();
  await assert.rejects(drained);
  assert.deepEqual(errors, [2]);
  assert.equal(a.endPosition, 2);
  assert.equal(a.append(Buffer.from('next')), 2);
  await tick();
  await file.complete();
  await a.drained();
  assert.equal(Buffer.from(file.data).toString(), 'oknext');
});

test('writes up to inlineWriteBytes are made at once (appendNow), in the turn they were queued; larger ones through append; a failed one is reported as any', async () => {
  const file = new MemoryFile();
  const written: number[] = [];
  const errors: number[] = [];
  const a = new SegmentAppender(file, 0, { onWritten: (p) => written.push(p), onWriteError: (_e, p) => errors.push(p) }, 4);
  a.append(Buffer.from('ab'));
  a.append(Buffer.from('cd'));
  await Promise.resolve();
  assert.deepEqual(file.inline, [2], 'the two appends of one turn share one write, made at once');
  assert.deepEqual(written, [4]);
  assert.equal(file.writes.length, 0);
  a.append(Buffer.from('efgh!'));
  await tick();
  assert.equal(file.writes.length, 1, 'five bytes go through append');
  await file.complete();
  assert.deepEqual(written, [4, 9]);
  file.failNow = true;
  a.append(Buffer.from('x'));
  await tick();
  assert.deepEqual(errors, [9]);
  assert.equal(a.endPosition, 9, 'appending resumes at the failed write');
  assert.equal(a.append(Buffer.from('y')), 9);
  await tick();
  assert.equal(Buffer.from(file.data).toString(), 'abcdefgh!y');
});
