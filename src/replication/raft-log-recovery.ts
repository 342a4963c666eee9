/**
 * Opening a file-backed Raft log (file-raft-log-store.ts) after a clean stop or a crash: the
 * folder's snapshot files and record log are brought back to one consistent state, repaired on
 * disk where a crash left debris, and loaded into memory.
 *
 * Steps:
 *   1. Delete temp files (`*.tmp`): durable writes that never got renamed into place.
 *   2. Empty folder: write the bootstrap snapshot (index 0, term 0, the initial membership) first,
 *      so the membership is durable before anything depends on it.
 *   3. Scan raft.log: a torn tail is cut off (physically, then fsynced, so stale bytes can never
 *      reappear behind later appends); damage in the middle fails with SB_ERR_CORRUPT.
 *   4. Replay the records: log base, entries (an entry at or below the last index truncates the tail
 *      from there), log starts (compaction), hard states (the last one wins).
 *   5. Take the newest snapshot file that decodes. It must fit the replayed log: the log base is at
 *      or below it and the log holds its index with its term. If the log does not hold it, the
 *      crash fell between a leader's snapshot becoming durable and its log base record: the log is
 *      replaced by the snapshot (as it would have been) and a log base record is appended now.
 *      A newest snapshot that fails to decode is renamed `*.corrupt` and an older one is used only
 *      when the log holds everything after it; otherwise the open fails naming the file.
 *   6. The hard state's commit index is clamped to the last index (a commit index is knowledge that
 *      is learnt again; the entries it pointed at may have been a torn tail).
 */
import { join } from 'node:path';
import type { AppendFile, Disk } from '../io/disk.ts';
import { EMPTY_HARD_STATE, MemoryStorage } from '../raft/index.ts';
import type { ConfState, Entry, HardState, Snapshot } from '../raft/index.ts';
import { StreamBusError } from '../util/errors.ts';
import { CORRUPT_SUFFIX, LOG_FILE_NAME, TEMP_SUFFIX, parseSnapshotFileName, snapshotFileName } from './raft-log-files.ts';
import { RecordKind, corruptError, decodeSnapshot, encodeLogBase, encodeSnapshot, scanRecords } from './raft-log-records.ts';
import type { LogRecord } from './raft-log-records.ts';

/** What recovery found and repaired, for the startup log and tests. */
export interface RaftLogRecoveryInfo {
  /** True when the folder was empty and the bootstrap snapshot was written. */
  readonly bootstrapped: boolean;
  readonly snapshotIndex: number;
  /** Temp files deleted. */
  readonly removedTempFiles: readonly string[];
  /** Snapshot files that failed to decode, renamed to `<name>.corrupt`. */
  readonly corruptSnapshots: readonly string[];
  /** Why a torn tail was cut off, or null. */
  readonly tornTail: string | null;
  readonly truncatedBytes: number;
  /** True when the log was replaced by a snapshot whose log base record a crash had lost. */
  readonly logReplacedBySnapshot: boolean;
}

export interface RecoveredRaftLog {
  readonly memory: MemoryStorage;
  readonly logFile: AppendFile;
  /** Valid snapshot files on disk, oldest first. */
  readonly snapshotFiles: string[];
  readonly info: RaftLogRecoveryInfo;
}

/** The replayed log: entries after (baseIndex, baseTerm), and the last hard state. */
interface Replay {
  /** null when the log holds no record at all (a missing or empty file). */
  base: { index: number; term: number } | null;
  entries: Entry[];
  hardState: HardState;
}

function replay(records: readonly LogRecord[], path: string): Replay {
  const r: Replay = { base: null, entries: [], hardState: EMPTY_HARD_STATE };
  for (const record of records) {
    if (record.kind === RecordKind.LogBase) {
      r.base = { index: record.index, term: record.term };
      r.entries = [];
    } else if (record.kind === RecordKind.LogStart) {
      const base = r.base;
      if (base === null) throw corruptError(path, record.position, `log start ${record.index} before the log base record`);
      if (record.index <= base.index) continue;
      const known = termAt(r, record.index);
      if (known !== record.term) throw corruptError(path, record.position, `log start ${record.index} (term ${record.term}) does not match the entry there`);
      r.entries = r.entries.slice(record.index - base.index);
      r.base = { index: record.index, term: record.term };
    } else if (record.kind === RecordKind.HardState) {
      r.hardState = record.hardState;
    } else {
      const base = r.base;
      if (base === null) throw corruptError(path, record.position, `entry ${record.entry.index} before the log base record`);
      const index = record.entry.index;
      if (index <= base.index) continue;
      const position = index - base.index - 1;
      if (position > r.entries.length) throw corruptError(path, record.position, `entry ${index} leaves a gap after ${base.index + r.entries.length}`);
      if (position < r.entries.length) r.entries.length = position;
      r.entries.push(record.entry);
    }
  }
  return r;
}

/** The term the replayed log knows for `index`, or undefined. */
function termAt(r: Replay, index: number): number | undefined {
  if (r.base === null) return undefined;
  if (index === r.base.index) return r.base.term;
  return r.entries[index - r.base.index - 1]?.term;
}

function failure(message: string): StreamBusError {
  return new StreamBusError('SB_ERR_CORRUPT', message);
}

