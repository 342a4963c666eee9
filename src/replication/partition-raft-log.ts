/**
 * The Raft log of one partition's Raft group, stored IN the partition's segment log: a Raft entry
 * that carries data is exactly one Kafka record batch, written once, where Kafka reads it. Fetch,
 * retention and compaction see an ordinary partition log; Raft sees a RaftLogStore.
 *
 * Entries:
 *   - Data (EntryType.Normal, non-empty): one record batch v2 whose base offset the leader stamped
 *     when proposing (the log end offset then) and whose partitionLeaderEpoch is the entry's term.
 *     persist() appends it with Log.append after checking that the base offset IS the log's end
 *     offset; anything else fails the write with SB_ERR_RAFT_INCONSISTENT_OFFSET, because storing
 *     it would give one offset to two batches (Jepsen's "inconsistent offsets").
 *   - No-op (EntryType.Normal, empty: a new leader's first entry), conf change and log start
 *     (EntryType.Normal, 8 bytes: DeleteRecords, partition-log-start.ts): never written to the
 *     segment log (kept inline in raft.index), so they take no Kafka offsets. A new topic starts at
 *     offset 0, offsets stay contiguous, and consumer lag returns to 0 after a leader change:
 *     no offset translation anywhere.
 *
 * Files (partition folder, formats in partition-raft-index.ts and partition-raft-files.ts):
 *   raft.index (one 32-byte record per Raft index: start offset, term, kind, inline conf change),
 *   raft.snapshot (latest snapshot; its data carries the next Kafka offset), raft.state (hard state).
 *
 * Memory: the table (partition-raft-table.ts: start offset and kind per retained index, terms as
 * runs) answers term(), firstIndex() and lastIndex(); a byte-bounded cache of recent data entries
 * (partition-entry-cache.ts) answers entries(). A data entry that is not cached makes entries()
 * throw LogNotLoadedError (or return the cached prefix): the range is then read from the segment
 * log asynchronously (partition-entry-loader.ts) and `onLoaded` is called, so the owner calls
 * RaftDriver.storageLoaded(). The append itself, with the offset check, is partition-raft-append.ts.
 *
 * Writes run on one queue, one at a time (a Ready, a snapshot file, an index rewrite, the owner's
 * exclusive log work):
 *   persist(write): [leader snapshot: raft.snapshot durable -> Log.reset(next offset) -> new empty
 *   raft.index] -> [an entry at index i <= lastIndex: raft.index cut at i (fsynced) -> Log.truncateTo
 *   (start offset of i, durable)] -> Log.append of each data batch + one raft.index append ->
 *   fsync of both (Log.sync, AppendFile.sync) and, at the same time, the hard state (fsynced when
 *   term or vote changed) -> memory -> done(null). Crash points and their repair:
 *   partition-raft-recovery.ts.
 *   createSnapshot: memory at once, raft.snapshot written on the queue.
 *   compact: memory at once; raft.index loses its dead prefix by an atomic rewrite, queued, once the
 *   prefix is larger than the live part and `indexRewriteRecordsMin`, and only up to the durable
 *   snapshot. Until then a reopen brings compacted entries back (allowed: they are still stored).
 *
 * Retention is the segment log's own business (Log.applyRetention / advanceLogStart, run through
 * runExclusively so they never overlap an append). The owner then calls logStartAdvanced(): entries
 * whose batches are gone are compacted, never past the snapshot. The owner must snapshot before
 * retention passes the snapshot's next offset (its producer state needs the entries after it).
 *
 * Failures: an I/O error fails the store for good (done(error), later writes refused with
 * SB_ERR_LOG_DIR_OFFLINE); cached reads keep answering. The Log is not closed by close(): its
 * owner (the log manager) opened it.
 */
