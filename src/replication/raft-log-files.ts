/**
 * File names in the folder of a file-backed Raft log (file-raft-log-store.ts), in one place so the
 * store and its recovery agree on them:
 *   raft.log                                the append-only record log (raft-log-records.ts)
 *   snapshot-<20-digit index>-<term>.snap   one snapshot each; `ls` sorts them by index
 *   *.tmp                                   a durable write that had not been renamed into place
 *   *.corrupt                               a snapshot file that failed validation, kept for the operator
 */
import { assert } from '../util/assert.ts';

export const LOG_FILE_NAME = 'raft.log';
export const TEMP_SUFFIX = '.tmp';
export const CORRUPT_SUFFIX = '.corrupt';
const SNAPSHOT_RE = /^snapshot-(\d{20})-(\d+)\.snap$/;

export function snapshotFileName(index: number, term: number): string {
  assert(Number.isSafeInteger(index) && index >= 0, 'snapshot index must be a non-negative integer');
  assert(Number.isSafeInteger(term) && term >= 0, 'snapshot term must be a non-negative integer');
  return `snapshot-${String(index).padStart(20, '0')}-${term}.snap`;
}

/** The index and term a snapshot file name claims, or null when `name` is not one. */
export function parseSnapshotFileName(name: string): { index: number; term: number } | null {
  const m = SNAPSHOT_RE.exec(name);
  if (m === null) return null;
  const index = Number(m[1]);
  const term = Number(m[2]);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(term)) return null;
  return { index, term };
}
