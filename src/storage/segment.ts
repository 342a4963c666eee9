/**
 * One segment: its .log file, offset and time indexes, and where it stands:
 *   active   accepting appends through its SegmentAppender
 *   sealing  rolled: no more appends; pending writes finish, then the file is cut to its logical
 *            size, fsynced and closed, and the index files are written
 *   sealed   immutable; read through a read-only mapping when the backend has one
 * Offsets: `baseOffset` names the file; `nextOffset` is one past the last offset in it (equal to
 * baseOffset while empty). Sizes are logical: bytes accepted, written or not.
 */
import { join } from 'node:path';
import type { AppendFile, Disk, ReadFile } from '../io/disk.ts';
import { assert } from '../util/assert.ts';
import { INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, segmentFileName } from './file-names.ts';
import { OffsetIndex } from './offset-index.ts';
import { SegmentAppender, type AppenderEvents } from './segment-appender.ts';
import { TimeIndex } from './time-index.ts';

export type SegmentState = 'active' | 'sealing' | 'sealed';

export class Segment {
  readonly logPath: string;
  readonly indexPath: string;
  readonly timeIndexPath: string;
  offsetIndex: OffsetIndex;
  timeIndex: TimeIndex;
  state: SegmentState;
  /** Logical size in bytes (accepted batches). */
  sizeBytes: number;
  /** One past the last offset held (baseOffset when empty). */
  nextOffset: number;
  /** Greatest batch maxTimestamp (-1 when empty). */
  maxTimestamp = -1;
  /** Wall time of the first append in this process, or the first batch's timestamp after a restart. */
  firstBatchMs: number | undefined;
  appender: SegmentAppender | undefined;
  /** Settles when sealing finished (only set once sealing starts). */
  sealed: Promise<void> | undefined;
  #bytesSinceIndex = 0;
  #reader: Promise<ReadFile> | undefined;
  #readerWantsMap = false;
  #readerMapped = false;
  #reads = 0;
  #retired = false;

  constructor(
    readonly dir: string,
    readonly baseOffset: number,
    private readonly indexIntervalBytes: number,
    state: SegmentState,
  ) {
    assert(Number.isSafeInteger(baseOffset) && baseOffset >= 0, 'bad segment base offset');
    this.logPath = join(dir, segmentFileName(baseOffset, LOG_SUFFIX));
    this.indexPath = join(dir, segmentFileName(baseOffset, INDEX_SUFFIX));
    this.timeIndexPath = join(dir, segmentFileName(baseOffset, TIME_INDEX_SUFFIX));
    this.offsetIndex = new OffsetIndex(baseOffset);
    this.timeIndex = new TimeIndex(baseOffset);
    this.state = state;
    this.sizeBytes = 0;
    this.nextOffset = baseOffset;
  }

  /** Opens (or creates) the .log for appending at `size`; the file may still be opening. */
  attachAppender(file: AppendFile | Promise<AppendFile>, size: number, events: AppenderEvents, inlineWriteBytes: number): void {
    assert(this.appender === undefined, 'segment already has an appender');
    assert(size === this.sizeBytes, 'appender must start at the logical end');
    this.appender = new SegmentAppender(file, size, events, inlineWriteBytes);
    this.state = 'active';
  }

  /** Index bookkeeping for a batch at `position` (appended now, or found by a scan). */
  recordBatch(baseOffset: number, lastOffset: number, maxTimestamp: number, position: number, size: number): void {
    assert(baseOffset >= this.nextOffset, 'batch offsets must increase within a segment');
    assert(position === this.sizeBytes, 'batches must be contiguous');
    if (maxTimestamp > this.maxTimestamp) this.maxTimestamp = maxTimestamp;
    if (this.#bytesSinceIndex >= this.indexIntervalBytes && position > 0) {
      this.offsetIndex.append(baseOffset, position);
      this.timeIndex.maybeAppend(this.maxTimestamp, baseOffset);
      this.#bytesSinceIndex = 0;
    }
    this.#bytesSinceIndex += size;
    this.sizeBytes = position + size;
    this.nextOffset = lastOffset + 1;
  }

  /** Accepts a stamped batch for writing; returns its position. Active segments only. */
  append(batch: Uint8Array, baseOffset: number, lastOffset: number, maxTimestamp: number, nowMs: number): number {
    assert(this.state === 'active' && this.appender !== undefined, 'append to a segment that is not active');
    const position = this.appender.append(batch);
    this.recordBatch(baseOffset, lastOffset, maxTimestamp, position, batch.byteLength);
    if (this.firstBatchMs === undefined) this.firstBatchMs = nowMs;
    return position;
  }

  /**
   * Forgets every batch from `position` on (the log was cut there): the segment now ends at
   * `nextOffset`. The greatest timestamp is kept as it was: an overestimate, which only delays
   * time-based retention.
   */
  cut(position: number, nextOffset: number): void {
    assert(position >= 0 && position <= this.sizeBytes, 'cut beyond the segment end');
    assert(nextOffset >= this.baseOffset && nextOffset <= this.nextOffset, 'cut offset outside the segment');
    this.offsetIndex.truncateToPosition(position);
    this.timeIndex.truncateToOffset(nextOffset);
    this.sizeBytes = position;
    this.nextOffset = nextOffset;
    this.#bytesSinceIndex = this.indexIntervalBytes;
    if (position === 0) {
      this.maxTimestamp = -1;
      this.firstBatchMs = undefined;
    }
  }

