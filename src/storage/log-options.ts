/**
 * Options of one partition log, with defaults and the relationships between them checked once.
 * Names follow the broker configuration (storage.*) and Kafka's per-topic configs.
 */
import { assert } from '../util/assert.ts';

export type IoMode = 'direct' | 'buffered';
export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

export interface LogOptions {
  /**
   * Segment writes with O_DIRECT (aligned, bypassing the page cache) or through the page cache.
   * Default 'direct': on the reference disk (virtio, ext4) it sustains several times the buffered
   * throughput for 1 MiB appends each followed by fdatasync (bench/results/storage.json).
   */
  readonly ioMode: IoMode;
  /** 0: every acknowledged append is fdatasync'd first (waitDurable syncs). Otherwise sync this often. */
  readonly syncIntervalMs: number;
  /** A segment rolls when the next batch would take it past this size. */
  readonly segmentBytes: number;
  /** A segment rolls once its first batch is this old. */
  readonly segmentMs: number;
  /** Bytes of log between two offset index entries. */
  readonly indexIntervalBytes: number;
  /**
   * Largest step of space reserved (fallocate) ahead of the appends; 0 for none. A new segment
   * reserves 1 MiB and each further step doubles up to this (native backend), so an idle partition
   * holds 1 MiB of disk, not a full step.
   */
  readonly preallocateBytes: number;
  /** Appends of at most this many bytes to a buffered segment file are written on the calling thread (SegmentAppender); 0: none. */
  readonly inlineWriteBytes: number;
  /** The largest batch accepted (Kafka's max.message.bytes). */
  readonly maxBatchBytes: number;
  /** Closed segments whose newest batch is older than this are deleted; -1 keeps them. */
  readonly retentionMs: number;
  /** Oldest closed segments are deleted while the log is larger than this; -1 for no limit. */
  readonly retentionBytes: number;
  readonly cleanupPolicy: CleanupPolicy;
  /** Compaction keeps tombstones (null values) this long after their timestamp. */
  readonly deleteRetentionMs: number;
  /** Recently appended batches kept in memory for reads without a system call. */
  readonly tailCacheBytes: number;
}

export const DEFAULT_LOG_OPTIONS: LogOptions = {
  ioMode: 'direct',
  syncIntervalMs: 1000,
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  indexIntervalBytes: 4096,
  preallocateBytes: 32 * 1024 * 1024,
  inlineWriteBytes: 1024 * 1024,
  maxBatchBytes: 16 * 1024 * 1024,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  cleanupPolicy: 'delete',
  deleteRetentionMs: 24 * 3600 * 1000,
  tailCacheBytes: 4 * 1024 * 1024,
};

/** Index positions and relative offsets are 32-bit. */
export const SEGMENT_BYTES_MAX = 0x7fff_ffff;

export function resolveLogOptions(partial: Partial<LogOptions> = {}): LogOptions {
  const o: LogOptions = { ...DEFAULT_LOG_OPTIONS, ...partial };
  assert(o.ioMode === 'direct' || o.ioMode === 'buffered', 'ioMode must be direct or buffered');
  assert(Number.isInteger(o.syncIntervalMs) && o.syncIntervalMs >= 0, 'syncIntervalMs must be a non-negative integer');
  assert(Number.isInteger(o.segmentBytes) && o.segmentBytes >= 1024 && o.segmentBytes <= SEGMENT_BYTES_MAX, 'segmentBytes out of range');
  assert(o.segmentMs >= 1, 'segmentMs must be positive');
  assert(Number.isInteger(o.indexIntervalBytes) && o.indexIntervalBytes >= 0, 'indexIntervalBytes must be non-negative');
  assert(Number.isInteger(o.preallocateBytes) && o.preallocateBytes >= 0, 'preallocateBytes must be non-negative');
  assert(Number.isInteger(o.inlineWriteBytes) && o.inlineWriteBytes >= 0, 'inlineWriteBytes must be non-negative');
  assert(Number.isInteger(o.maxBatchBytes) && o.maxBatchBytes >= 61, 'maxBatchBytes must hold a batch header');
  assert(o.retentionMs === -1 || o.retentionMs >= 0, 'retentionMs must be -1 or non-negative');
  assert(o.retentionBytes === -1 || o.retentionBytes >= 0, 'retentionBytes must be -1 or non-negative');
  assert(o.cleanupPolicy === 'delete' || o.cleanupPolicy === 'compact' || o.cleanupPolicy === 'compact,delete', 'bad cleanupPolicy');
  assert(o.deleteRetentionMs >= 0, 'deleteRetentionMs must be non-negative');
  assert(o.tailCacheBytes >= 0, 'tailCacheBytes must be non-negative');
  return o;
}
