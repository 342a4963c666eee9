/**
 * A durable RaftLogStore for one small Raft group (the controller's metadata log) in a folder of its
 * own: the Raft log the driver writes must survive a crash at any point, and the core reads it
 * synchronously. The group's entries are small commands (at most 1 MiB each; thousands to a few
 * hundred thousand of them), so every stored entry is also kept in memory (a MemoryStorage serves
 * the reads) and the files are only written, and read once when the store opens.
 *
 * On disk (names in raft-log-files.ts, record layout in raft-log-records.ts, recovery in
 * raft-log-recovery.ts):
 *   - raft.log: append-only records (log base, entries, hard states). An entry at an index the log
 *     already holds truncates the tail logically; nothing is cut out of the file after the open.
 *   - snapshot-<index>-<term>.snap: one snapshot record each, written atomically (temp file, fsync,
 *     rename, fsync of the folder). The two newest are kept.
 *
 * Every file operation runs on one queue, one at a time: a Ready's write, a snapshot file, a log
 * rewrite. That serialises them without locks, so each crash point below is between two steps of
 * one operation. No operation blocks the event loop: the Disk's appends and fsyncs are asynchronous.
 *
 * persist(write): [snapshot file, durable] -> one append of [log base if snapshot][entries][hard
 * state] -> fsync when the write must sync (or carries a snapshot) -> update memory -> done(null).
 * A crash keeps a prefix of the append (a torn tail, cut off on open), so a later piece is never
 * durable without the earlier ones; a crash after the snapshot file but before its log base record
 * is repaired on open (the log is replaced by the snapshot).
 *
 * createSnapshot(index): memory at once (snapshot() returns it), the file later on the queue.
 * compact(index): memory at once, then a log start record on the queue behind the snapshot file
 * that covers it (so it reaches the disk only once that snapshot is durable); the entries' bytes
 * stay in raft.log until a rewrite, which likewise drops only entries a durable snapshot covers, so
 * the files alone always recover a consistent log.
 *
 * Rewrite, when dead bytes (truncated tails, compacted entries, old hard states) exceed both the
 * live bytes and `rewriteDeadBytesMin`: the new content (log base at firstIndex() - 1, live
 * entries, current hard state) is written to raft.log.tmp, fsynced, renamed over raft.log, and the
 * folder fsynced. Crash points:
 *   - before the rename: raft.log is untouched; the temp file is deleted on open.
 *   - after the rename, before the folder fsync: either name may survive; both files are whole and
 *     describe the same acknowledged state (the old one also holds dead records and entries that the
 *     durable snapshot covers).
 *   - after the folder fsync: the new file. No write was acknowledged from the old file alone,
 *     because the queue runs nothing else during the rewrite.
 *
 * Failures: an I/O error (failed fsync included, never retried) fails the store for good: the write
 * gets done(error), later persist calls get done(error) at once, and createSnapshot and compact
 * throw SB_ERR_LOG_DIR_OFFLINE. Reads keep answering from memory. Reopen the folder to recover.
 */
import { join } from 'node:path';
import type { AppendFile, Disk } from '../io/disk.ts';
import type { ConfState, Entry, HardState, MemoryStorage, Snapshot } from '../raft/index.ts';
import { assert } from '../util/assert.ts';
import { FailStopQueue } from './fail-stop-queue.ts';
import { StreamBusError } from '../util/errors.ts';
import { LOG_FILE_NAME, snapshotFileName } from './raft-log-files.ts';
import type { RaftLogStore, RaftLogWrite } from './raft-log-store.ts';
import { HARD_STATE_RECORD_BYTES, LOG_BASE_RECORD_BYTES, RecordKind, encodeEntry, encodeHardState, encodeLogBase, encodeSnapshot, entryRecordBytes } from './raft-log-records.ts';
import type { Crc32c } from './raft-log-records.ts';
import { recoverRaftLog } from './raft-log-recovery.ts';
import type { RaftLogRecoveryInfo } from './raft-log-recovery.ts';

export interface FileRaftLogStoreOptions {
  /** The group's membership when the folder is new (the bootstrap snapshot); ignored afterwards. */
  readonly initialConfState: ConfState;
  /** Rewrite raft.log once its dead bytes pass this (and the live bytes). Default 4 MiB. */
  readonly rewriteDeadBytesMin?: number;
}

export const DEFAULT_REWRITE_DEAD_BYTES_MIN = 4 * 1024 * 1024;
/** Snapshot files kept: the newest, and the one before as a fallback while the log still covers it. */
const SNAPSHOT_FILES_KEPT = 2;

