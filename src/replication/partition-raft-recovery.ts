/**
 * Opening a partition Raft log (partition-raft-log.ts) after a clean stop or a crash: the snapshot,
 * the index and the segment log (already recovered by its own loader) are brought back to one
 * consistent state, and the in-memory table is built from the index.
 *
 * The writes whose crash points this handles (the store runs them one at a time, in this order):
 *   bootstrap:   raft.snapshot (durable) -> raft.index with only a header (durable)
 *   append:      batches into the segment log and records into raft.index (both written, then
 *                fsynced; neither is acknowledged before both are durable)
 *   truncation:  raft.index cut at the first replaced entry (durable) -> segment log cut at that
 *                entry's start offset (Log.truncateTo, durable) -> the append above
 *   leader snapshot: raft.snapshot (durable) -> Log.reset(next offset) (durable) -> a new
 *                raft.index with only a header (atomic replacement)
 *   prefix drop: a new raft.index without the compacted prefix (atomic replacement), only up to
 *                the durable snapshot
 *
 * Steps:
 *   1. No raft.snapshot and no raft.index: a new group. Write the bootstrap snapshot (index 0,
 *      term 0, the initial membership, next offset = the segment log's end), then the index.
 *      raft.index without raft.snapshot is damage (SB_ERR_CORRUPT). raft.snapshot without
 *      raft.index is a bootstrap or reset cut short: the index is written from the snapshot.
 *   2. raft.index: the header must be valid; a torn last record is cut (then fsynced).
 *   3. The snapshot must fall inside the index with its term. If it does not, the crash fell inside
 *      a leader snapshot's installation: the segment log is reset to the snapshot's next offset and
 *      a new index written, as the installation would have finished.
 *   4. The index and the segment log are reconciled. Records whose batch is not in the log (they
 *      start at or past its end) are dropped with every record after them. The last data record
 *      left is checked against the log: its batch must start at the recorded offset and carry the
 *      record's term as its partition leader epoch; otherwise it is dropped too and the one before
 *      it checked. Batches past the last indexed entry (written, never indexed, so never
 *      acknowledged) are cut from the log with Log.truncateTo. Afterwards every index record has
 *      its batch and every batch its record.
 *   5. The first index moves past entries whose batches retention removed (below the log start).
 */
import { join } from 'node:path';
import type { AppendFile, Disk } from '../io/disk.ts';
import type { ConfState, Snapshot } from '../raft/index.ts';
import { readBaseOffset, readLastOffset, readPartitionLeaderEpoch } from '../protocol/kafka/record-batch/header.ts';
import type { Log } from '../storage/log.ts';
import { corruptError, decodeSnapshot, encodeSnapshot } from './raft-log-records.ts';
import type { Crc32c } from './raft-log-records.ts';
import { INDEX_FILE_NAME, INDEX_HEADER_BYTES, INDEX_RECORD_BYTES, EntryKind, decodeIndexHeader, encodeIndexHeader, scanIndexRecords } from './partition-raft-index.ts';
import type { IndexHeader, IndexRecord } from './partition-raft-index.ts';
import { HARD_STATE_FILE_NAME, SNAPSHOT_FILE_NAME, decodePartitionSnapshotData, encodePartitionSnapshotData } from './partition-raft-files.ts';
import { PartitionRaftTable } from './partition-raft-table.ts';

/** What recovery found and repaired, for the startup log and tests. */
export interface PartitionRaftRecoveryInfo {
  readonly bootstrapped: boolean;
  /** Why a torn index tail was cut, or null. */
  readonly tornIndexTail: string | null;
  /** Index records dropped because their batch was missing or did not match. */
  readonly droppedIndexRecords: number;
  /** Kafka offsets cut from the segment log because no index record covered them. */
  readonly truncatedLogOffsets: number;
  /** True when the log was reset to a snapshot whose installation a crash had cut short. */
  readonly logReplacedBySnapshot: boolean;
}

export interface RecoveredPartitionRaftLog {
  readonly snapshot: Snapshot;
  readonly table: PartitionRaftTable;
  readonly indexFile: AppendFile;
  /** Raft index of the index file's record 0. */
  readonly indexBase: number;
  readonly info: PartitionRaftRecoveryInfo;
}

