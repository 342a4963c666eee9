/**
 * Write-behind queue in front of one segment's AppendFile: batches are accepted synchronously
 * (their file position is known at once) and written in order, one write in flight at a time. While
 * a write is in flight, newly accepted batches accumulate and go out together in the next write
 * (one writev, or one aligned O_DIRECT write, of up to WRITE_BYTES_MAX), so a busy partition makes
 * few, large writes.
 *
 * Contract:
 * - `append` never blocks and never fails; a failed write is reported through `onWriteError` with
 *   the position up to which data was written. Everything accepted after that position (the failed
 *   write and anything queued behind it) is dropped, and appending may continue from that position
 *   (a disk that was full may have room again).
 * - `onWritten(position)` reports progress after each successful write, in order.
 * - `drained()` resolves once everything accepted before the call is written (rejects when that
 *   write fails). `sync`, `truncate` and `close` drain first.
 * - The file may still be opening (`file` is a promise, as when a segment was just rolled): writes
 *   wait for it; an open failure is a write failure.
 */
import type { AppendFile } from '../io/disk.ts';
import { assert } from '../util/assert.ts';

/**
 * The most bytes one write takes from the queue (a single larger batch still goes alone). Writes of
 * a few MiB copy batches while they are still in the CPU cache (they were just checked with CRC32C);
 * on the reference machine, 15 MiB writes ran at a quarter of the speed of 2 MiB ones.
 */
export const WRITE_BYTES_MAX = 2 * 1024 * 1024;

interface DrainWaiter {
  position: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface AppenderEvents {
  onWritten(position: number): void;
  onWriteError(error: unknown, writtenPosition: number): void;
}

export class SegmentAppender {
  #file: AppendFile | undefined;
  #opening: Promise<AppendFile> | undefined;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #endPosition: number;
  #writtenPosition: number;
  #writing = false;
  #scheduled = false;
  #waiters: DrainWaiter[] = [];
  #closed = false;
  #openFailed = false;
  #lastSync: Promise<unknown> = Promise.resolve();

  constructor(
    file: AppendFile | Promise<AppendFile>,
    position: number,
    private readonly events: AppenderEvents,
    /**
     * Writes of at most this many bytes to a buffered (not O_DIRECT) file are made on the calling
     * thread (AppendFile.appendNow, storage.inlineWriteBytes): a copy of that size into the page cache
     * takes tens of microseconds, while a round trip through the I/O pool costs a pool thread's and
     * then the event loop's wake-up, each a wait for a CPU on a busy machine. 0: every write goes
     * through the pool.
     */
    private readonly inlineWriteBytes = 0,
  ) {
    assert(position >= 0, 'appender position must be non-negative');
    if (file instanceof Promise) {
      this.#opening = file;
      // Observed here so an open failure is never unhandled; writes report it through onWriteError.
      file.then(
        (f) => (this.#file = f),
        () => (this.#openFailed = true),
      );
    } else {
      this.#file = file;
    }
    this.#endPosition = position;
    this.#writtenPosition = position;
  }

  /** Position after every accepted batch (written or not). */
  get endPosition(): number {
    return this.#endPosition;
  }

  /** Position after the last completed write. */
  get writtenPosition(): number {
    return this.#writtenPosition;
  }

  /** Accepts `bytes` for writing at the returned position. The buffer must not change afterwards. */
  append(bytes: Uint8Array): number {
    assert(!this.#closed, 'append to a closed appender');
    assert(bytes.byteLength > 0, 'empty append');
    const position = this.#endPosition;
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.byteLength;
    this.#endPosition += bytes.byteLength;
    if (!this.#writing && !this.#scheduled) {
      // Start on the next microtask, so appends made in the same turn share one write.
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        void this.#writeNext();
      });
    }
    return position;
  }

  /** Resolves when everything accepted so far is written; rejects if that write fails. */
  drained(): Promise<void> {
    const position = this.#endPosition;
    if (this.#writtenPosition >= position) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ position, resolve, reject }));
  }

  async file(): Promise<AppendFile> {
    return this.#file ?? (await this.#opening!);
  }

  /** The file could not be opened: this appender can never write. */
  get openFailed(): boolean {
    return this.#openFailed;
  }

  /** Drains, then fdatasync (fsync when full). Resolved = all data accepted before the call is durable. */
  async sync(full = false): Promise<void> {
    await this.drained();
    await this.syncWritten(full);
  }

  /** fdatasync (fsync when full) of what is written so far, without waiting for queued writes. */
  syncWritten(full = false): Promise<void> {
    const p = this.file().then((f) => f.sync(full));
    this.#lastSync = p.catch(() => undefined);
    return p;
  }

  /** Drains, then shortens the file to `position`, which becomes the new end. */
  async truncate(position: number): Promise<void> {
    await this.drained();
    assert(position <= this.#writtenPosition, 'truncate beyond the written end');
    await (await this.file()).truncate(position);
    this.#writtenPosition = position;
    this.#endPosition = position;
  }

  /** Drains and closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.drained();
    } finally {
      this.#closed = true;
      // A sync still running on this descriptor must finish before it is closed.
      await this.#lastSync;
      const file = this.#file ?? (await this.#opening!.catch(() => undefined));
      if (file) await file.close();
    }
  }

  async #writeNext(): Promise<void> {
    if (this.#writing || this.#queue.length === 0) return;
    this.#writing = true;
    const start = this.#writtenPosition;
    let buffers: Uint8Array[];
    let bytes: number;
    if (this.#queuedBytes <= WRITE_BYTES_MAX) {
      buffers = this.#queue;
      bytes = this.#queuedBytes;
      this.#queue = [];
      this.#queuedBytes = 0;
    } else {
      let n = 0;
      bytes = 0;
      while (n < this.#queue.length && (n === 0 || bytes + this.#queue[n]!.byteLength <= WRITE_BYTES_MAX)) bytes += this.#queue[n++]!.byteLength;
      buffers = this.#queue.splice(0, n);
      this.#queuedBytes -= bytes;
    }
    let failure: { error: unknown } | undefined;
    try {
      const file = this.#file ?? (await this.#opening!);
      const position = !file.direct && bytes <= this.inlineWriteBytes ? file.appendNow(buffers) : await file.append(buffers);
      assert(position === start, 'segment write landed at an unexpected position');
    } catch (error) {
      failure = { error };
    }
    this.#writing = false;
    if (failure) {
      // Drop the failed write and everything queued behind it; appending resumes at `start`.
      this.#queue = [];
      this.#queuedBytes = 0;
      this.#endPosition = start;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.reject(failure.error);
      this.events.onWriteError(failure.error, start);
      return;
    }
    this.#writtenPosition = start + bytes;
    assert(this.#writtenPosition <= this.#endPosition, 'written past the accepted end');
    if (this.#waiters.length > 0) {
      const still: DrainWaiter[] = [];
      for (const w of this.#waiters) {
        if (w.position <= this.#writtenPosition) w.resolve();
        else still.push(w);
      }
      this.#waiters = still;
    }
    this.events.onWritten(this.#writtenPosition);
    if (this.#queue.length > 0) void this.#writeNext();
  }
}
