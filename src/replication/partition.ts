/**
 * One partition on this broker. Owns its log, its idempotent-producer state and the waiters of
 * long-polling fetches; how an accepted batch reaches its offsets and when it becomes visible is its
 * writer's business:
 *   - LocalWriter (a single broker): the batch is appended here; the high watermark is
 *       syncInterval 0  -> only durable offsets (what acks=-1 acknowledged survives any crash);
 *       otherwise       -> every written offset (Kafka's default: durability by periodic flush);
 *   - a replica of a Raft group (partition-replica.ts): the leader stamps the offsets and proposes the
 *     batch; it is visible once committed (held by a majority), and the high watermark is the end of
 *     the committed log.
 * Producer checks, writes and log maintenance (retention) are serialised through one queue: the log
 * forbids appends and maintenance running at the same time, and two in-flight batches of one producer
 * must not race.
 *
 * Transactions (partition-transactions.ts): the writer feeds every batch to `transactions` in offset
 * order (a single broker as it appends, a replica as it applies committed entries), which gives the
 * last stable offset read_committed consumers read up to, and the aborted transactions they skip.
 * Commit and abort markers are control batches this partition builds (writeTxnMarker).
 */
import type { PartitionLog, PartitionLogRead } from './partition-log.ts';
import { ProducerStateTable, lastSequenceOf } from './producer-state.ts';
import { PartitionTransactions, observedBatchOf, type AbortedTransaction, type TransactionsState } from './partition-transactions.ts';
import { TRANSACTIONS_CHECKPOINT_FILE, decodeTransactionsCheckpoint, encodeTransactionsCheckpoint } from './transactions-checkpoint.ts';
import { assert } from '../util/assert.ts';
import { StreamBusError } from '../util/errors.ts';
import {
  ControlType,
  batchSizeAt,
  buildControlBatch,
  isControlBatch,
  isTransactionalBatch,
  readAttributes,
  readBaseOffset,
  readBatchHeader,
  readProducerId,
  readRecordsCount,
  splitBatches,
  type RecordBatchHeader,
} from '../protocol/kafka/record-batch/index.ts';

/** How much of the log one step of a scan (`batches`) reads. */
const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Bytes of batches observed between two transactions checkpoints: after a crash, the transactions are
 * rebuilt from the newest checkpoint, so at most about this much of the log (plus what was not
 * durable yet) is scanned, whatever the segment size. A checkpoint is one small file written with a
 * fsync, a rename and a fsync of the folder, off the append path.
 */
export const TRANSACTIONS_CHECKPOINT_BYTES = 64 * 1024 * 1024;

export interface PartitionOptions {
  /** True when the high watermark must wait for durability (storage.syncInterval 0). */
  strictDurability: boolean;
  leaderEpoch: number;
  /** Bytes observed between two periodic transactions checkpoints (default TRANSACTIONS_CHECKPOINT_BYTES). */
  transactionsCheckpointBytes?: number;
}

/** The idempotence fields of an incoming batch (Kafka record batch v2 header). */
export interface ProducerFields {
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
}

/** Offsets of an accepted batch; `written` resolves once this broker stored it (acks=1), `visible` once consumers may read it. */
export interface WrittenBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly written: Promise<void>;
  readonly visible: Promise<void>;
}

/**
 * Where an accepted batch goes. `write` runs inside the partition's queue after the producer checks,
 * returns the offsets the batch got, and `visible` resolves once consumers may read it (rejects if it
 * never will: a failed write, a lost leadership). Throws a typed error when nothing was accepted.
 */
export interface PartitionWriter {
  readonly leaderEpoch: number;
  /** One past the last offset consumers may read. */
  readonly highWatermark: number;
  /** False while this replica may not take writes (not the leader, or not ready yet). */
  readonly writable: boolean;
  /**
   * `control`: a batch this broker built (a marker from writeTxnMarker, or the group coordinator's
   * transactional offsets, which carry a producer id without a sequence), exempt from the rules for
   * producers' batches.
   * The writer feeds the batch to the partition's transactions once it counts (partition-transactions.ts).
   */
  write(batch: Buffer, control?: boolean): WrittenBatch;
  /** Resolves once every offset below `offset` is visible (the high watermark reached it). */
  waitVisible(offset: number): Promise<void>;
  /** Replicas in sync with this leader, itself included (min.insync.replicas is checked against it). */
  inSyncReplicaCount(): number;
  /**
   * The log start DeleteRecords set that the log itself may not show yet (a replica's committed
   * command, applied to the segments by retention); 0 when there is none.
   */
  readonly deletedBelow: number;
  /** DeleteRecords: moves the log start to `offset` (<= the high watermark); resolves once it holds. */
  deleteRecords(offset: number): Promise<void>;
}

