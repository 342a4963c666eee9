/**
 * Names of the files in a partition folder `<topic>-<partition>/`. Segment files are named by their
 * base offset, zero-padded to 20 digits so that `ls` sorts them numerically:
 *   00000000000000000000.log        record batches
 *   00000000000000000000.index      sparse offset index
 *   00000000000000000000.timeindex  sparse time index
 * Suffixes added during multi-step changes, cleaned up by recovery:
 *   .deleted   a file being removed by retention (finish the removal)
 *   .cleaned   a compacted copy still being written (drop it)
 *   .swap      a truncated copy still being written (drop it)
 *   .tmp       a file being replaced atomically (drop it)
 * Partition-level files: `clean-shutdown` (written last on a clean close), `log-start-offset`,
 * `recovery-point` (all segments below this base offset were sealed durably).
 */
export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const DELETED_SUFFIX = '.deleted';
export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';
export const TEMP_SUFFIX = '.tmp';
export const CLEAN_SHUTDOWN_FILE = 'clean-shutdown';
export const LOG_START_OFFSET_FILE = 'log-start-offset';
export const RECOVERY_POINT_FILE = 'recovery-point';

export type SegmentSuffix = typeof LOG_SUFFIX | typeof INDEX_SUFFIX | typeof TIME_INDEX_SUFFIX;

const SEGMENT_RE = /^(\d{20})(\.log|\.index|\.timeindex)$/;
const PARTITION_RE = /^(.+)-(0|[1-9]\d{0,9})$/;

export function segmentFileName(baseOffset: number, suffix: SegmentSuffix): string {
  if (!Number.isSafeInteger(baseOffset) || baseOffset < 0) throw new RangeError(`bad base offset ${baseOffset}`);
  return String(baseOffset).padStart(20, '0') + suffix;
}

/** The base offset and suffix of a segment file name, or undefined for any other name. */
export function parseSegmentFileName(name: string): { baseOffset: number; suffix: SegmentSuffix } | undefined {
  const m = SEGMENT_RE.exec(name);
  if (!m) return undefined;
  const baseOffset = Number(m[1]);
  if (!Number.isSafeInteger(baseOffset)) return undefined;
  return { baseOffset, suffix: m[2] as SegmentSuffix };
}

/** True for files left behind by an interrupted multi-step change (see the suffixes above). */
export function isLeftover(name: string): boolean {
  return name.endsWith(DELETED_SUFFIX) || name.endsWith(CLEANED_SUFFIX) || name.endsWith(SWAP_SUFFIX) || name.endsWith(TEMP_SUFFIX);
}

export function partitionDirName(topic: string, partition: number): string {
  if (topic.length === 0 || topic.includes('/') || topic === '.' || topic === '..') throw new RangeError(`bad topic name ${JSON.stringify(topic)}`);
  if (!Number.isInteger(partition) || partition < 0) throw new RangeError(`bad partition ${partition}`);
  return `${topic}-${partition}`;
}

/** Topic and partition of a partition folder name (the partition follows the last '-'). */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | undefined {
  const m = PARTITION_RE.exec(name);
  if (!m) return undefined;
  return { topic: m[1]!, partition: Number(m[2]) };
}