import { join } from 'node:path';
import type { AppendFile, Disk } from '../io/disk.ts';
import { EntryType, LogCompactedError, LogNotLoadedError, LogUnavailableError, entryBytes } from '../raft/index.ts';
import type { ConfState, Entry, HardState, Snapshot } from '../raft/index.ts';
import type { Log } from '../storage/log.ts';
import { assert } from '../util/assert.ts';
import { FailStopQueue } from './fail-stop-queue.ts';
import { decodeLogStart } from './partition-log-start.ts';
import { StreamBusError } from '../util/errors.ts';
import { PartitionEntryCache } from './partition-entry-cache.ts';
import { PartitionEntryLoader } from './partition-entry-loader.ts';
import { appendEntries } from './partition-raft-append.ts';
import type { StagedEntry } from './partition-raft-append.ts';
import { HardStateFile, decodePartitionSnapshotData, encodePartitionSnapshotData, readHardStateFile } from './partition-raft-files.ts';
import { newerHardState, type HardStateStore, type PartitionHardStates } from './partition-hard-states.ts';
import { INDEX_FILE_NAME, INDEX_RECORD_BYTES, EntryKind, encodeIndexFile, encodeIndexRecord, indexRecordPosition } from './partition-raft-index.ts';
import type { IndexRecord } from './partition-raft-index.ts';
import { recoverPartitionRaftLog, writeEmptyIndex, writeSnapshotFile } from './partition-raft-recovery.ts';
import type { PartitionRaftRecoveryInfo } from './partition-raft-recovery.ts';
import type { PartitionRaftTable } from './partition-raft-table.ts';
import type { Crc32c } from './raft-log-records.ts';
import type { RaftLogStore, RaftLogWrite } from './raft-log-store.ts';

export interface PartitionRaftLogOptions {
  /** The group's membership when the partition has no Raft files yet (the bootstrap snapshot). */
  readonly initialConfState: ConfState;
  /** Bytes of recent data entries kept in memory. Default 32 MiB. */
  readonly cacheBytes?: number;
  /** Bytes one asynchronous load reads at most (always at least one batch). Default min(1 MiB, cacheBytes / 4). */
  readonly loadBytes?: number;
  /** Called once entries that were answered with LogNotLoadedError are in memory. */
  readonly onLoaded?: () => void;
  /** Called after each successful persist, once the driver has heard of it (acks=1 waits for it). */
  readonly onPersisted?: () => void;
  /**
   * true (default): entries are fsynced (segment log and index) before persist completes. false:
   * only written (page cache), Redpanda's "write caching"; term and vote are fsynced either way.
   */
  readonly syncEntries?: boolean;
  /** Rewrite raft.index without its compacted prefix once that prefix holds more records than this. Default 65536. */
  readonly indexRewriteRecordsMin?: number;
  /**
   * The broker's shared hard-state file and this partition's group id: term, vote and commit index
   * go there (batched with every other group's) instead of the partition's own raft.state. A
   * raft.state an older version left in `dir` is still read, and the newer of the two is used.
   */
  readonly hardStates?: { readonly journal: PartitionHardStates; readonly groupId: number };
}

export const DEFAULT_PARTITION_RAFT_CACHE_BYTES = 32 * 1024 * 1024;
const LOAD_BYTES_MAX = 1024 * 1024;
const EMPTY = new Uint8Array(0);