  /**
   * Adopts indexes loaded from disk and positions the bookkeeping at their last entry, so that a
   * header walk from there (recordBatch for each batch) completes it.
   */
  adoptIndexes(offsetIndex: OffsetIndex, timeIndex: TimeIndex): number {
    assert(offsetIndex.baseOffset === this.baseOffset && timeIndex.baseOffset === this.baseOffset, 'index of another segment');
    assert(this.sizeBytes === 0, 'indexes adopted into a segment with batches');
    this.offsetIndex = offsetIndex;
    this.timeIndex = timeIndex;
    const last = offsetIndex.last();
    this.maxTimestamp = timeIndex.maxTimestamp;
    if (!last) return 0;
    this.sizeBytes = last.position;
    this.nextOffset = last.offset;
    this.#bytesSinceIndex = 0;
    return last.position;
  }

  /** Drops both indexes and all bookkeeping, for a full rebuild by scan. */
  resetIndexes(): void {
    this.offsetIndex = new OffsetIndex(this.baseOffset);
    this.timeIndex = new TimeIndex(this.baseOffset);
    this.sizeBytes = 0;
    this.nextOffset = this.baseOffset;
    this.maxTimestamp = -1;
    this.#bytesSinceIndex = 0;
  }

  /**
   * Seals: waits for pending writes, cuts the file to its logical size (dropping O_DIRECT padding and
   * preallocated space), fsyncs it, closes it and writes the index files. Resolves when durable.
   */
  seal(disk: Disk): Promise<void> {
    assert(this.state === 'active' || this.state === 'sealing', 'segment already sealed');
    assert(this.appender !== undefined, 'sealing a segment without an appender');
    this.state = 'sealing';
    this.sealed = (async () => {
      const appender = this.appender!;
      // A failed write (disk full) was rolled back to sizeBytes by the log; cut the file there.
      await appender.drained().catch(() => undefined);
      const file = await appender.file();
      await file.truncate(this.sizeBytes);
      await file.sync(true);
      await appender.close();
      this.appender = undefined;
      this.addFinalTimeEntry();
      // The index files are caches: failing to write them (a full disk) costs a rebuild, not data.
      await this.writeIndexes(disk, true).catch(() => undefined);
      await this.dropReader();
      this.state = 'sealed';
    })();
    return this.sealed;
  }

  /**
   * Records the segment's greatest timestamp in the time index (at seal and clean close), against its
   * last offset: "every batch up to here has maxTimestamp <= T" then covers the whole segment.
   */
  addFinalTimeEntry(): void {
    if (this.nextOffset > this.baseOffset && this.maxTimestamp >= 0) this.timeIndex.maybeAppend(this.maxTimestamp, this.nextOffset - 1);
  }

  /** Writes both index files (fsynced when `durable`). */
  async writeIndexes(disk: Disk, durable: boolean): Promise<void> {
    await disk.writeFile(this.indexPath, this.offsetIndex.toBytes());
    await disk.writeFile(this.timeIndexPath, this.timeIndex.toBytes());
    if (durable) {
      await disk.syncFile(this.indexPath);
      await disk.syncFile(this.timeIndexPath);
    }
  }

  /**
   * Runs `fn` with a reader of the .log: a mapping once sealed (when the backend maps), otherwise a
   * pread descriptor. Counts the read so that retiring the segment closes the descriptor only after it.
   */
  async withReader<T>(disk: Disk, fn: (file: ReadFile) => Promise<T>): Promise<T> {
    const wantMap = this.state === 'sealed';
    if (this.#reader && this.#readerWantsMap !== wantMap && this.#reads === 0) await this.#dropReader();
    if (!this.#reader) {
      this.#readerWantsMap = wantMap;
      const opening = disk.openRead(this.logPath, { map: wantMap });
      this.#reader = opening;
      opening.then(
        (r) => (this.#readerMapped ||= r.mapped),
        () => {
          if (this.#reader === opening) this.#reader = undefined;
        },
      );
    }
    const reader = this.#reader;
    this.#reads++;
    try {
      return await fn(await reader);
    } finally {
      this.#reads--;
      if (this.#retired && this.#reads === 0) await this.#dropReader();
    }
  }

  /** Whether a read-only mapping of this file may exist (its file must then never shrink in place). */
  get mayBeMapped(): boolean {
    return this.#readerMapped;
  }

  /** The segment leaves the log: close the reader once no read uses it (mappings live on in views). */
  async retire(): Promise<void> {
    this.#retired = true;
    if (this.appender) {
      await this.appender.close().catch(() => undefined);
      this.appender = undefined;
    }
    if (this.#reads === 0) await this.#dropReader();
  }

  /** Forgets the reader (e.g. the file was replaced); the next read opens the current file. */
  async dropReader(): Promise<void> {
    if (this.#reads === 0) await this.#dropReader();
  }

  async #dropReader(): Promise<void> {
    const reader = this.#reader;
    this.#reader = undefined;
    if (reader) await (await reader.catch(() => undefined))?.close();
  }
}