/** Appends to the partition's own log: a single broker. */
class LocalWriter implements PartitionWriter {
  readonly writable = true;

  constructor(
    private readonly log: PartitionLog,
    private readonly options: PartitionOptions,
    private readonly observe: (batch: Buffer) => void,
  ) {}

  get leaderEpoch(): number {
    return this.options.leaderEpoch;
  }

  get highWatermark(): number {
    return this.options.strictDurability ? this.log.durableOffset : this.log.writtenOffset;
  }

  write(batch: Buffer): WrittenBatch {
    const { baseOffset, lastOffset } = this.log.append(batch, { leaderEpoch: this.options.leaderEpoch });
    // Appended batches are fed at once, in offset order; a marker counts only once visible (the LSO rule).
    this.observe(batch);
    const visible = this.options.strictDurability ? this.log.waitDurable(lastOffset) : this.log.waitWritten(lastOffset);
    return { baseOffset, lastOffset, visible, written: visible };
  }

  inSyncReplicaCount(): number {
    return 1;
  }

  // The log itself moves: the log start is durable and the segments below it are gone when this resolves.
  readonly deletedBelow = 0;

  deleteRecords(offset: number): Promise<void> {
    return this.log.advanceLogStart(offset);
  }

  waitVisible(offset: number): Promise<void> {
    if (this.options.strictDurability) return offset <= this.log.durableOffset ? Promise.resolve() : this.log.waitDurable(offset - 1);
    return offset <= this.log.writtenOffset ? Promise.resolve() : this.log.waitWritten(offset - 1);
  }
}

/** A transaction marker for one partition (WriteTxnMarkers). */
export interface TxnMarker {
  producerId: bigint;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
  timestampMs: number;
}

export type AppendResult =
  | { kind: 'appended'; baseOffset: number; lastOffset: number; written: Promise<void>; visible: Promise<void> }
  /**
   * A retry of one of the producer's recent batches: `visible` is that batch's own visibility while
   * its write is still in flight (it rejects if the batch never becomes visible), else resolved.
   */
  | { kind: 'duplicate'; baseOffset: number; visible: Promise<void> }
  | { kind: 'invalid-epoch' }
  | { kind: 'out-of-order' };

interface DataWaiter {
  offset: number;
  wake: () => void;
  /** Waits for the last stable offset (read_committed) rather than the high watermark. */
  stable: boolean;
}

export class Partition {
  /** Open transactions by producer id: when this replica first saw each open while leading (abortStaleTransactions). */
  private readonly openSeenAt = new Map<bigint, number>();
  /** Replaced when a replica becomes leader and rebuilds it from the log (partition-replica.ts). */
  producers = new ProducerStateTable();
  /** Replaced when the partition opens and when a replica installs a snapshot (partition-replica.ts). */
  transactions = new PartitionTransactions();
  /** Offset of the newest transactions checkpoint in the folder (written or read back); -1: none. */
  private checkpointedAt = -1;
  /**
   * Counts the changes to the transactions that are not observed batches (compaction's removal of
   * markers, forgetRemovedMarkers): a state taken after one must be checkpointed even at an offset
   * already checkpointed.
   */
  private stateRevision = 0;
  /** The stateRevision of the newest checkpoint written. */
  private checkpointedRevision = 0;
  /** Bytes of batches observed since the last checkpoint was started. */
  private bytesSinceCheckpoint = 0;
  /** A periodic checkpoint waits for its batches to be durable. */
  private checkpointPending = false;
  /** Set once the partition goes away: periodic checkpoints stop (the final one of a close does not). */
  private checkpointsStopped = false;
  /** Checkpoint writes, one at a time and in order of their offsets. */
  private checkpointWrites: Promise<void> = Promise.resolve();
  private readonly checkpointBytes: number;
  private waiters: DataWaiter[] = [];
  private writer: PartitionWriter;
  private appendQueue: Promise<unknown> = Promise.resolve();
  /**
   * The visibility of idempotent batches written and not visible yet, by base offset: a retry that
   * arrives meanwhile is answered once the batch is visible, not before (it may still be lost).
   */
  private readonly pendingVisible = new Map<number, Promise<void>>();
  /** Set when the broker stops or the partition goes away: waiting for data is pointless then. */
  closing = false;