export class PartitionRaftLog implements RaftLogStore {
  readonly recovery: PartitionRaftRecoveryInfo;
  private readonly crc32c: Crc32c;
  private readonly cache: PartitionEntryCache;
  private readonly loader: PartitionEntryLoader;
  private readonly syncEntries: boolean;
  private readonly indexRewriteRecordsMin: number;
  private readonly ops = new FailStopQueue((error) => error instanceof StreamBusError && error.code === 'SB_ERR_RAFT_INCONSISTENT_OFFSET' ? error : new StreamBusError('SB_ERR_LOG_DIR_OFFLINE', `partition Raft log in ${this.dir} is offline after an error: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
  private closed = false;
  private persisting = false;
  private rewriteQueued = false;
  private durableSnapshotIndex: number;
  private readonly onPersisted: () => void;

  private constructor(
    private readonly log: Log,
    private readonly dir: string,
    private readonly disk: Disk,
    private readonly table: PartitionRaftTable,
    private snap: Snapshot,
    private indexFile: AppendFile,
    private indexBase: number,
    private readonly hardStateFile: HardStateStore,
    private hardStateNow: HardState,
    recovery: PartitionRaftRecoveryInfo,
    options: PartitionRaftLogOptions,
  ) {
    this.crc32c = disk.crc32c.bind(disk);
    this.recovery = recovery;
    this.cache = new PartitionEntryCache(options.cacheBytes ?? DEFAULT_PARTITION_RAFT_CACHE_BYTES);
    const loadBytes = options.loadBytes ?? Math.max(1, Math.min(LOAD_BYTES_MAX, Math.floor(this.cache.budgetBytes / 4)));
    const onLoaded = options.onLoaded ?? (() => undefined);
    this.loader = new PartitionEntryLoader(log, table, this.cache, loadBytes, { onLoaded, onFailure: (error) => this.ops.fail(error) });
    this.syncEntries = options.syncEntries ?? true;
    this.onPersisted = options.onPersisted ?? (() => undefined);
    this.indexRewriteRecordsMin = options.indexRewriteRecordsMin ?? 65536;
    this.durableSnapshotIndex = snap.metadata.index;
    assert(snap.metadata.index <= table.last, 'the snapshot lies past the log');
    assert(table.first - 1 <= snap.metadata.index, 'the log was compacted past the snapshot');
  }

  /**
   * Opens the Raft log of the partition whose segment log is `log` (opened and recovered by the log
   * manager), with its files in `dir` (the partition folder), recovering after a crash as
   * partition-raft-recovery.ts describes.
   */
  static async open(log: Log, dir: string, disk: Disk, options: PartitionRaftLogOptions): Promise<PartitionRaftLog> {
    const recovered = await recoverPartitionRaftLog(log, dir, disk, options.initialConfState);
    const crc32c: Crc32c = disk.crc32c.bind(disk);
    let file: HardStateStore;
    if (options.hardStates === undefined) {
      file = (await HardStateFile.open(dir, disk, crc32c)).file;
    } else {
      const { journal, groupId } = options.hardStates;
      const legacy = await readHardStateFile(dir, disk, crc32c);
      if (legacy !== undefined) {
        const merged = journal.has(groupId) ? newerHardState(journal.hardState(groupId), legacy) : legacy;
        const current = journal.hardState(groupId);
        // Recorded (durably) in the shared file, which alone is written from now on.
        if (!journal.has(groupId) || merged.term !== current.term || merged.vote !== current.vote || merged.commit !== current.commit) await journal.write(groupId, merged, true);
      }
      file = journal.group(groupId);
    }
    const stored = file.hardState;
    // A commit index is knowledge that is learnt again; the entries it pointed at may be gone.
    const hardState = { ...stored, commit: Math.min(stored.commit, recovered.table.last) };
    return new PartitionRaftLog(log, dir, disk, recovered.table, recovered.snapshot, recovered.indexFile, recovered.indexBase, file, hardState, recovered.info, options);
  }

  // ---- LogStorage (synchronous, from memory) ----

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardStateNow, confState: this.snap.metadata.confState };
  }

  /** The last hard state stored. */
  hardState(): HardState {
    return this.hardStateNow;
  }

  firstIndex(): number {
    return this.table.first;
  }

  lastIndex(): number {
    return this.table.last;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  term(index: number): number {
    if (index < this.table.first - 1) throw new LogCompactedError(index, this.table.first);
    if (index > this.table.last) throw new LogUnavailableError(index, this.table.last);
    return this.table.term(index);
  }

  entries(lo: number, hi: number, maxBytes: number): readonly Entry[] {
    assert(lo <= hi, 'entries range is inverted');
    if (lo < this.table.first) throw new LogCompactedError(lo, this.table.first);
    if (hi > this.table.last + 1) throw new LogUnavailableError(hi - 1, this.table.last);
    const out: Entry[] = [];
    let bytes = 0;
    for (let index = lo; index < hi; index++) {
      const entry = this.entryAt(index);
      if (entry === undefined) {
        if (this.table.startOffset(index) < this.log.logStartOffset) {
          // Retention removed the batch: only a snapshot can bring this follower past it.
          if (index === lo) throw new LogCompactedError(lo, this.table.first);
          break;
        }
        if (this.ops.failure !== null && index === lo) throw this.ops.failure;
        this.loader.start(index);
        if (index === lo) throw new LogNotLoadedError(lo);
        break;
      }
      const size = entryBytes(entry);
      if (out.length > 0 && bytes + size > maxBytes) break;
      out.push(entry);
      bytes += size;
    }
    return out;
  }

  /** The greatest log start a DeleteRecords entry retained here up to `index` set; 0 when none. */
  logStartUpTo(index: number): number {
    let start = 0;
    for (const i of this.table.payloadIndexes(index)) {
      if (this.table.kind(i) === EntryKind.LogStart) start = Math.max(start, decodeLogStart(this.table.payload(i)));
    }
    return start;
  }

  /** The conf changes among [lo, hi), from the index table alone (they are stored inline there). */
  confChangeEntries(lo: number, hi: number): readonly Entry[] {
    const out: Entry[] = [];
    for (let index = Math.max(lo, this.table.first); index < Math.min(hi, this.table.last + 1); index++) {
      if (this.table.kind(index) === EntryKind.ConfChange) out.push(this.entryAt(index)!);
    }
    return out;
  }

  // ---- partition view ----

  /** The Kafka log end offset as of Raft index `index` (in [firstIndex() - 1, lastIndex()]): the high watermark when `index` is the commit index. */
  endOffsetAt(index: number): number {
    if (index < this.table.first - 1) throw new LogCompactedError(index, this.table.first);
    if (index > this.table.last) throw new LogUnavailableError(index, this.table.last);
    return this.table.endOffsetAt(index);
  }

  /** The Kafka offset entry `index` starts at (its batch's base offset for a data entry). */
  startOffset(index: number): number {
    if (index < this.table.first) throw new LogCompactedError(index, this.table.first);
    if (index > this.table.last + 1) throw new LogUnavailableError(index, this.table.last);
    return this.table.startOffset(index);
  }

  /** The first retained index whose entry starts at or after Kafka offset `offset` (lastIndex() + 1 when none). */
  firstIndexAtOrAfter(offset: number): number {
    return this.table.firstIndexAtOrAfter(offset);
  }

  /** Bytes of data entries cached now. */
  get cachedBytes(): number {
    return this.cache.sizeBytes;
  }

  /** The failure that took the store offline, or null. */
  get failed(): StreamBusError | null {
    return this.ops.failure;
  }

  /** Raft index of raft.index's first record (at most firstIndex(); below it until a rewrite). */
  get indexFileBase(): number {
    return this.indexBase;
  }

  // ---- writer side ----

  persist(write: RaftLogWrite, done: (error: Error | null) => void): void {
    if (this.ops.failure !== null) {
      done(this.ops.failure);
      return;
    }
    this.checkOpen();
    assert(!this.persisting, 'a second persist while one is in flight');
    this.persisting = true;
    this.ops.enqueue(() => this.write(write)).then(
      () => {
        this.persisting = false;
        done(null);
        this.onPersisted();
      },
      (error: unknown) => {
        this.persisting = false;
        done(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): void {
    this.checkUsable();
    assert(index > this.snap.metadata.index, 'snapshot index must move forward');
    assert(index <= this.table.last, 'cannot snapshot past the last entry');
    assert(index >= this.table.first - 1, 'cannot snapshot a compacted index');
    const envelope = encodePartitionSnapshotData(this.table.endOffsetAt(index), data);
    const snapshot: Snapshot = { metadata: { index, term: this.table.term(index), confState }, data: envelope };
    this.snap = snapshot;
    this.ops.enqueue(async () => {
      // A leader's snapshot installed meanwhile replaced this one: it must not be written over it.
      if (this.snap !== snapshot) return;
      await writeSnapshotFile(this.dir, this.disk, this.crc32c, snapshot);
      this.durableSnapshotIndex = Math.max(this.durableSnapshotIndex, index);
      this.maybeRewriteIndex();
    }).catch(() => undefined); // kept in this.ops.failure, reported to the next caller
  }

  compact(index: number): void {
    this.checkUsable();
    if (index <= this.table.first) return;
    assert(index - 1 <= this.snap.metadata.index, 'compaction may not pass the snapshot');
    assert(index - 1 <= this.table.last, 'compaction may not pass the last entry');
    this.dropPrefix(index);
  }

  /**
   * The segment log's start offset moved (retention, DeleteRecords): compacts the entries whose
   * batches are gone, never past the snapshot. Returns the first index now.
   */
  logStartAdvanced(): number {
    this.checkUsable();
    const retained = Math.min(this.table.firstIndexAtOrAfter(this.log.logStartOffset), this.snap.metadata.index + 1);
    if (retained > this.table.first) this.dropPrefix(retained);
    return this.table.first;
  }

  /** Runs `work` on the segment log (retention, advanceLogStart) between two writes of this store. */
  runExclusively<T>(work: () => Promise<T>): Promise<T> {
    this.checkUsable();
    let result: T | undefined;
    return this.ops.enqueue(async () => {
      result = await work();
    }).then(() => result as T);
  }

  /** Resolves once every write queued so far has finished; rejects when the store failed. */
  async settled(): Promise<void> {
    await this.ops.idle();
    if (this.ops.failure !== null) throw this.ops.failure;
  }

  /** Waits for the writes in flight, then closes the store's files (not the segment log). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.loader.stop();
    await this.ops.idle();
    await this.indexFile.close();
    if (this.ops.failure === null && this.hardStateFile.hardState.commit !== this.hardStateNow.commit) {
      await this.hardStateFile.write(this.hardStateNow).catch(() => undefined);
    }
    await this.hardStateFile.close();
  }

  // ---- internals ----

  private entryAt(index: number): Entry | undefined {
    const kind = this.table.kind(index);
    if (kind === EntryKind.Data) return this.cache.get(index);
    const term = this.table.term(index);
    if (kind === EntryKind.Noop) return { term, index, type: EntryType.Normal, data: EMPTY };
    if (kind === EntryKind.LogStart) return { term, index, type: EntryType.Normal, data: this.table.payload(index) };
    return { term, index, type: EntryType.ConfChange, data: this.table.payload(index) };
  }

  private dropPrefix(index: number): void {
    this.loader.invalidate();
    this.table.compactTo(index);
    this.cache.deleteBelow(index);
    this.maybeRewriteIndex();
  }

  /** One Ready's write, on the queue. */
  private async write(write: RaftLogWrite): Promise<void> {
    if (write.snapshot !== null) await this.installSnapshot(write.snapshot);
    let entries = write.entries;
    if (entries.length > 0 && entries[0]!.index < this.table.first) entries = entries.filter((e) => e.index >= this.table.first);
    const waits: Promise<unknown>[] = [];
    let staged: StagedEntry[] | null = null;
    let lastData = -1;
    if (entries.length > 0) {
      const first = entries[0]!.index;
      assert(first <= this.table.last + 1, `entry ${first} leaves a gap after ${this.table.last}`);
      if (first <= this.table.last) await this.truncate(first);
      assert(this.log.endOffset === this.table.endOffset, `segment log ends at ${this.log.endOffset}, the Raft log at ${this.table.endOffset}`);
      staged = appendEntries(this.log, entries);
      const records = new Uint8Array(staged.length * INDEX_RECORD_BYTES);
      for (let i = 0; i < staged.length; i++) encodeIndexRecord(this.crc32c, staged[i]!.record, records, i * INDEX_RECORD_BYTES);
      this.indexFile.appendNow([records]);
      for (const s of staged) if (s.record.kind === EntryKind.Data) lastData = s.endOffset - 1;
      if (this.syncEntries && write.mustSync) {
        if (lastData >= 0) waits.push(this.log.sync());
        waits.push(this.indexFile.sync());
      } else if (lastData >= 0) {
        waits.push(this.log.waitWritten(lastData));
      }
    }
    const hardState = write.hardState;
    // A Ready that only moves the commit index does not write it on the way to applying: a lost
    // commit index is learnt again from the leader, and every commit would otherwise cost a write on
    // every replica before its entries apply. The commit index goes out with the next entries (in
    // parallel with them), the next term or vote change, and on close; a restart re-applies only the
    // entries after it (the owner reads the high watermark off it).
    const commitOnly = hardState !== null && hardState.term === this.hardStateNow.term && hardState.vote === this.hardStateNow.vote;
    // Except when it commits a membership change: a restart must not go back to the older membership,
    // by which this member would count votes it can no longer get (a member refilled after a replaced
    // disk cannot vote: docs/replication.md, "Replaced disks"). Membership changes are rare.
    const commitsMembership = hardState !== null && (write.committedEntries ?? []).some((e) => e.type === EntryType.ConfChange);
    if (hardState !== null && (!commitOnly || staged !== null || commitsMembership)) waits.push(this.hardStateFile.write(hardState, commitsMembership));
    await Promise.all(waits);
    if (staged !== null) {
      for (const s of staged) {
        this.table.push(s.record.term, s.record.kind, s.record.startOffset, s.record.payload);
        this.table.setEnd(s.endOffset);
        if (s.record.kind === EntryKind.Data) this.cache.put(s.entry);
      }
    }
    if (hardState !== null) this.hardStateNow = hardState;
  }

  /** Drops entries `index` and later from the index, then their batches from the segment log, durably. */
  private async truncate(index: number): Promise<void> {
    this.loader.invalidate();
    const offset = this.table.startOffset(index);
    await this.indexFile.truncate(indexRecordPosition(this.indexBase, index));
    await this.indexFile.sync(true);
    await this.log.truncateTo(offset);
    if (this.log.endOffset !== offset) {
      throw new StreamBusError('SB_ERR_CORRUPT', `${this.log.dir}: truncating Raft entry ${index} left the log at ${this.log.endOffset}, expected ${offset}`);
    }
    this.table.truncateFrom(index);
    this.cache.deleteFrom(index);
    // Again: a load that read the log while it was being cut must not cache what it read.
    this.loader.invalidate();
  }

  /** A leader's snapshot replaces the whole log: snapshot file, segment log reset, new index. */
  private async installSnapshot(snapshot: Snapshot): Promise<void> {
    const { index, term } = snapshot.metadata;
    assert(index >= this.snap.metadata.index, 'snapshot is older than the stored one');
    const { nextOffset } = decodePartitionSnapshotData(snapshot.data);
    await writeSnapshotFile(this.dir, this.disk, this.crc32c, snapshot);
    this.snap = snapshot;
    this.durableSnapshotIndex = index;
    this.loader.invalidate();
    this.cache.clear();
    await this.log.reset(nextOffset);
    const old = this.indexFile;
    this.indexFile = await writeEmptyIndex(this.dir, this.disk, this.crc32c, { baseIndex: index + 1, prevTerm: term, baseOffset: nextOffset });
    await old.close();
    this.indexBase = index + 1;
    this.table.reset(index, term, nextOffset);
    this.loader.invalidate();
  }

  /** Queues a rewrite of raft.index without its compacted prefix when that prefix is large. */
  private maybeRewriteIndex(): void {
    if (this.rewriteQueued || this.ops.failure !== null || this.closed) return;
    const dead = this.table.first - this.indexBase;
    if (dead <= this.table.size || dead <= this.indexRewriteRecordsMin) return;
    this.rewriteQueued = true;
    this.ops.enqueue(async () => {
      this.rewriteQueued = false;
      const first = this.table.first;
      // Only a prefix a durable snapshot covers may disappear from the files.
      if (first - 1 > this.durableSnapshotIndex || first <= this.indexBase) return;
      const records: IndexRecord[] = [];
      for (let i = first; i <= this.table.last; i++) {
        records.push({ startOffset: this.table.startOffset(i), term: this.table.term(i), kind: this.table.kind(i), payload: this.table.payload(i) });
      }
      const content = encodeIndexFile(this.crc32c, { baseIndex: first, prevTerm: this.table.prevTerm, baseOffset: this.table.startOffset(first) }, records);
      const path = join(this.dir, INDEX_FILE_NAME);
      await this.disk.writeFileDurable(path, content);
      const old = this.indexFile;
      this.indexFile = await this.disk.openAppend(path, { direct: false, preallocateBytes: 0, size: content.byteLength });
      await old.close();
      this.indexBase = first;
    }).catch(() => undefined);
  }


  private checkOpen(): void {
    if (this.closed) throw new StreamBusError('SB_ERR_CLOSED', `partition Raft log in ${this.dir} is closed`);
  }

  private checkUsable(): void {
    if (this.ops.failure !== null) throw this.ops.failure;
    this.checkOpen();
  }
}
