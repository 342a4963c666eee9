/**
 * The small files of a partition Raft log besides its index (partition-raft-index.ts), all in the
 * partition folder next to the segments, so the Raft log and the Kafka log it indexes live and die
 * together (a deleted topic, a replaced disk):
 *
 *   raft.snapshot  the latest snapshot: one snapshot record of raft-log-records.ts (index, term,
 *                  membership, data), replaced atomically with Disk.writeFileDurable. Its data is
 *                  the envelope below: the next Kafka offset after the snapshot, then the owner's
 *                  opaque bytes. The offset travels inside the data because a follower that
 *                  installs the leader's snapshot must restart its segment log at that offset, and
 *                  a Raft snapshot carries nothing else the core does not know about.
 *   raft.state     the hard state: append-only hard-state records of raft-log-records.ts (CRC
 *                  checked, the last whole one wins, a torn tail is cut). A term or vote change
 *                  is fsynced before the write is acknowledged; a commit-only change is not even
 *                  written then (PartitionRaftLog writes it with the next term or vote change and
 *                  on close: a lost commit index is learnt again). Rewritten (atomically) once it grows past
 *                  HARD_STATE_FILE_BYTES_MAX. An append costs one fsync, where an atomic
 *                  replacement would cost two and a rename.
 *
 * Snapshot data envelope: [version u8 = 1][nextOffset u64 big-endian][owner bytes].
 */
import { join } from 'node:path';
import type { AppendFile, Disk } from '../io/disk.ts';
import type { HardState } from '../raft/index.ts';
import { EMPTY_HARD_STATE } from '../raft/index.ts';
import { assert } from '../util/assert.ts';
import { RecordKind, corruptError, encodeHardState, scanRecords } from './raft-log-records.ts';
import type { Crc32c } from './raft-log-records.ts';

export const SNAPSHOT_FILE_NAME = 'raft.snapshot';
export const HARD_STATE_FILE_NAME = 'raft.state';
export const HARD_STATE_FILE_BYTES_MAX = 64 * 1024;
const ENVELOPE_VERSION = 1;
const ENVELOPE_BYTES = 9;
const TWO_POW_32 = 2 ** 32;

/** A partition snapshot's data: the next Kafka offset after it, then the owner's bytes. */
export function encodePartitionSnapshotData(nextOffset: number, ownerData: Uint8Array): Uint8Array {
  assert(Number.isSafeInteger(nextOffset) && nextOffset >= 0, 'next offset must be a non-negative integer');
  const out = new Uint8Array(ENVELOPE_BYTES + ownerData.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(0, ENVELOPE_VERSION);
  view.setUint32(1, Math.floor(nextOffset / TWO_POW_32));
  view.setUint32(5, nextOffset >>> 0);
  out.set(ownerData, ENVELOPE_BYTES);
  return out;
}

/** Splits a partition snapshot's data; throws SB_ERR_CORRUPT when it is not one. */
export function decodePartitionSnapshotData(data: Uint8Array): { nextOffset: number; ownerData: Uint8Array } {
  if (data.byteLength < ENVELOPE_BYTES || data[0] !== ENVELOPE_VERSION) throw corruptError('partition snapshot data', 0, 'not a version 1 partition snapshot');
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const nextOffset = view.getUint32(1) * TWO_POW_32 + view.getUint32(5);
  return { nextOffset, ownerData: data.subarray(ENVELOPE_BYTES) };
}

/**
 * The hard state a raft.state file in `dir` holds (its last whole record), or undefined when there is
 * no such file. Reads only: a broker that keeps its groups' hard states in PartitionHardStates reads
 * the file an older version wrote this way.
 */
export async function readHardStateFile(dir: string, disk: Disk, crc32c: Crc32c): Promise<HardState | undefined> {
  const path = join(dir, HARD_STATE_FILE_NAME);
  const bytes = await disk.readFile(path);
  if (bytes === undefined) return undefined;
  let hardState = EMPTY_HARD_STATE;
  for (const record of scanRecords(crc32c, bytes, path).records) {
    if (record.kind !== RecordKind.HardState) throw corruptError(path, record.position, 'not a hard state record');
    hardState = record.hardState;
  }
  return hardState;
}

/** raft.state: the durable hard state. One write at a time (the store's queue). */
export class HardStateFile {
  private constructor(
    private readonly path: string,
    private readonly disk: Disk,
    private readonly crc32c: Crc32c,
    private file: AppendFile,
    private current: HardState,
  ) {}

  /** Opens (creating when missing) and reads the last whole record; cuts a torn tail; fsyncs what it read. */
  static async open(dir: string, disk: Disk, crc32c: Crc32c): Promise<{ file: HardStateFile; tornTail: string | null }> {
    const path = join(dir, HARD_STATE_FILE_NAME);
    const existing = await disk.readFile(path);
    const bytes = existing ?? new Uint8Array(0);
    const scan = scanRecords(crc32c, bytes, path);
    let hardState = EMPTY_HARD_STATE;
    for (const record of scan.records) {
      if (record.kind !== RecordKind.HardState) throw corruptError(path, record.position, 'not a hard state record');
      hardState = record.hardState;
    }
    const file = await disk.openAppend(path, { direct: false, preallocateBytes: 0, size: scan.validBytes });
    // A new file's name must be durable before a record fsynced into it counts as durable.
    if (existing === undefined) await disk.syncDir(dir);
    if (scan.validBytes < bytes.byteLength) await file.truncate(scan.validBytes);
    // A record a killed process wrote may be in the page cache only: durable before it counts.
    if (existing !== undefined) await file.sync(true);
    return { file: new HardStateFile(path, disk, crc32c, file, hardState), tornTail: scan.tornTail };
  }

  get hardState(): HardState {
    return this.current;
  }

  /** Stores `hardState`; fsynced when its term or vote differ from the stored one, or with `sync`. */
  async write(hardState: HardState, sync = false): Promise<void> {
    const mustSync = sync || hardState.term !== this.current.term || hardState.vote !== this.current.vote;
    const record = encodeHardState(this.crc32c, hardState);
    if (this.file.size + record.byteLength > HARD_STATE_FILE_BYTES_MAX) {
      // One whole record replaces the file atomically: durable whatever changed.
      await this.disk.writeFileDurable(this.path, record);
      const old = this.file;
      this.file = await this.disk.openAppend(this.path, { direct: false, preallocateBytes: 0, size: record.byteLength });
      await old.close();
    } else {
      await this.file.append([record]);
      if (mustSync) await this.file.sync();
    }
    this.current = hardState;
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