  constructor(
    readonly topic: string,
    readonly index: number,
    readonly log: PartitionLog,
    options: PartitionOptions,
  ) {
    this.writer = new LocalWriter(log, options, (batch) => this.observeBatch(batch, false));
    this.checkpointBytes = options.transactionsCheckpointBytes ?? TRANSACTIONS_CHECKPOINT_BYTES;
  }

  /** Hands writes to a Raft group's replica; before the partition serves anything. */
  replicateWith(writer: PartitionWriter): void {
    this.writer = writer;
  }

  /** Whether writes go through a Raft group. */
  get replicated(): boolean {
    return !(this.writer instanceof LocalWriter);
  }

  /** Whether this replica takes writes now (always on a single broker; the ready leader of a Raft group). */
  get writable(): boolean {
    return this.writer.writable;
  }

  get leaderEpoch(): number {
    return this.writer.leaderEpoch;
  }

  inSyncReplicaCount(): number {
    return this.writer.inSyncReplicaCount();
  }

  /** The first offset consumers may read: the log's own start, or later where DeleteRecords moved it. */
  get logStartOffset(): number {
    return Math.max(this.log.logStartOffset, this.writer.deletedBelow);
  }

  /**
   * DeleteRecords: the log start moves to `offset`, which must lie in [0, high watermark]
   * (SB_ERR_OFFSET_OUT_OF_RANGE otherwise); one below the current start changes nothing. Resolves
   * with the log start then. A single broker moves its log between appends; a Raft group's leader
   * commits the command first (SB_ERR_NOT_LEADER when this replica does not lead).
   */
  async deleteRecords(offset: number): Promise<number> {
    const hw = this.highWatermark;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > hw) {
      throw new StreamBusError('SB_ERR_OFFSET_OUT_OF_RANGE', `offset ${offset} is outside [0, ${hw}] (the high watermark) of ${this.topic}-${this.index}`);
    }
    if (offset > this.logStartOffset) {
      if (this.replicated) await this.writer.deleteRecords(offset);
      else {
        await this.maintain(async () => {
          // The batches below the new start cannot be scanned again (rebuildTransactions). Without a
          // checkpoint (it could not be made durable) the start stays, and the answer says so.
          if (await this.checkpointBefore(offset)) await this.writer.deleteRecords(offset);
        });
      }
    }
    return this.logStartOffset;
  }

  get logEndOffset(): number {
    return this.log.endOffset;
  }

  get highWatermark(): number {
    return this.writer.highWatermark;
  }

  /** One past the last offset read_committed consumers may read: below every undecided transaction. */
  get lastStableOffset(): number {
    return this.transactions.lastStableOffset(this.highWatermark);
  }

  /** The aborted transactions a read_committed read of [fromOffset, toOffset) must list. */
  abortedTransactions(fromOffset: number, toOffset: number): AbortedTransaction[] {
    this.transactions.forgetBelow(this.logStartOffset);
    return this.transactions.abortedIn(fromOffset, Math.max(fromOffset, toOffset));
  }

  /**
   * Writes a commit or abort marker for the producer's transaction (what WriteTxnMarkers asks of a
   * partition). Refused with SB_ERR_INVALID_PRODUCER_EPOCH when the producer already wrote with a
   * later epoch (a zombie's coordinator). Resolves with the marker's offset once it is accepted;
   * `visible` says when it counts (the transaction is decided for consumers).
   */
  writeTxnMarker(marker: TxnMarker): Promise<{ offset: number; visible: Promise<void> }> {
    const run = this.appendQueue.then(() => {
      const epoch = this.producers.epochOf(marker.producerId);
      if (epoch !== undefined && marker.producerEpoch < epoch) {
        throw new StreamBusError('SB_ERR_INVALID_PRODUCER_EPOCH', `producer ${marker.producerId} wrote to ${this.topic}-${this.index} with epoch ${epoch}, the marker has ${marker.producerEpoch}`);
      }
      const batch = buildControlBatch(
        { type: marker.commit ? ControlType.commit : ControlType.abort, coordinatorEpoch: marker.coordinatorEpoch },
        { producerId: marker.producerId, producerEpoch: marker.producerEpoch, timestamp: BigInt(marker.timestampMs) },
      );
      const { baseOffset, visible } = this.writer.write(batch, true);
      this.producers.markerWritten(marker.producerId, marker.producerEpoch, marker.timestampMs);
      visible.then(() => this.wakeWaiters(), () => undefined);
      return { offset: baseOffset, visible };
    });
    this.appendQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * Aborts the transactions this leader has seen open for longer than `maxOpenMs` (Kafka's
   * transaction.max.timeout.ms): a safety net under the transaction coordinator, which decides a
   * transaction long before, so that a producer that wrote transactional data and vanished (or a
   * client that wrote it without a coordinator) cannot hold the last stable offset, and with it every
   * read_committed consumer, for ever. Ages are measured from when this replica first saw the
   * transaction open while leading (a restart or a new leader starts again: later, never earlier).
   * Resolves with the producer ids aborted; nothing when this replica does not take writes.
   */
  async abortStaleTransactions(nowMs: number, maxOpenMs: number): Promise<bigint[]> {
    const open = this.writable ? this.transactions.toState().open : [];
    const openIds = new Set(open.map((t) => t.producerId));
    for (const id of [...this.openSeenAt.keys()]) if (!openIds.has(id)) this.openSeenAt.delete(id);
    const aborted: bigint[] = [];
    for (const { producerId } of open) {
      const since = this.openSeenAt.get(producerId);
      if (since === undefined) {
        this.openSeenAt.set(producerId, nowMs);
        continue;
      }
      if (nowMs - since <= maxOpenMs) continue;
      const marker = { producerId, producerEpoch: this.producers.epochOf(producerId) ?? 0, commit: false, coordinatorEpoch: -1, timestampMs: nowMs };
      await this.writeTxnMarker(marker);
      this.openSeenAt.delete(producerId);
      aborted.push(producerId);
    }
    return aborted;
  }

  /**
   * Appends one producer batch. Idempotent batches are checked against producer state first; checks
   * and appends are serialised per partition so two in-flight batches of one producer cannot race.
   * Resolves once the batch is accepted (offsets assigned); the result's `visible` says when consumers may read it.
   * `builtHere`: the broker built the batch itself (PartitionWriter.write's `control`).
   */
  append(batch: Buffer, producer: ProducerFields | null, timestampMs: number, builtHere = false): Promise<AppendResult> {
    const run = this.appendQueue.then((): AppendResult => {
      let identity = null;
      if (producer && producer.producerId >= 0n) {
        identity = {
          producerId: producer.producerId,
          producerEpoch: producer.producerEpoch,
          baseSequence: producer.baseSequence,
          lastSequence: lastSequenceOf(producer.baseSequence, producer.lastOffsetDelta),
        };
        const verdict = this.producers.check(identity);
        if (verdict.kind === 'duplicate') return { kind: 'duplicate', baseOffset: verdict.baseOffset, visible: this.visibleAgain(verdict.baseOffset) };
        if (verdict.kind !== 'append') return verdict;
      }
      const { baseOffset, lastOffset, visible, written } = this.writer.write(batch, builtHere);
      if (identity) {
        this.producers.record(identity, baseOffset, lastOffset, timestampMs);
        this.pendingVisible.set(baseOffset, visible);
        const settled = (): void => {
          if (this.pendingVisible.get(baseOffset) === visible) this.pendingVisible.delete(baseOffset);
        };
        visible.then(settled, settled);
      }
      // A failed write takes the log offline (a lost proposal ends the leadership); producers hear of it through `visible`.
      visible.then(() => this.wakeWaiters(), () => undefined);
      return { kind: 'appended', baseOffset, lastOffset, written, visible };
    });
    this.appendQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * The visibility of a batch appended before at `baseOffset`, for a retry of it: its write's own
   * while that is in flight; resolved once below the high watermark; otherwise (known from the log
   * but not visible, with no write in flight here) it never will be through this leader: retriable.
   */
  private visibleAgain(baseOffset: number): Promise<void> {
    const pending = this.pendingVisible.get(baseOffset);
    if (pending !== undefined) return pending;
    if (baseOffset < this.highWatermark) return Promise.resolve();
    return Promise.reject(new StreamBusError('SB_ERR_NOT_LEADER', `the first write of this batch to ${this.topic}-${this.index} at offset ${baseOffset} is not visible; retry`));
  }

  /**
   * Resolves once every offset below `offset` is visible to consumers: written to the file (handed to
   * the operating system, so it survives the broker process dying) or, in strict mode, durable.
   */
  waitVisible(offset: number): Promise<void> {
    return this.writer.waitVisible(offset);
  }

  /** Resolves once every offset below `offset` is durable (fdatasync returned). */
  waitDurable(offset: number): Promise<void> {
    return offset <= this.log.durableOffset ? Promise.resolve() : this.log.waitDurable(offset - 1);
  }

  /** Runs log maintenance (retention) between appends, never during one. */
  /**
   * Retention of a single broker's partition (inside maintain()): it deletes closed segments only,
   * all below the active segment, so a checkpoint at or past the active segment's base comes first
   * (at most one per segment roll; usually a periodic one is there already). Returns the segments
   * deleted.
   */
  async applyRetention(nowMs: number): Promise<number> {
    const bases = this.log.segmentBaseOffsets();
    if (bases.length < 2) return 0;
    if (!(await this.checkpointBefore(bases[bases.length - 1]!))) return 0;
    return this.log.applyRetention(nowMs);
  }

  maintain<T>(work: () => Promise<T>): Promise<T> {
    const run = this.appendQueue.then(work);
    this.appendQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * Reads committed batches (below the high watermark) from `offset`; SB_ERR_OFFSET_OUT_OF_RANGE outside
   * the log. An offset between the high watermark and the log end reads nothing, as in Kafka: a new
   * leader's high watermark may trail what its predecessor let consumers read, and those consumers
   * must wait, not reset their position. `committedOnly` (read_committed) reads below the last
   * stable offset instead of the high watermark.
   */
  read(offset: number, maxBytes: number, committedOnly = false): Promise<PartitionLogRead> {
    const hw = this.highWatermark;
    // read_committed: offsets between the LSO and the high watermark read nothing (they exist).
    const bound = committedOnly ? this.lastStableOffset : hw;
    const end = Math.max(hw, this.log.endOffset);
    const start = this.logStartOffset;
    if (offset < start || offset > end) {
      return Promise.reject(new StreamBusError('SB_ERR_OFFSET_OUT_OF_RANGE', `offset ${offset} is outside [${start}, ${end}] of ${this.topic}-${this.index}`));
    }
    if (offset >= bound) return Promise.resolve({ buffers: [], sizeBytes: 0, nextOffset: offset });
    return this.readPastEmptyBatches(offset, maxBytes, bound);
  }

  /**
   * A read reaches at most the end of one segment, and compaction of a replicated log leaves batches
   * whose records all went as empty headers (docs/replication.md "Compaction"): a segment of only
   * those would answer a fetch with no record, and clients that advance by the records they got
   * (kafkajs) would ask for the same offset forever. So the read goes on into the next segments
   * until it holds a record, the byte budget is spent, or the bound (the high watermark, or the last
   * stable offset for read_committed) is reached. The first batch with records comes even past the
   * budget, as KIP-74 allows the first batch of a fetch.
   */
  private async readPastEmptyBatches(offset: number, maxBytes: number, bound: number): Promise<PartitionLogRead> {
    const first = await this.log.read(offset, maxBytes, bound);
    if (first.buffers.length === 0 || holdsRecords(first.buffers)) return first;
    const buffers = [...first.buffers];
    let sizeBytes = first.sizeBytes;
    let nextOffset = first.nextOffset;
    while (nextOffset < bound && sizeBytes < maxBytes) {
      const more = await this.log.read(nextOffset, maxBytes - sizeBytes, bound);
      if (more.buffers.length === 0 || more.nextOffset <= nextOffset) break;
      buffers.push(...more.buffers);
      sizeBytes += more.sizeBytes;
      nextOffset = more.nextOffset;
      if (holdsRecords(more.buffers)) break;
    }
    return { buffers, sizeBytes, nextOffset };
  }

  /**
   * Calls `wake` when the high watermark (`stable`: the last stable offset) passes `offset`, or at
   * once if it already has. Returns a canceller.
   */
  onData(offset: number, wake: () => void, stable = false): () => void {
    if (this.closing || (stable ? this.lastStableOffset : this.highWatermark) > offset) {
      wake();
      return () => undefined;
    }
    const waiter = { offset, wake, stable };
    this.waiters.push(waiter);
    return () => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
    };
  }

  /**
   * Rebuilds idempotent-producer state after a restart from the batches of the newest segments
   * (about `tailBytes` of log). Producers whose last batch is older than that come back as unknown,
   * for which any sequence is accepted, as after Kafka's producer-state expiry; retried batches are
   * always recent, so their duplicates are still recognised.
   */
  async rebuildProducerState(tailBytes: number, into: ProducerStateTable = this.producers): Promise<number> {
    const bases = this.log.segmentBaseOffsets();
    let from = this.log.logStartOffset;
    if (this.log.sizeBytes > tailBytes && bases.length > 2) from = Math.max(from, bases[bases.length - 2]!);
    let batches = 0;
    for await (const { header } of this.batches(from)) {
      const baseOffset = Number(header.baseOffset);
      if (header.producerId < 0n || baseOffset < from) continue;
      if (isControlBatch(header.attributes)) {
        // A marker carries no sequence: it only moves the producer to its epoch.
        into.markerWritten(header.producerId, header.producerEpoch, Number(header.maxTimestamp));
        continue;
      }
      const lastSequence = lastSequenceOf(header.baseSequence, header.lastOffsetDelta);
      const identity = { producerId: header.producerId, producerEpoch: header.producerEpoch, baseSequence: header.baseSequence, lastSequence };
      into.record(identity, baseOffset, baseOffset + header.lastOffsetDelta, Number(header.maxTimestamp));
      batches++;
    }
    return batches;
  }

  /**
   * Feeds one batch to the transactions, in offset order: a single broker's writer as it appends
   * (`committed` false), a replica as it applies committed entries (`committed`: entries applied again
   * after a restart are skipped when a checkpoint covered them). Every TRANSACTIONS_CHECKPOINT_BYTES
   * a checkpoint of the state is written in the background once the batches it covers are durable.
   */
  observeBatch(batch: Buffer, committed: boolean): void {
    const observed = observedBatchOf(batch);
    if (committed) this.transactions.observeCommitted(observed);
    else this.transactions.observe(observed);
    this.bytesSinceCheckpoint += batch.length;
    if (this.bytesSinceCheckpoint >= this.checkpointBytes) this.checkpointInBackground();
  }

  /**
   * Rebuilds the transactions up to `endOffset` (default: all written) as the partition opens, from
   * the newest valid starting point: the transactions checkpoint in the folder, or `snapshotState`
   * (the state a replica's stored Raft snapshot carries), then the log after it; from the log start
   * only when neither is valid (a log written before checkpoints existed, or a checkpoint damaged).
   * A starting point past `endOffset` (a replica whose stored commit index trails what it applied
   * before it stopped, or one that installed a snapshot and stopped before it held the entries the
   * snapshot's state covers) is kept whole: the replica skips the entries it covers when it applies
   * them. Returns the offset the scan started at.
   */
  async rebuildTransactions(endOffset = this.log.writtenOffset, snapshotState: TransactionsState | null = null): Promise<number> {
    const logStart = this.log.logStartOffset;
    // A state describes the log below its offset, which must still be there to go on from (the log
    // start at or below it) and not be cut off (a checkpoint is written only once its batches are
    // durable, and a replica's only covers committed entries, which never change).
    const usable = (state: TransactionsState | null): state is TransactionsState => state !== null && state.observedEnd >= logStart;
    const saved = await this.log.readSideFile(TRANSACTIONS_CHECKPOINT_FILE);
    const checkpoint = saved === undefined ? null : decodeTransactionsCheckpoint(saved);
    let best: TransactionsState | null = null;
    if (usable(checkpoint) && checkpoint.observedEnd <= this.log.writtenOffset) {
      best = checkpoint;
      this.checkpointedAt = checkpoint.observedEnd;
      this.checkpointedRevision = this.stateRevision;
    }
    if (usable(snapshotState) && (best === null || snapshotState.observedEnd > best.observedEnd)) best = snapshotState;
    const into = best === null ? new PartitionTransactions() : PartitionTransactions.fromState(best);
    const from = best === null ? logStart : best.observedEnd;
    let scanned = 0;
    if (from < endOffset) {
      for await (const { chunk, start, end } of this.rawBatches(from, endOffset)) {
        scanned += end - start;
        if (readBaseOffset(chunk, start) < from) continue;
        // Only transactional batches change the state; the others are skipped on their attributes.
        if (!isTransactionalBatch(readAttributes(chunk, start)) || readProducerId(chunk, start) < 0n) continue;
        into.observe(observedBatchOf(chunk.subarray(start, end)));
      }
      into.advanceTo(Math.min(endOffset, this.log.writtenOffset));
    }
    into.forgetBelow(this.logStartOffset);
    this.transactions = into;
    // A long scan is not repeated after the next crash.
    this.bytesSinceCheckpoint = scanned;
    if (scanned >= this.checkpointBytes) this.checkpointInBackground();
    return from;
  }

  /**
   * Writes a transactions checkpoint of the state as it is now, once every batch it covers is durable
   * (the log is synced first). The broker's clean close calls it once nothing appends any more;
   * retention and DeleteRecords through checkpointBefore. The log's own failure rejects.
   */
  async saveTransactions(): Promise<void> {
    // Taken before the sync: everything it covers was appended before it, so the sync makes it durable.
    const revision = this.stateRevision;
    const state = this.transactionsState();
    if (!this.newerThanCheckpoint(state.observedEnd, revision)) return;
    await this.log.sync();
    if (state.observedEnd > this.log.durableOffset) return;
    await this.writeCheckpoint(state, revision);
  }

  /**
   * Compaction is about to remove transaction markers whose transactions have no batch left in the
   * log (storage/compaction-markers.ts; a single broker's log only). Their aborted transactions leave
   * the aborted list first: a Fetch that still listed one would have read_committed consumers drop
   * the producer's later transactional records until an abort marker that is no longer there. The
   * change is checkpointed before any marker goes, at an offset past all of them, so that a restart
   * neither reads the forgotten transactions back from an older checkpoint nor scans for a marker
   * that is gone (it would find the transaction still open). Resolves true once that checkpoint is
   * durable; false when it could not be written (the markers then stay).
   */
  async forgetRemovedMarkers(markers: readonly { readonly offset: number }[]): Promise<boolean> {
    if (markers.length === 0) return true;
    const last = Math.max(...markers.map((m) => m.offset));
    assert(last < this.lastStableOffset, 'a marker at or past the last stable offset');
    this.transactions.forgetAborted(new Set(markers.map((m) => m.offset)));
    const revision = ++this.stateRevision;
    await this.saveTransactions();
    return this.checkpointedAt > last && this.checkpointedRevision >= revision;
  }

  /** Whether a state (its offset and revision) says more than the newest checkpoint. */
  private newerThanCheckpoint(observedEnd: number, revision: number): boolean {
    return observedEnd > this.checkpointedAt || (observedEnd === this.checkpointedAt && revision > this.checkpointedRevision);
  }

  /**
   * Makes sure a checkpoint at or past `offset` exists (writing one now if needed) before the log start
   * moves to `offset`: the batches below the new start can no longer be scanned, and a transaction
   * still open there (or an abort whose records began there) would be lost at a start without it.
   * Resolves false when there is none (the state does not reach `offset` yet): the start must stay.
   */
  async checkpointBefore(offset: number): Promise<boolean> {
    if (this.checkpointedAt < offset) await this.saveTransactions();
    return this.checkpointedAt >= offset;
  }

  /** The transactions as of what was observed, without the aborted ones wholly below the log start. */
  transactionsState(): TransactionsState {
    this.transactions.forgetBelow(this.logStartOffset);
    return this.transactions.toState();
  }

  /** Offset of the newest transactions checkpoint in the partition's folder, -1 when none is known. */
  get transactionsCheckpointedAt(): number {
    return this.checkpointedAt;
  }

  /** Stops the periodic checkpoints (the partition goes away); resolves once none is being written. */
  stopCheckpoints(): Promise<void> {
    this.checkpointsStopped = true;
    return this.checkpointWrites;
  }

  /** Starts a periodic checkpoint unless one waits already; it is written once its batches are durable. */
  private checkpointInBackground(): void {
    if (this.checkpointPending || this.checkpointsStopped) return;
    const revision = this.stateRevision;
    const state = this.transactionsState();
    const offset = state.observedEnd;
    // A replica that installed a snapshot may have observed past its log end: nothing to wait for.
    if (offset <= this.checkpointedAt || offset <= this.log.logStartOffset || offset > this.log.endOffset) return;
    this.checkpointPending = true;
    this.bytesSinceCheckpoint = 0;
    this.log
      .waitDurable(offset - 1)
      .then(() => (this.checkpointsStopped ? undefined : this.writeCheckpoint(state, revision)))
      // A checkpoint that cannot be written costs a longer scan after a crash, never correctness.
      .catch(() => undefined)
      .finally(() => {
        this.checkpointPending = false;
        // What was observed meanwhile may be due already.
        if (this.bytesSinceCheckpoint >= this.checkpointBytes) this.checkpointInBackground();
      });
  }

  /** Replaces the checkpoint file with `state` (taken at `revision`), unless a newer one was written meanwhile. */
  private writeCheckpoint(state: TransactionsState, revision: number): Promise<void> {
    const run = this.checkpointWrites.then(async () => {
      if (!this.newerThanCheckpoint(state.observedEnd, revision)) return;
      await this.log.writeSideFile(TRANSACTIONS_CHECKPOINT_FILE, encodeTransactionsCheckpoint(state));
      this.checkpointedAt = state.observedEnd;
      this.checkpointedRevision = revision;
    });
    this.checkpointWrites = run.catch(() => undefined);
    return run;
  }

  /** The whole batches from the one holding `fromOffset` up to `endOffset`, as positions in read views. */
  private async *rawBatches(fromOffset: number, endOffset: number): AsyncIterable<{ chunk: Buffer; start: number; end: number }> {
    let offset = fromOffset;
    while (offset < endOffset) {
      const read = await this.log.read(offset, SCAN_CHUNK_BYTES, endOffset);
      if (read.buffers.length === 0 || read.nextOffset <= offset) return;
      for (const chunk of read.buffers) for (const { start, end } of splitBatches(chunk)) yield { chunk, start, end };
      offset = read.nextOffset;
    }
  }

  /**
   * Every whole batch from the one holding `fromOffset` up to `endOffset` (default: all written), as
   * views with their parsed headers, read a few MiB at a time. For start-up and occasional scans,
   * not for the fetch path.
   */
  async *batches(fromOffset: number, endOffset = this.log.writtenOffset): AsyncIterable<{ batch: Buffer; header: RecordBatchHeader }> {
    let offset = fromOffset;
    while (offset < endOffset) {
      const read = await this.log.read(offset, SCAN_CHUNK_BYTES, endOffset);
      if (read.buffers.length === 0) return;
      for (const chunk of read.buffers) {
        for (const { start, end } of splitBatches(chunk)) {
          const batch = chunk.subarray(start, end);
          const header = readBatchHeader(batch);
          offset = Math.max(offset, Number(header.baseOffset) + header.lastOffsetDelta + 1);
          yield { batch, header };
        }
      }
    }
  }

  /** Wakes every waiter and refuses new waits (shutdown, deletion). */
  wakeAll(): void {
    this.closing = true;
    const all = this.waiters;
    this.waiters = [];
    for (const w of all) w.wake();
  }

  /** The high watermark moved (a replica applied committed entries): wake the fetches waiting for it. */
  dataVisible(): void {
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    if (this.waiters.length === 0) return;
    const hw = this.highWatermark;
    const lso = this.waiters.some((w) => w.stable) ? this.lastStableOffset : hw;
    const passed = (w: DataWaiter): boolean => (w.stable ? lso : hw) > w.offset;
    const ready = this.waiters.filter(passed);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !passed(w));
    for (const w of ready) w.wake();
  }
}

/** Whether any batch in `buffers` (whole batches) holds a record. */
function holdsRecords(buffers: readonly Buffer[]): boolean {
  for (const b of buffers) {
    for (let at = 0; at < b.length; at += batchSizeAt(b, at)) if (readRecordsCount(b, at) > 0) return true;
  }
  return false;
}