export class FileRaftLogStore implements RaftLogStore {
  /** What the open found and repaired. */
  readonly recovery: RaftLogRecoveryInfo;
  private readonly crc32c: Crc32c;
  private readonly logPath: string;
  private readonly rewriteDeadBytesMin: number;
  private readonly ops = new FailStopQueue((error) => new StreamBusError('SB_ERR_LOG_DIR_OFFLINE', `Raft log in ${this.dir} is offline after an I/O error: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
  private closed = false;
  private persisting = false;
  private rewriteQueued = false;
  /** Bytes the stored entries take in raft.log (the rest of the file, but a log base and a hard state, is dead). */
  private liveEntryBytes = 0;
  /** Index of the newest snapshot whose file is durable. */
  private durableSnapshotIndex: number;

  private constructor(
    private readonly dir: string,
    private readonly disk: Disk,
    private readonly memory: MemoryStorage,
    private logFile: AppendFile,
    private readonly snapshotFiles: string[],
    recovery: RaftLogRecoveryInfo,
    options: FileRaftLogStoreOptions,
  ) {
    this.crc32c = disk.crc32c.bind(disk);
    this.logPath = join(dir, LOG_FILE_NAME);
    this.recovery = recovery;
    this.rewriteDeadBytesMin = options.rewriteDeadBytesMin ?? DEFAULT_REWRITE_DEAD_BYTES_MIN;
    assert(this.rewriteDeadBytesMin >= 0, 'rewriteDeadBytesMin must not be negative');
    this.durableSnapshotIndex = memory.snapshot().metadata.index;
    this.liveEntryBytes = this.rangeBytes(memory.firstIndex(), memory.lastIndex() + 1);
  }

  /** Opens (recovering after a crash) or creates the store in `dir`. */
  static async open(dir: string, disk: Disk, options: FileRaftLogStoreOptions): Promise<FileRaftLogStore> {
    const recovered = await recoverRaftLog(dir, disk, options.initialConfState);
    const store = new FileRaftLogStore(dir, disk, recovered.memory, recovered.logFile, recovered.snapshotFiles, recovered.info, options);
    store.maybeRewrite();
    return store;
  }

  // LogStorage: answered from memory, which holds exactly what was acknowledged as durable.
  initialState(): { hardState: HardState; confState: ConfState } {
    return this.memory.initialState();
  }
  entries(lo: number, hi: number, maxBytes: number): readonly Entry[] {
    return this.memory.entries(lo, hi, maxBytes);
  }
  term(index: number): number {
    return this.memory.term(index);
  }
  firstIndex(): number {
    return this.memory.firstIndex();
  }
  lastIndex(): number {
    return this.memory.lastIndex();
  }
  snapshot(): Snapshot {
    return this.memory.snapshot();
  }
  /** The last hard state acknowledged (its commit index clamped to the log after a reopen). */
  hardState(): HardState {
    return this.memory.hardStateNow();
  }

  /** The failure that took the store offline, or null. */
  get failed(): StreamBusError | null {
    return this.ops.failure;
  }

  /** Bytes of raft.log now, and how many of them the current state needs. */
  get logBytes(): { total: number; live: number } {
    return { total: this.logFile.size, live: this.liveBytes() };
  }

  persist(write: RaftLogWrite, done: (error: Error | null) => void): void {
    if (this.ops.failure !== null) {
      done(this.ops.failure);
      return;
    }
    this.checkOpen();
    assert(!this.persisting, 'a second persist while one is in flight');
    this.persisting = true;
    const snapshot = write.snapshot;
    const buffers: Uint8Array[] = [];
    if (snapshot !== null) buffers.push(encodeLogBase(this.crc32c, snapshot.metadata.index, snapshot.metadata.term));
    for (const entry of write.entries) buffers.push(...encodeEntry(this.crc32c, entry));
    if (write.hardState !== null) buffers.push(encodeHardState(this.crc32c, write.hardState));
    const operation = this.ops.enqueue(async () => {
      if (snapshot !== null) await this.writeSnapshotFile(snapshot);
      if (buffers.length > 0) await this.logFile.append(buffers);
      if (buffers.length > 0 && (write.mustSync || snapshot !== null)) await this.logFile.sync();
      this.applyToMemory(write);
    });
    operation.then(
      () => {
        this.persisting = false;
        this.maybeRewrite();
        done(null);
      },
      (error: unknown) => {
        this.persisting = false;
        done(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): void {
    this.checkUsable();
    const snapshot = this.memory.createSnapshot(index, confState, data);
    this.ops.enqueue(async () => {
      await this.writeSnapshotFile(snapshot);
      this.maybeRewrite();
    }).catch(() => undefined); // the failure is kept in this.ops.failure and reported to the next caller
  }

  compact(index: number): void {
    this.checkUsable();
    const first = this.memory.firstIndex();
    const dropped = index > first ? this.rangeBytes(first, Math.min(index, this.memory.lastIndex() + 1)) : 0;
    if (index <= first) return;
    this.memory.compact(index);
    this.liveEntryBytes -= dropped;
    // On disk once the snapshot covering it is durable: its file write is queued before this one.
    // Not fsynced: losing it only brings the compacted entries back.
    const start = encodeLogBase(this.crc32c, index - 1, this.memory.term(index - 1), RecordKind.LogStart);
    this.ops.enqueue(async () => {
      await this.logFile.append([start]);
      this.maybeRewrite();
    }).catch(() => undefined);
  }

  /** Resolves once every file operation queued so far has finished; rejects when the store failed. */
  async settled(): Promise<void> {
    await this.ops.idle();
    if (this.ops.failure !== null) throw this.ops.failure;
  }

  /** Waits for the writes in flight, then closes raft.log. Later writes throw SB_ERR_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ops.idle();
    await this.logFile.close();
  }


  private checkOpen(): void {
    if (this.closed) throw new StreamBusError('SB_ERR_CLOSED', `Raft log in ${this.dir} is closed`);
  }

  private checkUsable(): void {
    if (this.ops.failure !== null) throw this.ops.failure;
    this.checkOpen();
  }

  /** The memory side of a durable write, in the order the contract gives: snapshot, entries, hard state. */
  private applyToMemory(write: RaftLogWrite): void {
    if (write.snapshot !== null) {
      this.memory.applySnapshot(write.snapshot);
      this.liveEntryBytes = 0;
    }
    const entries = write.entries;
    if (entries.length > 0) {
      const lo = Math.max(entries[0]!.index, this.memory.firstIndex());
      const truncated = lo <= this.memory.lastIndex() ? this.rangeBytes(lo, this.memory.lastIndex() + 1) : 0;
      this.memory.append(entries);
      const added = lo <= this.memory.lastIndex() ? this.rangeBytes(lo, this.memory.lastIndex() + 1) : 0;
      this.liveEntryBytes += added - truncated;
    }
    if (write.hardState !== null) this.memory.setHardState(write.hardState);
    assert(this.liveEntryBytes >= 0, 'live entry bytes went negative');
  }

  private async writeSnapshotFile(snapshot: Snapshot): Promise<void> {
    const { index, term, confState } = snapshot.metadata;
    const name = snapshotFileName(index, term);
    await this.disk.writeFileDurable(join(this.dir, name), encodeSnapshot(this.crc32c, index, term, confState, snapshot.data));
    if (!this.snapshotFiles.includes(name)) this.snapshotFiles.push(name);
    this.snapshotFiles.sort();
    this.durableSnapshotIndex = Math.max(this.durableSnapshotIndex, index);
    // Older files are no longer needed: the log never starts before the newest durable snapshot.
    while (this.snapshotFiles.length > SNAPSHOT_FILES_KEPT) {
      const oldest = this.snapshotFiles.shift()!;
      await this.disk.unlink(join(this.dir, oldest));
    }
  }

  private liveBytes(): number {
    return LOG_BASE_RECORD_BYTES + HARD_STATE_RECORD_BYTES + this.liveEntryBytes;
  }

  private rangeBytes(lo: number, hi: number): number {
    let bytes = 0;
    if (lo >= hi) return 0;
    for (const entry of this.memory.entries(lo, hi, Number.POSITIVE_INFINITY)) bytes += entryRecordBytes(entry);
    return bytes;
  }

  /** Queues a rewrite of raft.log when it holds mostly dead bytes. */
  private maybeRewrite(): void {
    if (this.rewriteQueued || this.ops.failure !== null || this.closed) return;
    const live = this.liveBytes();
    const dead = this.logFile.size - live;
    if (dead <= live || dead <= this.rewriteDeadBytesMin) return;
    this.rewriteQueued = true;
    this.ops.enqueue(() => this.rewrite()).catch(() => undefined);
  }

  private async rewrite(): Promise<void> {
    this.rewriteQueued = false;
    const base = this.memory.firstIndex() - 1;
    // Entries a snapshot still being written covers stay until that file is durable (it re-checks).
    if (base > this.durableSnapshotIndex) return;
    const parts: Uint8Array[] = [encodeLogBase(this.crc32c, base, this.memory.term(base))];
    for (const entry of this.memory.entries(base + 1, this.memory.lastIndex() + 1, Number.POSITIVE_INFINITY)) parts.push(...encodeEntry(this.crc32c, entry));
    parts.push(encodeHardState(this.crc32c, this.memory.hardStateNow()));
    const content = Buffer.concat(parts);
    assert(content.byteLength === this.liveBytes(), `rewrite of ${content.byteLength} bytes, ${this.liveBytes()} expected`);
    await this.disk.writeFileDurable(this.logPath, content);
    const old = this.logFile;
    this.logFile = await this.disk.openAppend(this.logPath, { direct: false, preallocateBytes: 0, size: content.byteLength });
    await old.close();
    assert(this.logFile.size === content.byteLength, 'rewritten log has the wrong size');
  }
}
