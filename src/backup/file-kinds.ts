/**
 * What a backup does with each file it finds in storage.dataDir and storage.raftDir (pure), by the
 * names the storage and replication layers give their files:
 *
 *   skipped   `.lock` (the running broker's), `clean-shutdown` (see below), the offset and time
 *             indexes of segments (caches the broker rebuilds from the log), and leftovers of
 *             interrupted changes (*.deleted, *.cleaned, *.swap, *.tmp, *.corrupt), which the broker
 *             deletes on open anyway
 *   segment   a segment's .log: whole record batches, CRC-checked
 *   append    raft.index, raft.state, raft-hard-states.log, the controller's raft.log: append-only
 *             record files whose owners cut a torn last record on open
 *   file      anything else (raft.snapshot, recovery-point, log-start-offset, transactions.checkpoint,
 *             broker-identity.json, cluster-metadata.json, controller snapshots, joining markers)
 *
 * Without `clean-shutdown` and the indexes, a restored partition opens the way it does after a
 * crash: every batch is scanned (its CRC checked again) and the indexes rebuilt.
 */
import { CLEAN_SHUTDOWN_FILE, LOG_SUFFIX, isLeftover, parseSegmentFileName } from '../storage/file-names.ts';
import { HARD_STATES_FILE_NAME } from '../replication/partition-hard-states.ts';
import { INDEX_FILE_NAME } from '../replication/partition-raft-index.ts';
import { HARD_STATE_FILE_NAME } from '../replication/partition-raft-files.ts';
import { CORRUPT_SUFFIX, LOG_FILE_NAME } from '../replication/raft-log-files.ts';

export type SourceFileKind = 'skip' | 'segment' | 'append' | 'file';

const LOCK_FILE_NAME = '.lock';
const APPEND_ONLY = new Set([INDEX_FILE_NAME, HARD_STATE_FILE_NAME, HARD_STATES_FILE_NAME, LOG_FILE_NAME]);

/** The kind of the file `name`; segment files only count as such inside a partition folder. */
export function sourceFileKind(name: string, inPartitionFolder: boolean): SourceFileKind {
  if (name === LOCK_FILE_NAME || name === CLEAN_SHUTDOWN_FILE || isLeftover(name) || name.endsWith(CORRUPT_SUFFIX)) return 'skip';
  if (inPartitionFolder) {
    const segment = parseSegmentFileName(name);
    if (segment !== undefined) return segment.suffix === LOG_SUFFIX ? 'segment' : 'skip';
  }
  return APPEND_ONLY.has(name) ? 'append' : 'file';
}

/**
 * The order files of one folder are read in: append-only logs before the other files. A controller
 * snapshot newer than the copied log is harmless (the log is replaced by it, as after a crash between
 * the two writes); a log start record pointing at a snapshot the copy missed would not be.
 */
export function readOrder(names: readonly string[], inPartitionFolder: boolean): string[] {
  const rank = (n: string): number => (sourceFileKind(n, inPartitionFolder) === 'append' ? 0 : 1);
  return [...names].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}
