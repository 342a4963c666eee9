/**
 * The log of one partition: an ordered set of segments under `<dataDir>/<topic>-<partition>/`,
 * holding Kafka record batches v2 exactly as produced (base offset and partition leader epoch
 * rewritten). Kafka produce/fetch and Raft both use it.
 *
 * Offsets. `logStartOffset` <= `durableOffset` <= `writtenOffset` <= `endOffset`, all "one past":
 *   endOffset      the next offset to assign; appends are accepted synchronously up to here
 *   writtenOffset  batches below it were written to the file (readable by `read`)
 *   durableOffset  batches below it are on stable storage (fdatasync returned)
 *
 * Durability contract. `waitDurable(o)` resolves once fdatasync has returned for every batch up to
 * and including the one holding offset `o`; `sync()` does the same for everything appended before
 * the call. With syncIntervalMs = 0 a waiter triggers a sync; otherwise a timer syncs every
 * syncIntervalMs. Waiters that arrive while a sync runs share the next one (group commit), so the
 * number of fdatasyncs does not grow with the number of producers.
 *
 * Failures. A failed fdatasync (or any I/O error other than a full disk) takes the log offline for
 * good: every later call fails with SB_ERR_LOG_DIR_OFFLINE and the owner hears of it through
 * `onDirFailure` (the log manager then takes the whole log directory offline). A sync is never
 * retried: after a failed fsync the kernel may have dropped the dirty pages. A full disk (ENOSPC)
 * fails the affected appends with SB_ERR_DISK_FULL and rolls the log back to what was written;
 * reads keep working and later appends succeed once there is room.
 *
 * Concurrency. `append` is synchronous and may be called at any time except while `truncateTo`,
 * `advanceLogStart` or `reset` runs (they are for the single replication driver, which awaits them).
 * `read`, waits and the maintenance calls (retention, compaction) may run concurrently.
 */
import { join } from 'node:path';
import type { Clock } from '../io/clock.ts';
import { every, type PeriodicTimer } from '../io/periodic-timer.ts';
import type { AppendFile, Disk } from '../io/disk.ts';
import { assert } from '../util/assert.ts';
import { IoError, StreamBusError, isStreamBusError } from '../util/errors.ts';
import { checkBatch, readLastOffsetDelta, readMaxTimestamp, stampBatch, type BatchRules } from '../protocol/kafka/record-batch/header.ts';
import { CLEAN_SHUTDOWN_FILE, LOG_START_OFFSET_FILE, RECOVERY_POINT_FILE, SWAP_SUFFIX } from './file-names.ts';
import { loadLog, type RecoveryInfo } from './log-loader.ts';
import { resolveLogOptions, type LogOptions } from './log-options.ts';
import { Segment } from './segment.ts';
import { findBatch, findTimestamp, readSlice } from './segment-reader.ts';
import { segmentsToDelete } from './retention.ts';

export interface AppendResult {
  readonly baseOffset: number;
  readonly lastOffset: number;
}

export interface ReadResult {
  /** Whole batches in offset order; views of the tail cache or the segment file. Do not modify. */
  readonly buffers: Buffer[];
  readonly sizeBytes: number;
  /** Base offset of the first batch returned (the requested offset when nothing is returned). */
  readonly firstOffset: number;
  /** One past the last offset returned (the requested offset when nothing is returned). */
  readonly nextOffset: number;
}

export interface LogHooks {
  /** A failed fsync or write (other than ENOSPC): the directory holding this log is suspect. */
  onDirFailure?(error: StreamBusError): void;
}

/** A batch between `append` and its write; also the tail cache entry. */
interface RecentBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly buffer: Buffer;
  readonly segment: Segment;
  readonly position: number;
}

interface OffsetWaiter {
  readonly offset: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

const EMPTY: Buffer[] = [];

function appendRules(disk: Disk, options: LogOptions): BatchRules {
  return { exact: true, maxBytes: options.maxBatchBytes, crc: disk.crc32c.bind(disk), fromClient: false };
}
const RESOLVED = Promise.resolve();

export class Log {
  readonly dir: string;
  readonly recovery: RecoveryInfo;
  #options: LogOptions;
  readonly #disk: Disk;
  readonly #clock: Clock;
  readonly #hooks: LogHooks;
  /** What append checks: one whole batch within maxBatchBytes, its CRC with the disk's (native) CRC-32C. */
  #appendRules: BatchRules;
  #segments: Segment[];
  #logStartOffset: number;
  #endOffset: number;
  #writtenOffset: number;
  #durableOffset: number;
  #recoveryPoint: number;
  /** Accepted batches not yet written, in offset order (head index #pendingHead). */
  #pending: RecentBatch[] = [];
  #pendingHead = 0;
  /** Recently appended batches kept for reads (head index #cacheHead), at most tailCacheBytes. */
  #cache: RecentBatch[] = [];
  #cacheHead = 0;
  #cacheBytes = 0;
  #writtenWaiters: OffsetWaiter[] = [];
  #durableWaiters: OffsetWaiter[] = [];
  #syncing = false;
  #syncAgain = false;
  #dirSyncNeeded = false;
  #sealChain: Promise<void> = RESOLVED;
  #syncRun: Promise<void> = RESOLVED;
  #structural: Promise<void> = RESOLVED;
  #timer: PeriodicTimer | undefined;
  #offline: StreamBusError | undefined;
  #closed = false;
  #exclusive = false;