export async function recoverRaftLog(dir: string, disk: Disk, initialConfState: ConfState): Promise<RecoveredRaftLog> {
  await disk.mkdir(dir);
  const logPath = join(dir, LOG_FILE_NAME);
  const names = await disk.readdir(dir);
  const removedTempFiles = names.filter((n) => n.endsWith(TEMP_SUFFIX));
  for (const name of removedTempFiles) await disk.unlink(join(dir, name));

  const candidates = names
    .map((name) => ({ name, claim: parseSnapshotFileName(name) }))
    .filter((c): c is { name: string; claim: { index: number; term: number } } => c.claim !== null)
    .sort((a, b) => b.claim.index - a.claim.index || b.claim.term - a.claim.term);
  const logBytes = await disk.readFile(logPath);

  let bootstrapped = false;
  if (candidates.length === 0) {
    if (logBytes !== undefined) throw failure(`${logPath}: the Raft log exists but no snapshot file does (snapshot-*.snap lost)`);
    const name = snapshotFileName(0, 0);
    await disk.writeFileDurable(join(dir, name), encodeSnapshot(disk.crc32c.bind(disk), 0, 0, initialConfState, new Uint8Array(0)));
    candidates.push({ name, claim: { index: 0, term: 0 } });
    bootstrapped = true;
  }

  const crc32c = disk.crc32c.bind(disk);
  const scan = logBytes === undefined ? { records: [], validBytes: 0, tornTail: null } : scanRecords(crc32c, logBytes, logPath);
  const log = replay(scan.records, logPath);

  // Step 5: the newest snapshot that decodes and fits the log.
  const corrupt: { name: string; error: StreamBusError }[] = [];
  let chosen: { name: string; snapshot: Snapshot } | null = null;
  let replaceLog = false;
  for (const { name, claim } of candidates) {
    const path = join(dir, name);
    let decoded;
    try {
      const bytes = await disk.readFile(path);
      if (bytes === undefined) throw failure(`${path}: vanished while opening`);
      decoded = decodeSnapshot(crc32c, bytes, path);
      if (decoded.index !== claim.index || decoded.term !== claim.term) {
        throw failure(`${path}: holds the snapshot at index ${decoded.index}, term ${decoded.term}, not the one its name says`);
      }
    } catch (e) {
      if (!(e instanceof StreamBusError) || e.code !== 'SB_ERR_CORRUPT') throw e;
      corrupt.push({ name, error: e });
      continue;
    }
    const snapshot: Snapshot = { metadata: { index: decoded.index, term: decoded.term, confState: decoded.confState }, data: decoded.data };
    const fits = log.base !== null && log.base.index <= decoded.index && termAt(log, decoded.index) === decoded.term;
    if (corrupt.length > 0 && !fits) {
      const newer = corrupt.map((c) => c.error.message).join('; ');
      throw failure(`newest snapshot unreadable (${newer}) and the Raft log ${logPath} does not hold the entries after the older ${path}`);
    }
    if (log.base !== null && log.base.index > decoded.index) {
      throw failure(`${logPath}: the Raft log starts after index ${log.base.index}, past the newest snapshot ${path}: entries are missing`);
    }
    replaceLog = !fits;
    chosen = { name, snapshot };
    break;
  }
  if (chosen === null) throw failure(`no readable snapshot file in ${dir}: ${corrupt.map((c) => c.error.message).join('; ')}`);
  for (const { name } of corrupt) await disk.rename(join(dir, name), join(dir, name + CORRUPT_SUFFIX));

  // Repair the log file on disk before anything is appended to it.
  const meta = chosen.snapshot.metadata;
  const logFile = await disk.openAppend(logPath, { direct: false, preallocateBytes: 0, size: scan.validBytes });
  const truncatedBytes = logBytes === undefined ? 0 : logBytes.byteLength - scan.validBytes;
  try {
    if (truncatedBytes > 0) await logFile.truncate(scan.validBytes);
    if (replaceLog) await logFile.append([encodeLogBase(crc32c, meta.index, meta.term)]);
    // Always, not only after a repair: bytes a killed process wrote but never fsynced survive in the
    // page cache and are adopted here; they must be durable before this node acts on them (votes,
    // acknowledgements), or a later power loss could take back what it already answered for.
    await logFile.sync(true);
    await disk.syncDir(dir);
  } catch (e) {
    await logFile.close().catch(() => undefined);
    throw e;
  }

  const memory = new MemoryStorage(meta.confState);
  if (replaceLog || log.base === null || log.base.index === meta.index) {
    memory.applySnapshot(chosen.snapshot);
  } else {
    // Entries kept below the snapshot (so a slow follower catches up from the log) come back too.
    memory.applySnapshot({ metadata: { index: log.base.index, term: log.base.term, confState: meta.confState }, data: new Uint8Array(0) });
  }
  if (!replaceLog) memory.append(log.entries);
  if (memory.snapshot() !== chosen.snapshot) memory.createSnapshot(meta.index, meta.confState, chosen.snapshot.data);
  const hs = log.hardState;
  memory.setHardState({ term: hs.term, vote: hs.vote, commit: Math.min(hs.commit, memory.lastIndex()) });

  const snapshotFiles = names.filter((n) => parseSnapshotFileName(n) !== null && !corrupt.some((c) => c.name === n));
  if (bootstrapped) snapshotFiles.push(chosen.name);
  snapshotFiles.sort();
  return {
    memory,
    logFile,
    snapshotFiles,
    info: {
      bootstrapped,
      snapshotIndex: meta.index,
      removedTempFiles,
      corruptSnapshots: corrupt.map((c) => c.name),
      tornTail: scan.tornTail,
      truncatedBytes,
      logReplacedBySnapshot: replaceLog && log.base !== null,
    },
  };
}
