/**
 * What a partition needs from its log: the subset of the storage engine's Log (src/storage/log.ts)
 * that the Kafka path uses, so tests can substitute a memory log. Offsets are safe integers; every
 * "offset" bound below is "one past" unless it says "holding".
 *   logStartOffset <= durableOffset <= writtenOffset <= endOffset
 */
export interface PartitionLogRead {
  /** Whole record batches in order, as views (never copied); the first may start before the asked offset. */
  readonly buffers: Buffer[];
  readonly sizeBytes: number;
  /** One past the last offset returned (the asked offset when nothing was returned). */
  readonly nextOffset: number;
}

export interface PartitionLog {
  readonly logStartOffset: number;
  /** The next offset to assign. */
  readonly endOffset: number;
  /** Batches below it are written to their file and readable. */
  readonly writtenOffset: number;
  /** Batches below it are durable (fdatasync returned). */
  readonly durableOffset: number;
  readonly sizeBytes: number;
  /**
   * Validates (length, magic, CRC32C), stamps base offset and leader epoch in place, and accepts the
   * batch synchronously; ownership of the bytes passes to the log. Throws a typed error with nothing
   * appended on failure (SB_ERR_INVALID_BATCH, SB_ERR_DISK_FULL, SB_ERR_LOG_DIR_OFFLINE, SB_ERR_CLOSED).
   */
  append(batch: Buffer, options: { leaderEpoch: number }): { readonly baseOffset: number; readonly lastOffset: number };
  /** Resolves once the batch holding `offset` is written; rejects if its write failed. */
  waitWritten(offset: number): Promise<void>;
  /** Resolves once the batch holding `offset` and all before it are durable. */
  waitDurable(offset: number): Promise<void>;
  /** Makes everything appended before the call durable now, whatever the sync interval (shares a sync in progress). */
  sync(): Promise<void>;
  /** Whole batches from the one holding `offset`, at least one, up to `maxBytes`, base offsets below `maxOffset`. */
  read(offset: number, maxBytes: number, maxOffset?: number): Promise<PartitionLogRead>;
  /** The greatest batch maxTimestamp in the log, -1 when empty. */
  readonly maxTimestamp: number;
  /** Base offset of the first batch with maxTimestamp >= `timestamp`, or undefined. */
  offsetForTimestamp(timestamp: number): Promise<number | undefined>;
  /**
   * A small file of the partition's own (a bare lower-case name, not a segment's) kept in the log's
   * folder and removed with it; storage never reads it. Undefined when there is none.
   */
  readSideFile(name: string): Promise<Uint8Array | undefined>;
  /** Atomically and durably replaces a side file (temp file, fsync, rename, fsync of the folder). */
  writeSideFile(name: string, data: Uint8Array): Promise<void>;
  /** Removes a side file durably; no error when there is none. */
  removeSideFile(name: string): Promise<void>;
  /** Base offsets of the segments, oldest first. */
  segmentBaseOffsets(): number[];
  /**
   * Moves the log start up to `offset` (<= endOffset), durably; segments wholly below it are deleted.
   * Must not run concurrently with append (a single broker's DeleteRecords).
   */
  advanceLogStart(offset: number): Promise<void>;
  /** Deletes closed segments past retention; must not run concurrently with append. */
  applyRetention(nowMs?: number): Promise<number>;
  close(options?: { clean?: boolean }): Promise<void>;
}