  private constructor(dir: string, options: LogOptions, disk: Disk, clock: Clock, hooks: LogHooks, loaded: Awaited<ReturnType<typeof loadLog>>) {
    this.dir = dir;
    this.#options = options;
    this.#disk = disk;
    this.#clock = clock;
    this.#hooks = hooks;
    this.#appendRules = appendRules(disk, options);
    this.recovery = loaded.recovery;
    this.#segments = loaded.segments;
    this.#logStartOffset = loaded.logStartOffset;
    const end = this.#segments.length ? this.#segments[this.#segments.length - 1]!.nextOffset : loaded.logStartOffset;
    this.#endOffset = end;
    this.#writtenOffset = end;
    this.#durableOffset = end;
    this.#recoveryPoint = loaded.recoveryPoint;
    this.#armTimer();
  }

  /**
   * Opens the log in `dir` (created when missing), recovering it as log-loader.ts describes.
   * Rejects with SB_ERR_CORRUPT when a sealed segment fails validation (the partition must stay
   * offline) and with IoError on I/O failures.
   */
  static async open(dir: string, options: Partial<LogOptions>, disk: Disk, clock: Clock, hooks: LogHooks = {}): Promise<Log> {
    const resolved = resolveLogOptions(options);
    await disk.mkdir(dir);
    const loaded = await loadLog(dir, disk, resolved);
    const log = new Log(dir, resolved, disk, clock, hooks, loaded);
    try {
      await log.#openActive();
    } catch (e) {
      log.#timer?.cancel();
      throw e;
    }
    return log;
  }