export async function writeSnapshotFile(dir: string, disk: Disk, crc32c: Crc32c, snapshot: Snapshot): Promise<void> {
  const { index, term, confState } = snapshot.metadata;
  await disk.writeFileDurable(join(dir, SNAPSHOT_FILE_NAME), encodeSnapshot(crc32c, index, term, confState, snapshot.data));
}

/** Replaces raft.index by a file with only a header; returns it opened for appends. */
export async function writeEmptyIndex(dir: string, disk: Disk, crc32c: Crc32c, header: IndexHeader): Promise<AppendFile> {
  const path = join(dir, INDEX_FILE_NAME);
  await disk.writeFileDurable(path, encodeIndexHeader(crc32c, header));
  return disk.openAppend(path, { direct: false, preallocateBytes: 0, size: INDEX_HEADER_BYTES });
}

export async function recoverPartitionRaftLog(log: Log, dir: string, disk: Disk, initialConfState: ConfState): Promise<RecoveredPartitionRaftLog> {
  const crc32c: Crc32c = disk.crc32c.bind(disk);
  await disk.mkdir(dir);
  for (const name of await disk.readdir(dir)) {
    // Atomic replacements that never got renamed into place (the segment log's loader removes
    // *.tmp in this folder too; the store does not rely on that).
    if (name === `${SNAPSHOT_FILE_NAME}.tmp` || name === `${INDEX_FILE_NAME}.tmp` || name === `${HARD_STATE_FILE_NAME}.tmp`) await disk.unlink(join(dir, name));
  }
  const snapshotPath = join(dir, SNAPSHOT_FILE_NAME);
  const indexPath = join(dir, INDEX_FILE_NAME);
  let snapshotBytes = await disk.readFile(snapshotPath);
  let indexBytes = await disk.readFile(indexPath);
  let bootstrapped = false;
  if (snapshotBytes === undefined) {
    if (indexBytes !== undefined) throw corruptError(indexPath, 0, 'a Raft index without its snapshot file');
    const data = encodePartitionSnapshotData(log.endOffset, new Uint8Array(0));
    const bootstrap: Snapshot = { metadata: { index: 0, term: 0, confState: initialConfState }, data };
    await writeSnapshotFile(dir, disk, crc32c, bootstrap);
    snapshotBytes = Buffer.from(encodeSnapshot(crc32c, 0, 0, initialConfState, data));
    bootstrapped = true;
  }
  const decoded = decodeSnapshot(crc32c, snapshotBytes, snapshotPath);
  const snapshot: Snapshot = { metadata: { index: decoded.index, term: decoded.term, confState: decoded.confState }, data: decoded.data };
  const { nextOffset } = decodePartitionSnapshotData(snapshot.data);
  const snapshotHeader: IndexHeader = { baseIndex: decoded.index + 1, prevTerm: decoded.term, baseOffset: nextOffset };

  if (indexBytes === undefined) {
    // A bootstrap (or a reset) stopped between the snapshot and the index. Only the bootstrap of a
    // group leaves the segment log alone: its next offset is the log's end.
    if (decoded.index > 0 || log.endOffset !== nextOffset) await log.reset(nextOffset);
    await writeEmptyIndex(dir, disk, crc32c, snapshotHeader).then((f) => f.close());
    indexBytes = await disk.readFile(indexPath);
    if (indexBytes === undefined) throw corruptError(indexPath, 0, 'the Raft index vanished after it was written');
  }

  const header = decodeIndexHeader(crc32c, indexBytes, indexPath);
  const scan = scanIndexRecords(crc32c, indexBytes, indexPath);
  let records = scan.records;
  const lastRecordIndex = header.baseIndex + records.length - 1;
  const termAt = (index: number): number => (index === header.baseIndex - 1 ? header.prevTerm : records[index - header.baseIndex]!.term);
  const snapshotInIndex = decoded.index >= header.baseIndex - 1 && decoded.index <= lastRecordIndex && termAt(decoded.index) === decoded.term;
  if (!snapshotInIndex) {
    if (decoded.index < header.baseIndex - 1) throw corruptError(indexPath, 0, `the Raft index starts at ${header.baseIndex}, after the snapshot at ${decoded.index}`);
    // A leader's snapshot whose installation a crash cut short: finish it.
    await log.reset(nextOffset);
    const file = await writeEmptyIndex(dir, disk, crc32c, snapshotHeader);
    const table = new PartitionRaftTable(snapshotHeader.baseIndex, snapshotHeader.prevTerm, nextOffset);
    const info = { bootstrapped, tornIndexTail: scan.tornTail, droppedIndexRecords: records.length, truncatedLogOffsets: 0, logReplacedBySnapshot: true };
    return { snapshot, table, indexFile: file, indexBase: snapshotHeader.baseIndex, info };
  }

  const reconciled = await reconcile(log, header, records, indexPath);
  const dropped = records.length - reconciled.count;
  records = records.slice(0, reconciled.count);
  const validBytes = INDEX_HEADER_BYTES + records.length * INDEX_RECORD_BYTES;
  const indexFile = await disk.openAppend(indexPath, { direct: false, preallocateBytes: 0, size: validBytes });
  // Cut physically, so stale records can never reappear behind later appends.
  if (validBytes < indexBytes.byteLength) await indexFile.truncate(validBytes);
  // Records a killed process wrote may be in the page cache only: durable before they count.
  await indexFile.sync(true);
  const table = new PartitionRaftTable(header.baseIndex, header.prevTerm, header.baseOffset);
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    table.push(record.term, record.kind, record.startOffset, record.payload);
    const next = i + 1 < records.length ? records[i + 1]!.startOffset : reconciled.endOffset;
    table.setEnd(next);
  }
  // Retention may have removed batches of the first entries (it runs on the segment log alone);
  // never past the snapshot, whose owner state still needs every later entry.
  const retained = Math.min(table.firstIndexAtOrAfter(log.logStartOffset), decoded.index + 1);
  if (retained > table.first) table.compactTo(retained);
  const info = { bootstrapped, tornIndexTail: scan.tornTail, droppedIndexRecords: dropped, truncatedLogOffsets: reconciled.truncatedOffsets, logReplacedBySnapshot: false };
  return { snapshot, table, indexFile, indexBase: header.baseIndex, info };
}

