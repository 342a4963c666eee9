/**
 * The append step of a partition Raft log's write: each data entry's record batch goes into the
 * segment log (Log.append, synchronous; the write and fsync follow), and every entry gets its index
 * record. Kept apart from the store because this is where the one rule that keeps offsets
 * consistent across replicas is enforced: a batch is stored only at the offset it was stamped with
 * by the leader, and that offset must be this log's end. Anything else would give one offset to
 * two batches (Jepsen's "inconsistent offsets") and fails with SB_ERR_RAFT_INCONSISTENT_OFFSET.
 *
 * No-op, conf-change and log-start entries are not written to the segment log: they take no offsets. Their
 * index record carries the log end at that point as its start offset.
 */
import { EntryType } from '../raft/index.ts';
import type { Entry } from '../raft/index.ts';
import { BATCH_HEADER_BYTES, readBaseOffset, readPartitionLeaderEpoch } from '../protocol/kafka/record-batch/header.ts';
import type { Log } from '../storage/log.ts';
import { assert } from '../util/assert.ts';
import { StreamBusError } from '../util/errors.ts';
import { EntryKind, INDEX_PAYLOAD_BYTES_MAX } from './partition-raft-index.ts';
import { LOG_START_ENTRY_BYTES } from './partition-log-start.ts';
import type { IndexRecord } from './partition-raft-index.ts';

const EMPTY = new Uint8Array(0);

/** One appended entry: its index record, where the log ends after it, and the entry to cache. */
export interface StagedEntry {
  readonly record: IndexRecord;
  readonly endOffset: number;
  /** The entry as stored (a copy when its batch had to be stamped with another epoch). */
  readonly entry: Entry;
}

/**
 * Appends `entries` (contiguous, starting right after the stored log, whose segment log ends at
 * `log.endOffset`) and returns what to index. Throws before appending an entry whose batch is
 * malformed or at the wrong offset; the entries before it are in the segment log by then, unindexed,
 * which the caller treats as a failed write (recovery cuts them).
 */
export function appendEntries(log: Log, entries: readonly Entry[]): StagedEntry[] {
  const staged: StagedEntry[] = [];
  for (const entry of entries) {
    const start = log.endOffset;
    if (entry.type === EntryType.ConfChange) {
      assert(entry.data.byteLength <= INDEX_PAYLOAD_BYTES_MAX, 'conf change entry too large for the index');
      staged.push({ record: { startOffset: start, term: entry.term, kind: EntryKind.ConfChange, payload: entry.data }, endOffset: start, entry });
      continue;
    }
    if (entry.data.byteLength === 0) {
      staged.push({ record: { startOffset: start, term: entry.term, kind: EntryKind.Noop, payload: EMPTY }, endOffset: start, entry });
      continue;
    }
    if (entry.data.byteLength === LOG_START_ENTRY_BYTES) {
      staged.push({ record: { startOffset: start, term: entry.term, kind: EntryKind.LogStart, payload: entry.data }, endOffset: start, entry });
      continue;
    }
    if (entry.data.byteLength < BATCH_HEADER_BYTES) {
      throw new StreamBusError('SB_ERR_INVALID_BATCH', `Raft entry ${entry.index} of ${log.dir} is ${entry.data.byteLength} bytes, not a record batch`);
    }
    const baseOffset = readBaseOffset(entry.data, 0);
    if (baseOffset !== start) {
      throw new StreamBusError(
        'SB_ERR_RAFT_INCONSISTENT_OFFSET',
        `Raft entry ${entry.index} (term ${entry.term}) of ${log.dir} holds a batch at offset ${baseOffset}, the log ends at ${start}`,
      );
    }
    // The log stamps the epoch in place; entries are immutable, so a differing one is copied first.
    let data = entry.data;
    if (readPartitionLeaderEpoch(data, 0) !== entry.term) data = new Uint8Array(data);
    const appended = log.append(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { leaderEpoch: entry.term });
    assert(appended.baseOffset === start, 'the log appended at another offset');
    assert(appended.lastOffset >= start, 'the log appended an empty range');
    const stored = data === entry.data ? entry : { ...entry, data };
    staged.push({ record: { startOffset: start, term: entry.term, kind: EntryKind.Data, payload: EMPTY }, endOffset: appended.lastOffset + 1, entry: stored });
  }
  return staged;
}