  /** Opens the last segment for appending (creating the first segment of an empty log). */
  async #openActive(): Promise<void> {
    const resolved = this.#options;
    if (this.#segments.length === 0) {
      this.#segments.push(new Segment(this.dir, this.#endOffset, resolved.indexIntervalBytes, 'sealed'));
      this.#dirSyncNeeded = true;
    }
    const last = this.#segments[this.#segments.length - 1]!;
    const file = await this.#disk.openAppend(last.logPath, {
      direct: resolved.ioMode === 'direct',
      preallocateBytes: resolved.preallocateBytes,
      size: last.sizeBytes,
    });
    last.attachAppender(file, last.sizeBytes, this.#appenderEvents(last), this.#options.inlineWriteBytes);
    if (last.sizeBytes > 0) last.firstBatchMs = this.#clock.now();
    if (this.#dirSyncNeeded) await this.#syncDirNow();
  }

  get logStartOffset(): number {
    return this.#logStartOffset;
  }
  get endOffset(): number {
    return this.#endOffset;
  }
  get writtenOffset(): number {
    return this.#writtenOffset;
  }
  get durableOffset(): number {
    return this.#durableOffset;
  }
  get options(): LogOptions {
    return this.#options;
  }
  /** Set once the log went offline (fsync or I/O failure); never cleared. */
  get offline(): StreamBusError | undefined {
    return this.#offline;
  }
  /** Bytes of all segments (accepted batches). */
  get sizeBytes(): number {
    let total = 0;
    for (const s of this.#segments) total += s.sizeBytes;
    return total;
  }
  get segmentCount(): number {
    return this.#segments.length;
  }
  /** Base offsets of the segments, oldest first (for tools and tests). */
  /** A file of the log's owner in the partition folder (a bare name), or undefined; storage never reads it. */
  async readSideFile(name: string): Promise<Uint8Array | undefined> {
    return this.#disk.readFile(this.#sidePath(name));
  }

  /** Atomically and durably replaces a side file. */
  writeSideFile(name: string, data: Uint8Array): Promise<void> {
    return this.#disk.writeFileDurable(this.#sidePath(name), data);
  }

  /** Removes a side file durably; no error when there is none. */
  async removeSideFile(name: string): Promise<void> {
    await this.#disk.unlink(this.#sidePath(name));
    await this.#disk.syncDir(this.dir);
  }

  #sidePath(name: string): string {
    // Never a segment's (they start with digits) nor one of the log's own files.
    assert(/^[a-z][a-z0-9.-]*$/.test(name), `side file name ${name}`);
    assert(name !== CLEAN_SHUTDOWN_FILE && name !== LOG_START_OFFSET_FILE && name !== RECOVERY_POINT_FILE, `side file ${name} is the log's own`);
    return join(this.dir, name);
  }

  segmentBaseOffsets(): number[] {
    return this.#segments.map((s) => s.baseOffset);
  }

  /** Changes options that take effect from now on (per-topic configs). ioMode applies to new segments. */
  updateOptions(partial: Partial<LogOptions>): void {
    const next = resolveLogOptions({ ...this.#options, ...partial });
    assert(next.indexIntervalBytes === this.#options.indexIntervalBytes, 'indexIntervalBytes cannot change on an open log');
    const timerChanged = next.syncIntervalMs !== this.#options.syncIntervalMs;
    this.#options = next;
    this.#appendRules = appendRules(this.#disk, next);
    if (timerChanged) this.#armTimer();
  }

  /**
   * Appends one record batch v2 (the whole of `batch`). Checks it (checkBatch: length, magic, offset
   * range, codec, CRC32C; SB_ERR_INVALID_BATCH, nothing written), then rewrites its base offset and partition leader epoch
   * in place. Ownership of `batch` passes to the log: it is written and served to readers as is.
   * Returns at once; use waitWritten / waitDurable for the write's outcome.
   * Throws SB_ERR_LOG_DIR_OFFLINE when offline and SB_ERR_CLOSED when closed.
   */
  append(batch: Buffer, options: { leaderEpoch: number }): AppendResult {
    this.#checkUsable();
    assert(!this.#exclusive, 'append while truncateTo/advanceLogStart/reset runs');
    const problem = checkBatch(batch, 0, batch.length, this.#appendRules);
    if (problem !== null) throw new StreamBusError('SB_ERR_INVALID_BATCH', problem.message);
    const baseOffset = this.#endOffset;
    const lastOffset = baseOffset + readLastOffsetDelta(batch, 0);
    assert(lastOffset >= baseOffset, 'lastOffsetDelta must be non-negative');
    let segment = this.#segments[this.#segments.length - 1]!;
    const now = this.#clock.now();
    if (segment.state !== 'active' || this.#shouldRoll(segment, batch.length, lastOffset, now)) segment = this.#roll();
    stampBatch(batch, 0, baseOffset, options.leaderEpoch);
    const position = segment.append(batch, baseOffset, lastOffset, readMaxTimestamp(batch, 0), now);
    const entry: RecentBatch = { baseOffset, lastOffset, buffer: batch, segment, position };
    this.#pending.push(entry);
    this.#endOffset = lastOffset + 1;
    if (this.#options.tailCacheBytes > 0) {
      this.#cache.push(entry);
      this.#cacheBytes += batch.length;
      while (this.#cacheBytes > this.#options.tailCacheBytes && this.#cacheHead < this.#cache.length - 1) {
        this.#cacheBytes -= this.#cache[this.#cacheHead]!.buffer.length;
        this.#cache[this.#cacheHead++] = undefined as unknown as RecentBatch;
      }
      if (this.#cacheHead > 1024 && this.#cacheHead * 2 > this.#cache.length) {
        this.#cache = this.#cache.slice(this.#cacheHead);
        this.#cacheHead = 0;
      }
    }
    return { baseOffset, lastOffset };
  }

  /** Resolves once the batch holding `offset` was written to its file; rejects if that write failed. */
  waitWritten(offset: number): Promise<void> {
    if (offset < this.#writtenOffset) return RESOLVED;
    if (this.#offline) return Promise.reject(this.#offline);
    assert(offset < this.#endOffset, 'waitWritten beyond the end of the log');
    return new Promise((resolve, reject) => this.#writtenWaiters.push({ offset, resolve, reject }));
  }

  /**
   * Resolves once fdatasync returned for the batch holding `offset` and everything before it.
   * Rejects with SB_ERR_LOG_DIR_OFFLINE when a sync failed, with the write's error when its write
   * failed, and with SB_ERR_OFFSET_OUT_OF_RANGE when a truncation removed the offset first.
   */
  waitDurable(offset: number): Promise<void> {
    if (offset < this.#durableOffset) return RESOLVED;
    if (this.#offline) return Promise.reject(this.#offline);
    assert(offset < this.#endOffset, 'waitDurable beyond the end of the log');
    const p = new Promise<void>((resolve, reject) => this.#durableWaiters.push({ offset, resolve, reject }));
    if (this.#options.syncIntervalMs === 0) this.#requestSync();
    return p;
  }

  /** Makes everything appended before the call durable (whatever syncIntervalMs says). */
  sync(): Promise<void> {
    if (this.#endOffset <= this.#durableOffset) return this.#offline ? Promise.reject(this.#offline) : RESOLVED;
    const p = this.waitDurable(this.#endOffset - 1);
    this.#requestSync();
    return p;
  }

  /**
   * Whole batches from the one holding `offset`, up to `maxBytes` in total but always at least one
   * batch when any is available, only batches whose base offset is below `maxOffset` (e.g. the high
   * watermark) and only written ones. Returns no buffers when `offset` is at the end.
   * Throws SB_ERR_OFFSET_OUT_OF_RANGE below logStartOffset or above endOffset.
   * The buffers stay valid while referenced; they must not be modified.
   */
  async read(offset: number, maxBytes: number, maxOffset = Number.MAX_SAFE_INTEGER): Promise<ReadResult> {
    this.#checkReadable();
    if (offset < this.#logStartOffset || offset > this.#endOffset) {
      throw new StreamBusError('SB_ERR_OFFSET_OUT_OF_RANGE', `offset ${offset} outside [${this.#logStartOffset}, ${this.#endOffset}] in ${this.dir}`);
    }
    const upper = Math.min(this.#writtenOffset, maxOffset);
    if (offset >= upper) return { buffers: EMPTY, sizeBytes: 0, firstOffset: offset, nextOffset: offset };
    const cached = this.#readCache(offset, maxBytes, upper);
    if (cached) return cached;
    let i = this.#segmentIndexFor(offset);
    for (; i < this.#segments.length; i++) {
      const segment = this.#segments[i]!;
      const end = segment.state === 'sealed' ? segment.sizeBytes : Math.min(segment.sizeBytes, segment.appender?.writtenPosition ?? segment.sizeBytes);
      const start = segment.offsetIndex.lookup(offset).position;
      if (start >= end) continue;
      const slice = await segment.withReader(this.#disk, (file) => readSlice(file, start, end, offset, maxBytes, upper));
      if (slice) return { buffers: [slice.bytes], sizeBytes: slice.bytes.length, firstOffset: slice.firstOffset, nextOffset: slice.nextOffset };
    }
    return { buffers: EMPTY, sizeBytes: 0, firstOffset: offset, nextOffset: offset };
  }

  /** The greatest batch maxTimestamp in the log (-1 when empty): ListOffsets' MAX_TIMESTAMP. */
  get maxTimestamp(): number {
    let max = -1;
    for (const segment of this.#segments) if (segment.maxTimestamp > max) max = segment.maxTimestamp;
    return max;
  }

  /**
   * The base offset of the first batch whose maxTimestamp >= `timestamp` (Kafka ListOffsets by time,
   * at batch granularity), or undefined when every batch is older.
   */
  async offsetForTimestamp(timestamp: number): Promise<number | undefined> {
    this.#checkReadable();
    for (const segment of this.#segments) {
      if (segment.maxTimestamp < timestamp) continue;
      const from = segment.offsetIndex.lookup(segment.timeIndex.lookup(timestamp)).position;
      const end = segment.state === 'sealed' ? segment.sizeBytes : (segment.appender?.writtenPosition ?? segment.sizeBytes);
      const found = await segment.withReader(this.#disk, (file) => findTimestamp(file, from, end, timestamp));
      if (found !== undefined) return Math.max(found, this.#logStartOffset);
    }
    return undefined;
  }

  /**
   * Removes every batch whose last offset >= `offset` (a batch holding `offset` goes whole, so the new
   * endOffset may be below `offset`). For Raft, which replaces a diverged suffix. Durable when it
   * resolves. Waiters on removed offsets are rejected with SB_ERR_OFFSET_OUT_OF_RANGE.
   */
  async truncateTo(offset: number): Promise<void> {
    this.#checkUsable();
    if (offset >= this.#endOffset) return;
    if (offset <= this.#segments[0]!.baseOffset) return this.reset(offset);
    await this.#exclusively(async () => {
      if (offset >= this.#endOffset) return;
      await this.#drain();
      let i = this.#segmentIndexFor(offset);
      while (i > 0 && this.#segments[i]!.baseOffset >= offset) i--;
      const segment = this.#segments[i]!;
      const from = segment.offsetIndex.lookup(offset).position;
      const found = await segment.withReader(this.#disk, (file) => findBatch(file, from, segment.sizeBytes, offset));
      const position = found ? found.position : segment.sizeBytes;
      // Offsets are dense except after compaction; the found batch's base is a valid new end either way.
      const nextOffset = found ? Math.max(found.baseOffset, segment.baseOffset) : segment.nextOffset;
      const later = this.#segments.splice(i + 1);
      await this.#removeSegments(later);
      if (segment.state === 'active') {
        await segment.appender!.truncate(position);
        await segment.appender!.sync(true);
        segment.cut(position, nextOffset);
      } else {
        // The segment becomes the active one again, so it is no longer sealed for recovery.
        await this.#writeRecoveryPoint(segment.baseOffset);
        const file = await this.#reopenSealed(segment, position);
        segment.cut(position, nextOffset);
        segment.attachAppender(file, position, this.#appenderEvents(segment), this.#options.inlineWriteBytes);
      }
      this.#afterCut(segment.nextOffset);
    });
  }

  /**
   * Moves the log start offset up to `offset` (<= endOffset): reads below it fail, and segments
   * wholly below it are deleted. Persisted durably. For retention by DeleteRecords and Raft snapshots.
   */
  async advanceLogStart(offset: number): Promise<void> {
    this.#checkUsable();
    if (offset <= this.#logStartOffset) return;
    if (offset > this.#endOffset) {
      throw new StreamBusError('SB_ERR_OFFSET_OUT_OF_RANGE', `log start ${offset} beyond the end ${this.#endOffset} in ${this.dir}`);
    }
    await this.#exclusively(async () => {
      if (offset <= this.#logStartOffset) return;
      await this.#disk.writeFileDurable(join(this.dir, LOG_START_OFFSET_FILE), Buffer.from(String(offset)));
      this.#logStartOffset = offset;
      const active = this.#segments[this.#segments.length - 1]!;
      if (offset >= this.#endOffset && active.sizeBytes > 0) this.#roll();
      let n = 0;
      while (n + 1 < this.#segments.length && this.#segments[n + 1]!.baseOffset <= offset) n++;
      if (n > 0) await this.#removeSegments(this.#segments.splice(0, n));
    });
  }

  /**
   * Empties the log and restarts it at `offset` (a Raft snapshot beyond the local log, or a
   * truncation below the first segment). Durable when it resolves.
   */
  async reset(offset: number): Promise<void> {
    this.#checkUsable();
    assert(Number.isSafeInteger(offset) && offset >= 0, 'reset offset must be a non-negative integer');
    await this.#exclusively(async () => {
      await this.#drain();
      const old = this.#segments.splice(0);
      await this.#writeRecoveryPoint(offset);
      await this.#disk.writeFileDurable(join(this.dir, LOG_START_OFFSET_FILE), Buffer.from(String(offset)));
      await this.#removeSegments(old);
      const segment = new Segment(this.dir, offset, this.#options.indexIntervalBytes, 'sealed');
      const file = await this.#disk.openAppend(segment.logPath, {
        direct: this.#options.ioMode === 'direct',
        preallocateBytes: this.#options.preallocateBytes,
        size: 0,
      });
      segment.attachAppender(file, 0, this.#appenderEvents(segment), this.#options.inlineWriteBytes);
      this.#segments.push(segment);
      await this.#syncDirNow();
      this.#logStartOffset = offset;
      this.#endOffset = offset;
      this.#afterCut(offset);
    });
  }

  /**
   * Deletes the oldest closed segments that retention (time and size) no longer keeps; the active
   * segment is never deleted. Returns the number deleted.
   */
  async applyRetention(nowMs = this.#clock.now()): Promise<number> {
    this.#checkUsable();
    if (!this.#options.cleanupPolicy.includes('delete')) return 0;
    return this.#exclusively(async () => {
      const n = segmentsToDelete(
        this.#segments.map((s) => ({ sizeBytes: s.sizeBytes, maxTimestamp: s.maxTimestamp, sealed: s.state !== 'active' })),
        nowMs,
        this.#options.retentionMs,
        this.#options.retentionBytes,
      );
      if (n === 0) return 0;
      const doomed = this.#segments.splice(0, n);
      this.#logStartOffset = Math.max(this.#logStartOffset, this.#segments[0]!.baseOffset);
      await this.#removeSegments(doomed);
      return n;
    });
  }

  /**
   * Closes the log. With `clean` (the default) and the log online, everything is synced, the active
   * segment is cut to its logical size, indexes are written and the clean-shutdown marker lets the
   * next open skip the scan. Pending waiters are rejected with SB_ERR_CLOSED.
   */
  async close(options: { clean?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    const clean = options.clean ?? true;
    let failure: unknown;
    try {
      await this.#syncRun;
      await this.#structural;
      await this.#sealChain;
      await this.#drain().catch(() => undefined);
      const active = this.#segments[this.#segments.length - 1]!;
      if (!this.#offline && active.appender) {
        const file = await active.appender.file();
        if (clean) {
          await file.truncate(active.sizeBytes);
          await file.sync(true);
          this.#setDurable(this.#writtenOffset);
          active.addFinalTimeEntry();
          await active.writeIndexes(this.#disk, true);
          if (this.#dirSyncNeeded) await this.#syncDirNow();
          await this.#disk.writeFileDurable(join(this.dir, CLEAN_SHUTDOWN_FILE), Buffer.from(JSON.stringify({ endOffset: this.#endOffset })));
        }
      }
    } catch (e) {
      failure = e;
    }
    const closed = new StreamBusError('SB_ERR_CLOSED', `log ${this.dir} is closed`);
    this.#rejectWaiters(this.#writtenWaiters, 0, closed);
    this.#rejectWaiters(this.#durableWaiters, 0, closed);
    for (const s of this.#segments) await s.retire();
    if (failure) throw failure;
  }

  /** Takes the log offline (called by the log manager when its directory failed). */
  markOffline(error: StreamBusError): void {
    if (this.#offline) return;
    this.#offline = error;
    this.#timer?.cancel();
    this.#rejectWaiters(this.#writtenWaiters, 0, error);
    this.#rejectWaiters(this.#durableWaiters, 0, error);
  }

  /** Sealed segments and the bounds compaction may rewrite (for compaction.ts). */
  sealedSegmentsForCleaning(): readonly Segment[] {
    return this.#segments.filter((s) => s.state === 'sealed');
  }

  /** All segments, oldest first (for compaction.ts's key map). */
  allSegments(): readonly Segment[] {
    return this.#segments;
  }

  get disk(): Disk {
    return this.#disk;
  }

  /** Runs a maintenance step that replaces segment files, excluding truncation and retention meanwhile. */
  maintain<T>(fn: () => Promise<T>): Promise<T> {
    this.#checkUsable();
    return this.#exclusively(fn, false);
  }

  /** Swaps in a rewritten sealed segment (compaction). The old object is retired. */
  replaceSegment(old: Segment, replacement: Segment): boolean {
    const i = this.#segments.indexOf(old);
    if (i < 0 || i === this.#segments.length - 1) return false;
    assert(replacement.baseOffset === old.baseOffset, 'replacement of another segment');
    this.#segments[i] = replacement;
    // Cached batches of the old segment hold records that compaction removed.
    while (this.#cacheHead < this.#cache.length && this.#cache[this.#cacheHead]!.baseOffset < old.nextOffset) {
      this.#cacheBytes -= this.#cache[this.#cacheHead]!.buffer.length;
      this.#cache[this.#cacheHead++] = undefined as unknown as RecentBatch;
    }
    void old.retire();
    return true;
  }

  // ---- internals ----

  #checkUsable(): void {
    if (this.#offline) throw this.#offline;
    if (this.#closed) throw new StreamBusError('SB_ERR_CLOSED', `log ${this.dir} is closed`);
  }

  #checkReadable(): void {
    this.#checkUsable();
  }

  #shouldRoll(segment: Segment, batchBytes: number, lastOffset: number, now: number): boolean {
    if (segment.sizeBytes === 0) return false;
    if (segment.sizeBytes + batchBytes > this.#options.segmentBytes) return true;
    if (segment.firstBatchMs !== undefined && now - segment.firstBatchMs >= this.#options.segmentMs) return true;
    return lastOffset - segment.baseOffset > 0x7fff_ffff;
  }

  /** Seals the active segment in the background and starts a new one at endOffset. */
  #roll(): Segment {
    const old = this.#segments[this.#segments.length - 1]!;
    const segment = new Segment(this.dir, this.#endOffset, this.#options.indexIntervalBytes, 'sealed');
    const disk = this.#disk;
    const options = this.#options;
    // The new file's writes start after the old file's: a failed old write then fails the new ones.
    const previous = old.appender?.drained() ?? RESOLVED;
    const opening = previous.then(() =>
      disk.openAppend(segment.logPath, { direct: options.ioMode === 'direct', preallocateBytes: options.preallocateBytes, size: 0 }),
    );
    segment.attachAppender(opening, 0, this.#appenderEvents(segment), this.#options.inlineWriteBytes);
    this.#segments.push(segment);
    this.#dirSyncNeeded = true;
    if (old.state === 'active') {
      // No more appends to the old segment from here on; it seals once earlier seals are done.
      old.state = 'sealing';
      this.#sealChain = this.#sealChain.then(async () => {
        try {
          await old.seal(disk);
          if (this.#segments.includes(old)) await this.#writeRecoveryPoint(old.nextOffset).catch((e) => this.#ignoreDiskFull(e));
        } catch (e) {
          this.#fail(e);
        }
      });
    }
    return segment;
  }

  #ignoreDiskFull(e: unknown): void {
    if (!isStreamBusError(e, 'SB_ERR_DISK_FULL')) throw e;
  }

  async #writeRecoveryPoint(offset: number): Promise<void> {
    if (offset === this.#recoveryPoint) return;
    await this.#disk.writeFileDurable(join(this.dir, RECOVERY_POINT_FILE), Buffer.from(String(offset)));
    this.#recoveryPoint = offset;
  }

  #appenderEvents(segment: Segment): { onWritten(position: number): void; onWriteError(error: unknown, position: number): void } {
    return {
      onWritten: () => this.#advanceWritten(),
      onWriteError: (error, position) => this.#writeFailed(segment, error, position),
    };
  }

  /** Pops written batches off the pending queue, in offset order, and wakes waiters. */
  #advanceWritten(): void {
    const pending = this.#pending;
    let head = this.#pendingHead;
    let written = this.#writtenOffset;
    while (head < pending.length) {
      const entry = pending[head]!;
      const appender = entry.segment.appender;
      const done = appender === undefined || appender.writtenPosition >= entry.position + entry.buffer.length;
      if (!done) break;
      written = entry.lastOffset + 1;
      pending[head++] = undefined as unknown as RecentBatch;
    }
    if (head === pending.length) {
      this.#pending = [];
      this.#pendingHead = 0;
    } else {
      this.#pendingHead = head;
    }
    if (written === this.#writtenOffset) return;
    this.#writtenOffset = written;
    this.#resolveWaiters(this.#writtenWaiters, written);
  }

  /** A write failed at `position` of `segment`: roll back to what was written, or go offline. */
  #writeFailed(segment: Segment, error: unknown, position: number): void {
    const index = this.#segments.indexOf(segment);
    if (index < 0 || this.#offline) return;
    const diskFull = error instanceof IoError && error.errno === 'ENOSPC';
    if (!diskFull) return this.#fail(error);
    // Everything from the first unwritten batch of this segment on is dropped.
    let first = this.#pendingHead;
    while (first < this.#pending.length && (this.#pending[first]!.segment !== segment || this.#pending[first]!.position < position)) first++;
    if (first >= this.#pending.length) return;
    const cutOffset = this.#pending[first]!.baseOffset;
    const failure = new IoError('ENOSPC', segment.logPath, 'append failed: no space left', { cause: error });
    this.#pending.length = first;
    // Later segments were rolled after the failed write; their files were never opened (each opens
    // only after the previous segment's writes succeeded).
    for (const s of this.#segments.splice(index + 1)) void s.retire();
    segment.cut(position, cutOffset);
    if (segment.appender?.openFailed && this.#segments.length > 1) {
      // A segment whose file could not even be created is dropped; the next append rolls anew.
      this.#segments.splice(index, 1);
      void segment.retire();
    }
    this.#endOffset = cutOffset;
    this.#pruneCache(cutOffset);
    this.#rejectWaiters(this.#writtenWaiters, cutOffset, failure);
    this.#rejectWaiters(this.#durableWaiters, cutOffset, failure);
    this.#advanceWritten();
  }

  /** After a truncation or reset to `end`: offsets, cache and waiters follow. */
  #afterCut(end: number): void {
    assert(this.#pendingHead === this.#pending.length, 'cut with writes pending');
    this.#endOffset = end;
    this.#writtenOffset = end;
    // Truncations and resets are synced before they return: what remains is durable.
    this.#durableOffset = end;
    this.#logStartOffset = Math.min(this.#logStartOffset, end);
    this.#pruneCache(end);
    const gone = new StreamBusError('SB_ERR_OFFSET_OUT_OF_RANGE', `log ${this.dir} was truncated to ${end}`);
    this.#rejectWaiters(this.#writtenWaiters, end, gone);
    this.#rejectWaiters(this.#durableWaiters, end, gone);
    this.#resolveWaiters(this.#durableWaiters, end);
  }

  #pruneCache(end: number): void {
    while (this.#cache.length > this.#cacheHead && this.#cache[this.#cache.length - 1]!.lastOffset >= end) {
      this.#cacheBytes -= this.#cache.pop()!.buffer.length;
    }
  }

  #readCache(offset: number, maxBytes: number, upper: number): ReadResult | undefined {
    const cache = this.#cache;
    if (this.#cacheHead >= cache.length || offset < cache[this.#cacheHead]!.baseOffset) return undefined;
    let lo = this.#cacheHead;
    let hi = cache.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cache[mid]!.lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    const first = cache[lo]!;
    if (first.lastOffset < offset || first.baseOffset >= upper) return undefined;
    const buffers: Buffer[] = [first.buffer];
    let size = first.buffer.length;
    let next = first.lastOffset + 1;
    for (let i = lo + 1; i < cache.length; i++) {
      const e = cache[i]!;
      if (e.baseOffset >= upper || size + e.buffer.length > maxBytes) break;
      buffers.push(e.buffer);
      size += e.buffer.length;
      next = e.lastOffset + 1;
    }
    return { buffers, sizeBytes: size, firstOffset: first.baseOffset, nextOffset: next };
  }

  /** Index of the last segment whose base offset <= offset (0 when offset precedes all). */
  #segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.#segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.#segments[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  #armTimer(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#options.syncIntervalMs > 0) {
      this.#timer = every(this.#clock, this.#options.syncIntervalMs, () => {
        if (this.#durableOffset < this.#writtenOffset || this.#durableWaiters.length > 0) this.#requestSync();
      });
    }
  }

  #requestSync(): void {
    if (this.#offline || this.#closed) return;
    if (this.#syncing) {
      this.#syncAgain = true;
      return;
    }
    this.#syncRun = this.#runSyncs();
  }

  /**
   * Group commit: one sync at a time; requests arriving meanwhile share the next one. A sync covers
   * the batches accepted when it starts: earlier segments are durable once sealed (fsync), the
   * active one needs its writes drained and one fdatasync, and a new segment file its folder fsync.
   */
  async #runSyncs(): Promise<void> {
    this.#syncing = true;
    try {
      do {
        this.#syncAgain = false;
        const target = this.#endOffset;
        const active = this.#segments[this.#segments.length - 1]!;
        const dirSync = this.#dirSyncNeeded;
        this.#dirSyncNeeded = false;
        await this.#sealChain;
        const appender = active.appender;
        // A failed write was rolled back (its waiters rejected); sync what was written before it.
        if (appender && !(await appender.drained().then(() => true, () => false))) this.#syncAgain = true;
        try {
          if (appender && !appender.openFailed) await appender.syncWritten(false);
          if (dirSync) await this.#syncDirNow();
        } catch (e) {
          this.#fail(e);
          return;
        }
        if (this.#offline) return;
        this.#setDurable(Math.min(target, this.#writtenOffset));
      } while (this.#syncAgain && !this.#offline && !this.#closed);
    } finally {
      this.#syncing = false;
    }
  }

  #setDurable(offset: number): void {
    if (offset > this.#durableOffset) this.#durableOffset = offset;
    this.#resolveWaiters(this.#durableWaiters, this.#durableOffset);
  }

  #resolveWaiters(list: OffsetWaiter[], below: number): void {
    if (list.length === 0) return;
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const w = list[i]!;
      if (w.offset < below) w.resolve();
      else list[kept++] = w;
    }
    list.length = kept;
  }

  #rejectWaiters(list: OffsetWaiter[], from: number, error: unknown): void {
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const w = list[i]!;
      if (w.offset >= from) w.reject(error);
      else list[kept++] = w;
    }
    list.length = kept;
  }

  /** The log goes offline: a failed fsync or I/O error. Never retried. */
  #fail(error: unknown): void {
    if (this.#offline) return;
    const offline = new StreamBusError('SB_ERR_LOG_DIR_OFFLINE', `log ${this.dir} is offline after an I/O failure: ${(error as Error)?.message ?? error}`, { cause: error });
    this.markOffline(offline);
    this.#hooks.onDirFailure?.(offline);
  }

  /** Waits for every accepted write and for sealing to finish. */
  async #drain(): Promise<void> {
    await this.#sealChain;
    for (const s of this.#segments) if (s.appender) await s.appender.drained();
  }

  /** Runs structural changes one at a time; `blocksAppends` marks the ones appends must not overlap. */
  async #exclusively<T>(fn: () => Promise<T>, blocksAppends = true): Promise<T> {
    const previous = this.#structural;
    let release!: () => void;
    this.#structural = new Promise((r) => (release = r));
    await previous;
    if (blocksAppends) this.#exclusive = true;
    try {
      this.#checkUsable();
      return await fn();
    } catch (e) {
      // An I/O failure halfway through a structural change leaves the files in doubt.
      if (e instanceof IoError && e.errno !== 'ENOSPC') this.#fail(e);
      throw e;
    } finally {
      if (blocksAppends) this.#exclusive = false;
      release();
    }
  }

  async #removeSegments(segments: Segment[]): Promise<void> {
    if (segments.length === 0) return;
    await this.#sealChain;
    for (const s of segments) {
      await s.retire();
      await this.#deleteFiles(s);
    }
    await this.#syncDirNow();
  }

  async #deleteFiles(segment: Segment): Promise<void> {
    await this.#disk.unlink(segment.logPath);
    await this.#disk.unlink(segment.indexPath);
    await this.#disk.unlink(segment.timeIndexPath);
  }

  async #syncDirNow(): Promise<void> {
    this.#dirSyncNeeded = false;
    await this.#disk.syncDir(this.dir);
  }

  /**
   * Opens a sealed segment for appending again, cut at `position` (durably). If it may be mapped,
   * shrinking the file in place could fault readers holding views, so the kept prefix is copied into
   * a new file that replaces it (rename); the old inode lives on for those views.
   */
  async #reopenSealed(segment: Segment, position: number): Promise<AppendFile> {
    await segment.dropReader();
    if (segment.mayBeMapped && position < segment.sizeBytes) {
      const swap = segment.logPath + SWAP_SUFFIX;
      const copy = await this.#disk.openAppend(swap, { direct: false, preallocateBytes: 0, size: 0 });
      try {
        const source = await this.#disk.openRead(segment.logPath, { map: false });
        try {
          for (let at = 0; at < position; ) {
            const chunk = await source.read(at, Math.min(8 * 1024 * 1024, position - at));
            assert(chunk.length > 0, 'segment shorter than expected');
            await copy.append([chunk]);
            at += chunk.length;
          }
        } finally {
          await source.close();
        }
        await copy.sync(true);
      } finally {
        await copy.close();
      }
      await this.#disk.rename(swap, segment.logPath);
      await this.#syncDirNow();
    }
    const file = await this.#disk.openAppend(segment.logPath, { direct: this.#options.ioMode === 'direct', preallocateBytes: this.#options.preallocateBytes, size: position });
    await file.truncate(position);
    await file.sync(true);
    segment.sealed = undefined;
    await this.#disk.unlink(segment.indexPath);
    await this.#disk.unlink(segment.timeIndexPath);
    return file;
  }
}