/**
 * How many leading index records have their batches in the log, and where the log must end after
 * them; cuts the log there (step 4 of the header).
 */
async function reconcile(log: Log, header: IndexHeader, records: readonly IndexRecord[], path: string): Promise<{ count: number; endOffset: number; truncatedOffsets: number }> {
  const logEnd = log.endOffset;
  let count = records.length;
  for (let k = 0; k < records.length; k++) {
    const r = records[k]!;
    if (r.startOffset > logEnd || (r.kind === EntryKind.Data && r.startOffset >= logEnd)) {
      count = k;
      break;
    }
  }
  let endOffset = header.baseOffset;
  for (;;) {
    let d = count - 1;
    while (d >= 0 && records[d]!.kind !== EntryKind.Data) d--;
    if (d < 0) {
      endOffset = count > 0 ? records[count - 1]!.startOffset : header.baseOffset;
      break;
    }
    const r = records[d]!;
    if (r.startOffset < log.logStartOffset) {
      // Retention removed the batch: its end is where the next record starts, or the log start.
      endOffset = d + 1 < count ? records[d + 1]!.startOffset : log.logStartOffset;
      break;
    }
    const read = await log.read(r.startOffset, 1);
    const batch = read.buffers[0];
    if (batch === undefined || readBaseOffset(batch, 0) !== r.startOffset || readPartitionLeaderEpoch(batch, 0) !== r.term) {
      count = d;
      continue;
    }
    endOffset = readLastOffset(batch, 0) + 1;
    // Non-data entries after it start where it ends; anything else is not what was written.
    for (let k = d + 1; k < count; k++) {
      if (records[k]!.startOffset !== endOffset) {
        count = k;
        break;
      }
    }
    break;
  }
  if (endOffset > logEnd) throw corruptError(path, 0, `the Raft index needs the log up to ${endOffset}, it ends at ${logEnd}`);
  let truncatedOffsets = 0;
  if (logEnd > endOffset) {
    await log.truncateTo(endOffset);
    if (log.endOffset !== endOffset) throw corruptError(path, 0, `the log could not be cut at ${endOffset} (a batch boundary was expected there)`);
    truncatedOffsets = logEnd - endOffset;
  }
  return { count, endOffset, truncatedOffsets };
}
