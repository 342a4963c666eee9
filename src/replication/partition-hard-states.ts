/**
 * The hard states (term, vote, commit index) of every partition Raft group of a broker, in one
 * append-only file beside the partition folders (`raft-hard-states.log` in storage.dataDir), written
 * by group commit: every term or vote change that arrives while a write is in flight joins the next
 * write, and one append plus one fdatasync makes all of them durable.
 *
 * Why: a partition group's term or vote must be durable before any message that depends on it leaves
 * (a vote, a campaign). With one raft.state per partition, a broker failure that moves a thousand
 * groups' leadership costs thousands of fsyncs of different files on the survivors (each candidate's
 * term and vote, each voter's vote), a few at a time on the libuv pool; elections that outlast their
 * timeout start over with a new term and more fsyncs. Here the same thousand changes cost a handful.
 *
 * Record (32 bytes, big-endian): [crc32c u32 of bytes 4..31][groupId u32][term u64][vote u32]
 * [commit u64][version u32 = 1]. The last whole record of a group wins. Fixed-size records: a torn
 * append leaves a prefix of whole records and a partial one.
 *
 * Durability: write(groupId, hardState) resolves once the record is appended, and after the fdatasync
 * when its term or vote differs from the group's previous record (a commit-only change needs no
 * fsync: a lost commit index is learnt again). fdatasync covers everything appended before it, so
 * every record older than a durable one is durable too.
 *
 * Recovery (open): records are read in order; at the first invalid record (bad CRC or version), the
 * rest must hold no valid record: it is the unsynced tail of the last append, cut and the file
 * fsynced. A valid record behind an invalid one is damage in the middle (SB_ERR_CORRUPT with the
 * file and position): by the rule above, a synced record is never behind an unsynced one. Same known
 * limit as the controller's log (docs/replication.md): a power loss that writes a later page of an
 * unsynced append back and not an earlier one is reported as damage too. What the last process wrote
 * may sit in the page cache only, so the open fsyncs the file before anything relies on it.
 *
 * Rewrite: once the file is larger than REWRITE_BYTES_MIN and four times its live records, the last
 * record of every group is written to a temp file that replaces it atomically (Disk.writeFileDurable),
 * on the write queue, so either file is whole. Groups of deleted topics keep their 32 bytes (group ids
 * are never reused).
 *
 * Failures: an I/O error fails the file for good: that write and every later one reject with
 * SB_ERR_LOG_DIR_OFFLINE (a failed fsync is never retried).
 */
import { join } from 'node:path';
import type { AppendFile, Disk } from '../io/disk.ts';
import type { HardState } from '../raft/index.ts';
import { EMPTY_HARD_STATE } from '../raft/index.ts';
import { assert } from '../util/assert.ts';
import { StreamBusError } from '../util/errors.ts';
import { corruptError, getU64, putU64, type Crc32c } from './raft-log-records.ts';

export const HARD_STATES_FILE_NAME = 'raft-hard-states.log';
export const HARD_STATE_RECORD_SIZE = 32;
const VERSION = 1;
const REWRITE_BYTES_MIN = 1024 * 1024;
const TWO_POW_32 = 2 ** 32;
const GROUP_ID_MAX = 0x7fffffff;

/** The durable hard state of one group, as PartitionRaftLog uses it (HardStateFile is the other kind). */
export interface HardStateStore {
  /** The last hard state written. */
  readonly hardState: HardState;
  /** Stores `hardState`: durable (fsynced) before it resolves when its term or vote changed, or with `sync`. */
  write(hardState: HardState, sync?: boolean): Promise<void>;
  close(): Promise<void>;
}

/** One 32-byte record at `out[at]`. */
export function encodeHardStateRecord(crc32c: Crc32c, groupId: number, hs: HardState, out: Uint8Array, at: number): void {
  assert(Number.isSafeInteger(groupId) && groupId >= 0 && groupId <= GROUP_ID_MAX, `group id must be 0..2^31-1, got ${groupId}`);
  assert(Number.isSafeInteger(hs.vote) && hs.vote >= 0 && hs.vote < TWO_POW_32, `vote ${hs.vote} does not fit a u32`);
  const view = new DataView(out.buffer, out.byteOffset + at, HARD_STATE_RECORD_SIZE);
  view.setUint32(4, groupId);
  putU64(view, 8, hs.term);
  view.setUint32(16, hs.vote);
  putU64(view, 20, hs.commit);
  view.setUint32(28, VERSION);
  view.setUint32(0, crc32c(out, 0, at + 4, at + HARD_STATE_RECORD_SIZE));
}

/** The record at `bytes[at]`, or null when it is not a valid one. */
export function decodeHardStateRecord(crc32c: Crc32c, bytes: Uint8Array, at: number): { groupId: number; hardState: HardState } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, HARD_STATE_RECORD_SIZE);
  if (view.getUint32(0) !== crc32c(bytes, 0, at + 4, at + HARD_STATE_RECORD_SIZE)) return null;
  if (view.getUint32(28) !== VERSION) return null;
  const term = getU64(view, 8);
  const commit = getU64(view, 20);
  const groupId = view.getUint32(4);
  if (term === undefined || commit === undefined || groupId > GROUP_ID_MAX) return null;
  return { groupId, hardState: { term, vote: view.getUint32(16), commit } };
}

interface PendingWrite {
  readonly groupId: number;
  readonly hardState: HardState;
  readonly mustSync: boolean;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class PartitionHardStates {
  /** The last record appended per group (what a reopen would read, once synced). */
  private readonly states = new Map<number, HardState>();
  /** The last state handed to write() per group: a change of term or vote against it must be synced. */
  private readonly latest = new Map<number, HardState>();
  private pending: PendingWrite[] = [];
  private running = false;
  private failure: StreamBusError | null = null;
  private closed = false;
  /** Batches written and fdatasyncs done (tests and stats). */
  readonly counters = { batches: 0, syncs: 0, records: 0, rewrites: 0 };

  private constructor(
    private readonly path: string,
    private readonly disk: Disk,
    private readonly crc32c: Crc32c,
    private file: AppendFile,
    private readonly rewriteBytesMin: number,
  ) {}

  /** Opens (creating when missing) `dir`/raft-hard-states.log, recovering as the header says. */
  static async open(dir: string, disk: Disk, options: { rewriteBytesMin?: number } = {}): Promise<PartitionHardStates> {
    const path = join(dir, HARD_STATES_FILE_NAME);
    const crc32c: Crc32c = disk.crc32c.bind(disk);
    const existing = await disk.readFile(path);
    const bytes = existing ?? new Uint8Array(0);
    const states = new Map<number, HardState>();
    const whole = Math.floor(bytes.byteLength / HARD_STATE_RECORD_SIZE);
    let valid = whole;
    for (let i = 0; i < whole; i++) {
      const record = decodeHardStateRecord(crc32c, bytes, i * HARD_STATE_RECORD_SIZE);
      if (record === null) {
        valid = i;
        break;
      }
      states.set(record.groupId, record.hardState);
    }
    for (let i = valid + 1; i < whole; i++) {
      if (decodeHardStateRecord(crc32c, bytes, i * HARD_STATE_RECORD_SIZE) !== null) {
        throw corruptError(path, valid * HARD_STATE_RECORD_SIZE, `invalid hard state record followed by a valid one at ${i * HARD_STATE_RECORD_SIZE}`);
      }
    }
    const validBytes = valid * HARD_STATE_RECORD_SIZE;
    const file = await disk.openAppend(path, { direct: false, preallocateBytes: 0, size: validBytes });
    // A new file's name must be durable before a record fsynced into it counts as durable.
    if (existing === undefined) await disk.syncDir(dir);
    if (validBytes < bytes.byteLength) await file.truncate(validBytes);
    // What a killed process wrote may be in the page cache only: durable before anything relies on it.
    if (existing !== undefined) await file.sync(true);
    const journal = new PartitionHardStates(path, disk, crc32c, file, options.rewriteBytesMin ?? REWRITE_BYTES_MIN);
    for (const [groupId, hs] of states) {
      journal.states.set(groupId, hs);
      journal.latest.set(groupId, hs);
    }
    return journal;
  }

  /** Groups with a record. */
  get size(): number {
    return this.states.size;
  }

  /** The last hard state of `groupId` written (EMPTY_HARD_STATE when none). */
  hardState(groupId: number): HardState {
    return this.latest.get(groupId) ?? EMPTY_HARD_STATE;
  }

  /** Whether `groupId` has a record. */
  has(groupId: number): boolean {
    return this.latest.has(groupId);
  }

  /** The file's bytes so far. */
  get sizeBytes(): number {
    return this.file.size;
  }

  /** A HardStateStore for group `groupId` over this file. */
  group(groupId: number): HardStateStore {
    const journal = this;
    return {
      get hardState() {
        return journal.hardState(groupId);
      },
      write: (hardState, sync) => journal.write(groupId, hardState, sync),
      close: () => Promise.resolve(),
    };
  }

  /**
   * Stores `hardState` for `groupId`, with the writes of other groups that arrive meanwhile; resolves
   * once appended, and once fdatasynced when the term or vote changed (or `sync`).
   */
  write(groupId: number, hardState: HardState, sync = false): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new StreamBusError('SB_ERR_CLOSED', `${this.path} is closed`));
    const previous = this.latest.get(groupId) ?? EMPTY_HARD_STATE;
    const mustSync = sync || hardState.term !== previous.term || hardState.vote !== previous.vote;
    this.latest.set(groupId, hardState);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ groupId, hardState, mustSync, resolve, reject });
      if (!this.running) {
        this.running = true;
        // After the current synchronous work: the writes of every group it touches join one batch.
        queueMicrotask(() => void this.run());
      }
    });
  }

  /** Resolves once every write handed in so far has finished. */
  async settled(): Promise<void> {
    while (this.running) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Waits for the writes in flight, then closes the file; later writes are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.settled();
    this.closed = true;
    await this.file.close().catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      if (this.failure !== null) {
        for (const w of batch) w.reject(this.failure);
        continue;
      }
      try {
        await this.writeBatch(batch);
      } catch (error) {
        this.failure = new StreamBusError('SB_ERR_LOG_DIR_OFFLINE', `${this.path} is offline after an error: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        for (const w of batch) w.reject(this.failure);
      }
    }
    this.running = false;
  }

  private async writeBatch(batch: readonly PendingWrite[]): Promise<void> {
    this.counters.batches++;
    this.counters.records += batch.length;
    const liveBytes = (this.states.size + batch.length) * HARD_STATE_RECORD_SIZE;
    const size = this.file.size + batch.length * HARD_STATE_RECORD_SIZE;
    if (size > this.rewriteBytesMin && size > 4 * liveBytes) {
      for (const w of batch) this.states.set(w.groupId, w.hardState);
      await this.rewrite();
      for (const w of batch) w.resolve();
      return;
    }
    const out = new Uint8Array(batch.length * HARD_STATE_RECORD_SIZE);
    let sync = false;
    for (let i = 0; i < batch.length; i++) {
      const w = batch[i]!;
      encodeHardStateRecord(this.crc32c, w.groupId, w.hardState, out, i * HARD_STATE_RECORD_SIZE);
      if (w.mustSync) sync = true;
    }
    this.file.appendNow([out]);
    for (const w of batch) this.states.set(w.groupId, w.hardState);
    // Commit-only changes are answered once written: they wait for no fsync.
    for (const w of batch) if (!w.mustSync) w.resolve();
    if (!sync) return;
    await this.file.sync();
    this.counters.syncs++;
    for (const w of batch) if (w.mustSync) w.resolve();
  }

  /** The last record of every group, atomically in place of the file (durable whatever changed). */
  private async rewrite(): Promise<void> {
    this.counters.rewrites++;
    const out = new Uint8Array(this.states.size * HARD_STATE_RECORD_SIZE);
    let i = 0;
    for (const [groupId, hs] of this.states) encodeHardStateRecord(this.crc32c, groupId, hs, out, HARD_STATE_RECORD_SIZE * i++);
    await this.disk.writeFileDurable(this.path, out);
    const old = this.file;
    this.file = await this.disk.openAppend(this.path, { direct: false, preallocateBytes: 0, size: out.byteLength });
    await old.close();
  }
}

/**
 * Which of two stored hard states of one group is the newer: the higher term; at the same term the
 * one with a vote (Raft never takes a vote back within a term). The commit index is the larger one
 * (each is at most what was committed). Used when an older version's raft.state file sits beside
 * this broker's record of the group.
 */
export function newerHardState(a: HardState, b: HardState): HardState {
  const commit = Math.max(a.commit, b.commit);
  if (a.term !== b.term) return { ...(a.term > b.term ? a : b), commit };
  return { term: a.term, vote: a.vote !== 0 ? a.vote : b.vote, commit };
}
