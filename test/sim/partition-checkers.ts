/**
 * The invariants of replicated partition data, checked by the partition simulation after every
 * event (and once more over the final logs). The first broken one is kept as `violation`.
 *
 * The committed registry: every committed batch any replica applies is recorded by partition and
 * base offset (its stamped bytes, as every replica must store exactly what the leader proposed).
 * From it:
 *   - committed prefixes agree: a second replica applying another batch at that offset, or a
 *     replica applying batches that are not contiguous, is a violation;
 *   - exactly once: a (producer id, epoch, base sequence) committed at two offsets is a violation;
 *   - acknowledged means committed: a produce acknowledged at an offset the registry does not hold
 *     with that batch is a violation (the leader applies before it acknowledges);
 *   - consumers read only committed batches, below the high watermark they were served under;
 *   - a replica's high watermark never goes down within one incarnation, and a new leader's covers
 *     every acknowledged offset when it starts taking writes;
 *   - at the end, every replica's log holds exactly the committed batches, byte for byte, every
 *     acknowledged and consumed batch where it was acknowledged or consumed.
 *
 * Transactions: the producers tell which batches each transaction holds; what was decided comes
 * from the committed `__transaction_state` log when a transaction coordinator decides
 * (txn-periods.ts: a decision counts once its PrepareCommit/PrepareAbort is committed), or from the
 * producer itself when it decides alone (its decision is told before any marker, as a coordinator's
 * is durable first); the registry says where the batches and markers were committed. From those:
 *   - markers carry the decision: a committed marker of a producer closes its open transaction on
 *     the partition (committed batches, no marker yet), which must be decided, and says commit or
 *     abort as decided; a transaction's batches all come before its first marker, and a producer
 *     has one transaction open per partition at a time; a marker acknowledged (visible) at an
 *     offset is a committed marker there (markers are retried: later ones are repeats and must be
 *     harmless). With a coordinator a marker must belong to the transaction its producer's id is
 *     being decided in now (decided, not yet complete, holding the partition): the transaction it
 *     closes is that one, so a transaction ends the same way on every partition, never half; any
 *     other marker (a deposed coordinator's, late) must close nothing;
 *   - a coordinator answers once it stored: an AddPartitionsToTxn answered without error finds the
 *     producer's open transaction with that partition committed, and an EndTxn answered without
 *     error finds its decision committed, and the same (txn-periods.ts adds the order of the log's
 *     states, and that a transaction is complete only once every partition has its marker);
 *   - read_committed reads only decided transactions: a transactional batch a read_committed read
 *     returns belongs to a transaction decided and with a marker committed below the high watermark
 *     the read was served under (the read stayed below the last stable offset);
 *   - read_committed never reads aborted records: no record a read_committed consumer hands on
 *     (control batches skipped, aborted transactions dropped by the aborted list Fetch answers) is
 *     of a transaction decided abort;
 *   - read_committed reads each record once, in offset order (a consumer's offsets only increase);
 *   - a replica's last stable offset never goes down within one incarnation (an open transaction
 *     it learns of later than its high watermark passed it would pull it back);
 *   - at the end: every transaction with batches is decided with its marker committed; every
 *     replica's last stable offset is its high watermark and its aborted list (from its log start)
 *     is the one the markers give: per abort marker that closed a transaction (producer, its first
 *     batch, the marker), per abort marker that closed none (producer, marker, marker); and every
 *     record of every committed transaction was handed on by each read_committed consumer of its
 *     partition, unless retention deleted it before that consumer got there.
 */
import { EntryType, type Entry } from '../../src/raft/index.ts';
import { ControlType, isControlBatch, isTransactionalBatch, readBatchHeader, readControlMarker, splitBatches } from '../../src/protocol/kafka/record-batch/index.ts';
import { readRecords } from '../../src/protocol/kafka/record-batch/records.ts';
import type { AbortedTransaction } from '../../src/replication/partition-transactions.ts';
import { decodePartitionSnapshotData } from '../../src/replication/partition-raft-files.ts';
import type { Snapshot } from '../../src/raft/index.ts';
import { TXN_STATE_TOPIC } from '../../src/metadata/topic-name.ts';
import { TxnPeriods, type Period } from './txn-periods.ts';

export interface CommittedBatch {
  readonly hex: string;
  readonly lastOffset: number;
  /** The term its leader appended it in (the batch's partitionLeaderEpoch). */
  readonly term: number;
  /** The batch's id: the key of its first record (set by the workload). */
  readonly id: string;
}

export interface StoredBatch {
  readonly baseOffset: number;
  readonly bytes: Buffer;
}

export function batchId(batch: Buffer): string {
  const header = readBatchHeader(batch);
  if (isControlBatch(header.attributes)) return `${markerCommits(batch) ? 'commit' : 'abort'} marker of producer ${header.producerId}`;
  const key = readRecords(batch)[0]?.key;
  return key === null || key === undefined ? '?' : key.toString();
}

/** Whether a control batch is a commit marker (else an abort marker). */
function markerCommits(batch: Buffer): boolean {
  const record = readRecords(batch)[0];
  return record !== undefined && readControlMarker(record).type === ControlType.commit;
}

/**
 * One transaction on one partition as its producer tells it and the registry shows it. A producer
 * that decides itself sets `decision`; one that goes through a transaction coordinator names its own
 * transaction (`clientTxn`), which its AddPartitionsToTxn answers tie to a period of the
 * coordinators' log (txn-periods.ts), whose committed decision is the transaction's.
 */
interface Transaction {
  readonly id: string;
  readonly producerId: bigint;
  /** Without a coordinator: null until decided; then whether it commits. */
  decision: boolean | null;
  /** With a coordinator: the producer's transaction this is the part on one partition of. */
  readonly clientTxn: string | null;
  /** Its committed batches: offset and record count. */
  readonly batches: { offset: number; count: number }[];
  /** Offsets of its committed markers, in order: the first closes it, later ones are repeats. */
  readonly markers: number[];
}

/** A committed marker, and the transaction it closed (null: none was open, a repeat). */
interface CommittedMarker {
  readonly producerId: bigint;
  readonly offset: number;
  readonly commit: boolean;
  readonly closed: Transaction | null;
}

/** What one replica computes about transactions at the end. */
export interface ReplicaTransactions {
  readonly logStartOffset: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  readonly aborted: readonly AbortedTransaction[];
}

function describeAborted(list: readonly AbortedTransaction[]): string {
  return `[${list.map((t) => `${t.producerId}@${t.firstOffset}..${t.lastOffset}`).join(' ')}]`;
}

export class PartitionChecker {
  violation: string | null = null;
  /** Committed batches checked against the registry (applies, acknowledgements, reads). */
  comparisons = 0;
  private readonly committed = new Map<string, Map<number, CommittedBatch>>();
  private readonly sequences = new Map<string, Map<string, number>>();
  /** Per partition and term the acknowledged batches were appended in: one past the last offset acknowledged. */
  private readonly ackedEnd = new Map<string, Map<number, number>>();
  private readonly acked = new Map<string, Map<number, string>>();
  private readonly consumed = new Map<string, Map<number, string>>();
  /** Per broker incarnation and partition: applied end offset and high watermark seen. */
  private readonly appliedEnd = new Map<string, number>();
  private readonly highWatermarks = new Map<string, number>();
  private readonly lastStableOffsets = new Map<string, number>();
  private readonly writableTerms = new Map<string, number>();
  /** Per partition, the highest log start offset any replica reached (retention deleted below it). */
  private readonly retainedFrom = new Map<string, number>();
  /** Idempotent batches stored again after retention had deleted their first copy (allowed, as in Kafka). */
  forgottenProducers = 0;
  /** Snapshots restored by replicas (at start after retention, or sent by a leader). */
  restores = 0;
  /** Records of committed transactions handed on by read_committed consumers. */
  committedTransactionRecordsRead = 0;
  /** Markers committed after the first of their transaction (retries: must change nothing). */
  repeatedMarkers = 0;
  /** Transactions by id, their batches by id, and per partition and producer id in order. */
  private readonly transactions = new Map<string, Transaction>();
  private readonly transactionOfBatch = new Map<string, Transaction>();
  private readonly transactionsOf = new Map<string, Transaction[]>();
  /** Per partition, every committed marker in offset order. */
  private readonly markerLog = new Map<string, CommittedMarker[]>();
  /** The coordinators' decisions, from the committed `__transaction_state` log. */
  readonly periods = new TxnPeriods((invariant, message) => this.fail(invariant, message));
  /** Producers' transactions (coordinator mode) by name: the period AddPartitionsToTxn tied them to. */
  private readonly clientPeriods = new Map<string, Period>();
  /** Markers committed while no transaction of theirs was being decided (a deposed coordinator's), closing nothing. */
  lateMarkers = 0;
  /** Per read_committed consumer: offsets of the records it handed on, its last, and ranges retention made it skip. */
  private readonly delivered = new Map<string, Set<number>>();
  private readonly lastDelivered = new Map<string, number>();
  private readonly skips = new Map<string, { from: number; to: number }[]>();

  fail(invariant: string, message: string): void {
    if (this.violation === null) this.violation = `${invariant}: ${message}`;
  }

  /** Committed entries of `partition` that `broker` (incarnation `incarnation`) is about to apply. */
  applying(broker: number, incarnation: number, partition: string, entries: readonly Entry[]): void {
    const endKey = `${broker}/${incarnation}/${partition}`;
    for (const entry of entries) {
      if (entry.type !== EntryType.Normal || entry.data.length === 0) continue;
      const bytes = Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength);
      const header = readBatchHeader(bytes);
      const baseOffset = Number(header.baseOffset);
      const lastOffset = baseOffset + header.lastOffsetDelta;
      const end = this.appliedEnd.get(endKey);
      if (end !== undefined && end !== baseOffset) {
        this.fail('committed prefixes agree', `broker ${broker} applied ${partition} batch at ${baseOffset} (Raft index ${entry.index}) after its applied end ${end}`);
      }
      this.appliedEnd.set(endKey, lastOffset + 1);
      this.registerCommitted(broker, partition, bytes);
    }
  }

  /**
   * A restarted replica's stored commit index may cover entries it never applied (it stopped between
   * persisting the commit and applying): its log is its state, so the batches it holds below its
   * high watermark are committed there. Usually another replica applied them already; when none did
   * (every copy stopped in that window) they are first known here.
   */
  storedCommitted(broker: number, partition: string, batches: readonly Buffer[]): void {
    for (const bytes of batches) this.registerCommitted(broker, partition, bytes);
  }

  /** One committed batch: it must match what was committed at its offset before, else it is recorded. */
  private registerCommitted(broker: number, partition: string, bytes: Buffer): void {
    const registry = this.registry(partition);
    const header = readBatchHeader(bytes);
    const baseOffset = Number(header.baseOffset);
    const lastOffset = baseOffset + header.lastOffsetDelta;
    const hex = bytes.toString('hex');
    const known = registry.get(baseOffset);
    this.comparisons++;
    if (known !== undefined) {
      if (known.hex !== hex) this.fail('committed prefixes agree', `broker ${broker} committed ${partition} batch ${batchId(bytes)} at ${baseOffset} where ${known.id} was committed`);
      return;
    }
    registry.set(baseOffset, { hex, lastOffset, term: header.partitionLeaderEpoch, id: batchId(bytes) });
    if (partition.startsWith(`${TXN_STATE_TOPIC}-`)) this.periods.committed(bytes, baseOffset);
    this.committedTransactional(partition, bytes, baseOffset, lastOffset);
    // Markers carry no sequence (-1): only data batches have an identity to be unique.
    if (header.producerId >= 0n && !isControlBatch(header.attributes)) {
      const identity = `${header.producerId}/${header.producerEpoch}/${header.baseSequence}`;
      const sequences = this.sequencesOf(partition);
      const earlier = sequences.get(identity);
      if (earlier !== undefined && earlier !== baseOffset && earlier < (this.retainedFrom.get(partition) ?? 0)) {
        // Retention deleted the first copy: its producer state went with it, as Kafka forgets
        // producers whose batches all lie below the log start offset.
        this.forgottenProducers++;
      } else if (earlier !== undefined && earlier !== baseOffset) {
        this.fail('exactly once', `${partition}: idempotent batch ${identity} (${batchId(bytes)}) committed at ${earlier} and again at ${baseOffset}`);
      }
      sequences.set(identity, baseOffset);
    }
  }

  /** `broker` opened its replica of `partition` with `committedOffset` applied: it applies from there. */
  startsAt(broker: number, incarnation: number, partition: string, committedOffset: number): void {
    const key = `${broker}/${incarnation}/${partition}`;
    if (committedOffset > (this.appliedEnd.get(key) ?? 0)) this.appliedEnd.set(key, committedOffset);
  }

  /** `broker` restores a snapshot of `partition`: it applies from the snapshot's next offset on. */
  restoring(broker: number, incarnation: number, partition: string, snapshot: Snapshot): void {
    if (snapshot.metadata.index === 0) return;
    this.restores++;
    this.appliedEnd.set(`${broker}/${incarnation}/${partition}`, decodePartitionSnapshotData(snapshot.data).nextOffset);
  }

  /** A replica's log start offset now (retention moves it). */
  logStart(partition: string, logStartOffset: number): void {
    if (logStartOffset > (this.retainedFrom.get(partition) ?? 0)) this.retainedFrom.set(partition, logStartOffset);
  }

  /** A produce of batch `id` was acknowledged at `baseOffset`. */
  acknowledged(partition: string, id: string, baseOffset: number, how: string): void {
    const known = this.registry(partition).get(baseOffset);
    this.comparisons++;
    if (known === undefined) this.fail('acknowledged means committed', `${partition}: batch ${id} acknowledged (${how}) at ${baseOffset}, which no replica has committed`);
    else if (known.id !== id) this.fail('acknowledged means committed', `${partition}: batch ${id} acknowledged (${how}) at ${baseOffset}, where ${known.id} is committed`);
    else {
      let byTerm = this.ackedEnd.get(partition);
      if (byTerm === undefined) this.ackedEnd.set(partition, (byTerm = new Map()));
      byTerm.set(known.term, Math.max(byTerm.get(known.term) ?? 0, known.lastOffset + 1));
    }
    this.ackedOf(partition).set(baseOffset, id);
  }

  /** A consumer read `buffers` from a replica whose high watermark was `highWatermark`. */
  read(broker: number, partition: string, buffers: readonly Buffer[], highWatermark: number): void {
    const registry = this.registry(partition);
    for (const buffer of buffers) {
      for (const { start, end } of splitBatches(buffer)) {
        const bytes = buffer.subarray(start, end);
        const header = readBatchHeader(bytes);
        const baseOffset = Number(header.baseOffset);
        const lastOffset = baseOffset + header.lastOffsetDelta;
        this.comparisons++;
        if (lastOffset >= highWatermark) this.fail('consumers read below the high watermark', `${partition}: broker ${broker} served offset ${lastOffset} with high watermark ${highWatermark}`);
        const known = registry.get(baseOffset);
        if (known === undefined || known.hex !== bytes.toString('hex')) {
          this.fail('consumers read committed batches', `${partition}: broker ${broker} served ${batchId(bytes)} at ${baseOffset}, committed there: ${known?.id ?? 'nothing'}`);
        }
        this.consumedOf(partition).set(baseOffset, batchId(bytes));
      }
    }
  }

  /**
   * A replica's high watermark now; `writableTerm` is the term it takes writes in, or -1. Checked
   * when it becomes writable in a term, against acknowledged batches appended in earlier terms: a
   * batch of term a that commits at all precedes, in the one committed log, the first entry of any
   * later term b > a that commits (terms never decrease along a log), so a leader of term b writable
   * (its first entry applied) has its high watermark past it. Batches of later terms are not due: a
   * leader whose own loop lagged may become writable after a newer leader, which it does not know of
   * (cut off), acknowledged more; it cannot commit anything.
   */
  highWatermark(broker: number, incarnation: number, partition: string, highWatermark: number, writableTerm: number): void {
    const key = `${broker}/${incarnation}/${partition}`;
    const before = this.highWatermarks.get(key) ?? 0;
    if (highWatermark < before) this.fail('high watermark never decreases', `broker ${broker} ${partition}: ${before} -> ${highWatermark}`);
    this.highWatermarks.set(key, highWatermark);
    if (writableTerm < 0 || this.writableTerms.get(key) === writableTerm) return;
    this.writableTerms.set(key, writableTerm);
    let acked = 0;
    for (const [term, end] of this.ackedEnd.get(partition) ?? []) if (term < writableTerm) acked = Math.max(acked, end);
    if (highWatermark < acked) this.fail('a new leader covers every acknowledged offset', `broker ${broker} ${partition}: writable in term ${writableTerm} with high watermark ${highWatermark}, acknowledged up to ${acked}`);
  }

  /** A replica's last stable offset now: like its high watermark, it never goes down within one incarnation. */
  lastStableOffset(broker: number, incarnation: number, partition: string, lastStableOffset: number): void {
    const key = `${broker}/${incarnation}/${partition}`;
    const before = this.lastStableOffsets.get(key) ?? 0;
    if (lastStableOffset < before) this.fail('last stable offset never decreases', `broker ${broker} ${partition}: ${before} -> ${lastStableOffset}`);
    this.lastStableOffsets.set(key, lastStableOffset);
  }

  /**
   * The end: every replica's whole log (from its log start offset), by broker. Each must be exactly
   * the committed batches from there on.
   */
  finalLogs(partition: string, logs: ReadonlyMap<number, { logStartOffset: number; batches: readonly StoredBatch[] }>): void {
    const registry = this.registry(partition);
    const committedEnd = Math.max(0, ...[...registry.values()].map((b) => b.lastOffset + 1));
    for (const [broker, { logStartOffset, batches }] of logs) {
      const stored = new Map(batches.map((b) => [b.baseOffset, b.bytes]));
      let end = batches[0]?.baseOffset ?? committedEnd;
      if (end > logStartOffset && registry.has(logStartOffset)) this.fail('identical logs', `broker ${broker} ${partition}: log starts at ${logStartOffset}, its first batch at ${end}`);
      for (const b of batches) {
        if (b.baseOffset !== end) this.fail('identical logs', `broker ${broker} ${partition}: batch at ${b.baseOffset} after end ${end}`);
        end = b.baseOffset + readBatchHeader(b.bytes).lastOffsetDelta + 1;
        const known = registry.get(b.baseOffset);
        this.comparisons++;
        if (known === undefined || known.hex !== b.bytes.toString('hex')) this.fail('identical logs', `broker ${broker} ${partition}: holds ${batchId(b.bytes)} at ${b.baseOffset}, committed there: ${known?.id ?? 'nothing'}`);
      }
      if (end !== committedEnd) this.fail('identical logs', `broker ${broker} ${partition}: log ends at ${end}, the committed log at ${committedEnd}`);
      for (const [what, map] of [['acknowledged', this.ackedOf(partition)], ['consumed', this.consumedOf(partition)]] as const) {
        for (const [offset, id] of map) {
          if (offset < logStartOffset) continue;
          const bytes = stored.get(offset);
          if (bytes === undefined || batchId(bytes) !== id) this.fail('no acknowledged batch lost', `broker ${broker} ${partition}: ${what} ${id} at ${offset}, the log holds ${bytes === undefined ? 'nothing' : batchId(bytes)}`);
        }
      }
    }
  }

  // ---- transactions ----

  /**
   * A transactional producer sends batch `batch` as part of transaction `transaction` (before any
   * attempt); `clientTxn` names the producer's transaction when a coordinator decides it.
   */
  transactionalBatch(partition: string, transaction: string, producerId: bigint, batch: string, clientTxn: string | null = null): void {
    let t = this.transactions.get(transaction);
    if (t === undefined) {
      t = { id: transaction, producerId, decision: null, clientTxn, batches: [], markers: [] };
      this.transactions.set(transaction, t);
      getOrCreateList(this.transactionsOf, `${partition}/${producerId}`).push(t);
    }
    this.transactionOfBatch.set(batch, t);
  }

  /** The transaction's producer (its coordinator) decided; durable from now on. */
  decided(partition: string, transaction: string, commit: boolean): void {
    const t = this.transactions.get(transaction);
    if (t === undefined || t.decision !== null) this.fail('markers carry the decision', `${partition}: ${transaction} decided ${commit ? 'commit' : 'abort'} ${t === undefined ? 'without batches' : 'twice'}`);
    else t.decision = commit;
  }

  /** What decides `t`: its own decision, or its coordinator period's. */
  private decisionOf(t: Transaction): boolean | null {
    return t.clientTxn === null ? t.decision : (this.clientPeriods.get(t.clientTxn)?.decision ?? null);
  }

  /**
   * A coordinator answered AddPartitionsToTxn without error for `partition`: the id's latest committed
   * state is that producer's open transaction with the partition in it. Ties `clientTxn` to it.
   */
  txnPartitionAdded(transactionalId: string, clientTxn: string, partition: string, producerId: bigint, producerEpoch: number): void {
    const period = this.periods.latest(transactionalId);
    const state = this.periods.state(transactionalId);
    if (period === undefined || state === undefined || state.status !== 'Ongoing' || !period.partitions.has(partition) || state.producerId !== producerId || state.producerEpoch !== producerEpoch) {
      const stored = state === undefined ? 'nothing' : `${state.status} ${state.producerId}/${state.producerEpoch} [${[...(period?.partitions ?? [])].join(',')}]`;
      this.fail('a coordinator answers once it stored', `${clientTxn}: ${partition} added for ${producerId}/${producerEpoch}, ${transactionalId} stored: ${stored}`);
      return;
    }
    const known = this.clientPeriods.get(clientTxn);
    if (known !== undefined && known !== period) this.fail('a coordinator answers once it stored', `${clientTxn}: ${partition} added in transaction ${period.number} of ${transactionalId}, its first partitions in ${known.number}`);
    this.clientPeriods.set(clientTxn, period);
  }

  /** A coordinator answered EndTxn without error: the transaction's decision is committed, and it is `commit`. */
  endTxnAnswered(transactionalId: string, clientTxn: string, commit: boolean): void {
    const period = this.clientPeriods.get(clientTxn);
    if (period === undefined || period.decision !== commit) {
      const decided = period === undefined ? 'no transaction' : `transaction ${period.number} ${period.decision === null ? 'undecided' : period.decision ? 'decided commit' : 'decided abort'}`;
      this.fail('an answered EndTxn is decided', `${clientTxn} (${transactionalId}): EndTxn(${commit ? 'commit' : 'abort'}) answered, the coordinators' log holds ${decided}`);
      return;
    }
    period.answered = true;
  }

  /** The producer's transaction that `producerId` has open on `partition` (batches committed, no marker yet). */
  private openTransaction(partition: string, producerId: bigint): Transaction | undefined {
    return this.transactionsOf.get(`${partition}/${producerId}`)?.find((x) => x.batches.length > 0 && x.markers.length === 0);
  }

  /** A batch committed for the first time: a transaction's data batch or marker. */
  private committedTransactional(partition: string, bytes: Buffer, baseOffset: number, lastOffset: number): void {
    const header = readBatchHeader(bytes);
    if (!isTransactionalBatch(header.attributes)) return;
    if (isControlBatch(header.attributes)) {
      const commit = markerCommits(bytes);
      const transactionalId = this.periods.transactionalIdOf(header.producerId);
      const closed = transactionalId === undefined ? this.directMarker(partition, header.producerId, commit, baseOffset) : this.coordinatorMarker(partition, header.producerId, transactionalId, commit, baseOffset);
      getOrCreateList(this.markerLog, partition).push({ producerId: header.producerId, offset: baseOffset, commit, closed });
      return;
    }
    const id = batchId(bytes);
    const t = this.transactionOfBatch.get(id);
    if (t === undefined) {
      this.fail('markers carry the decision', `${partition}: transactional batch ${id} committed at ${baseOffset}, of no transaction`);
      return;
    }
    if (t.markers.length > 0) this.fail('markers carry the decision', `${partition}: batch ${id} of ${t.id} committed at ${baseOffset}, after its marker at ${t.markers[0]}`);
    const open = this.openTransaction(partition, header.producerId);
    if (open !== undefined && open !== t) this.fail('markers carry the decision', `${partition}: batch ${id} of ${t.id} committed at ${baseOffset} while ${open.id} of the same producer has no marker yet`);
    t.batches.push({ offset: baseOffset, count: lastOffset - baseOffset + 1 });
  }

  /** A marker its producer wrote itself: it closes the producer's latest transaction with committed batches (a repeat: the one it closed). */
  private directMarker(partition: string, producerId: bigint, commit: boolean, offset: number): Transaction | null {
    const t = this.transactionsOf.get(`${partition}/${producerId}`)?.findLast((x) => x.batches.length > 0);
    if (t === undefined || t.decision === null) {
      this.fail('markers carry the decision', `${partition}: ${commit ? 'commit' : 'abort'} marker of producer ${producerId} committed at ${offset}, closing ${t === undefined ? 'no transaction' : `${t.id}, undecided`}`);
      return null;
    }
    if (t.decision !== commit) {
      this.fail('markers carry the decision', `${partition}: ${commit ? 'commit' : 'abort'} marker of ${t.id} committed at ${offset}, decided ${t.decision ? 'commit' : 'abort'}`);
      return null;
    }
    const first = t.markers.length === 0;
    if (!first) this.repeatedMarkers++;
    t.markers.push(offset);
    return first ? t : null;
  }

  /**
   * A marker of a coordinator's producer. It belongs to the id's transaction being decided now (its
   * PrepareCommit/PrepareAbort committed, its completion not), which must hold the partition and say
   * the same; it closes the producer's open transaction on the partition, which must be that one.
   * Any other marker is a deposed coordinator's, late: it must close nothing and repeat a decision
   * already taken for the partition.
   */
  private coordinatorMarker(partition: string, producerId: bigint, transactionalId: string, commit: boolean, offset: number): Transaction | null {
    const what = `${partition}: ${commit ? 'commit' : 'abort'} marker of producer ${producerId} (${transactionalId}) committed at ${offset}`;
    const latest = this.periods.latest(transactionalId);
    const deciding = latest !== undefined && latest.decision !== null && !latest.complete && latest.partitions.has(partition) ? latest : undefined;
    const open = this.openTransaction(partition, producerId);
    // A marker of another decision than the one being written now can only be a late one.
    const period = deciding?.decision === commit ? deciding : undefined;
    if (open !== undefined) {
      const own = open.clientTxn === null ? undefined : this.clientPeriods.get(open.clientTxn);
      if (period === undefined || own !== period) {
        const now = deciding === undefined ? 'no transaction of it is being decided' : `transaction ${deciding.number} is being decided ${deciding.decision ? 'commit' : 'abort'}`;
        this.fail('markers carry the decision', `${what} closes ${open.id} (transaction ${own?.number ?? '?'}) while ${now}`);
        return null;
      }
      open.markers.push(offset);
    }
    if (period !== undefined) {
      const markers = getOrCreateList(period.markers, partition);
      if (markers.length > 0) this.repeatedMarkers++;
      markers.push(offset);
      return open ?? null;
    }
    // Closing nothing, it changes nothing; it must still repeat a decision taken for the partition.
    this.lateMarkers++;
    if (!this.periods.periods().some((p) => p.transactionalId === transactionalId && p.decision === commit && p.partitions.has(partition))) {
      this.fail('markers carry the decision', `${what}, and no transaction of it with that partition was decided so`);
    }
    return null;
  }

  /** A coordinator's marker was answered visible at `offset` by the partition's leader. */
  coordinatorMarkerVisible(partition: string, offset: number, how: string): void {
    const known = this.registry(partition).get(offset);
    this.comparisons++;
    if (known === undefined || !/^(commit|abort) marker of producer /.test(known.id)) {
      this.fail('acknowledged means committed', `${partition}: a marker visible (${how}) at ${offset}, where ${known?.id ?? 'nothing'} is committed`);
    }
  }

  /** The transaction's marker was answered visible at `offset`. */
  markerVisible(partition: string, transaction: string, offset: number, how: string): void {
    const t = this.transactions.get(transaction);
    this.comparisons++;
    if (t === undefined || !t.markers.includes(offset)) {
      this.fail('acknowledged means committed', `${partition}: marker of ${transaction} visible (${how}) at ${offset}, where ${this.registry(partition).get(offset)?.id ?? 'nothing'} is committed`);
    }
  }

  /** Retention made consumer `consumer` skip [from, to) (it reset to the log start). */
  skipped(consumer: string, partition: string, from: number, to: number): void {
    getOrCreateList(this.skips, `${partition}/${consumer}`).push({ from, to });
  }

  /**
   * A read_committed consumer read `buffers` from a replica whose high watermark was `highWatermark`
   * and handed on `records` (Kafka's filtering of aborted transactions and control batches).
   */
  readCommitted(consumer: string, broker: number, partition: string, buffers: readonly Buffer[], highWatermark: number, records: readonly { offset: number; key: string }[]): void {
    this.read(broker, partition, buffers, highWatermark);
    for (const buffer of buffers) {
      for (const { start, end } of splitBatches(buffer)) {
        const bytes = buffer.subarray(start, end);
        const header = readBatchHeader(bytes);
        if (!isTransactionalBatch(header.attributes) || isControlBatch(header.attributes)) continue;
        const t = this.transactionOfBatch.get(batchId(bytes));
        const marker = t?.markers[0];
        const decision = t === undefined ? null : this.decisionOf(t);
        if (t === undefined || decision === null || marker === undefined || marker >= highWatermark) {
          const state = t === undefined ? 'of no transaction' : `of ${t.id} (${decision === null ? 'undecided' : decision ? 'commit' : 'abort'}, marker ${marker === undefined ? 'not committed' : `at ${marker}`})`;
          this.fail('read_committed reads only decided transactions', `${partition}: broker ${broker} served ${consumer} batch ${batchId(bytes)} at ${Number(header.baseOffset)} ${state}, high watermark ${highWatermark}`);
        }
      }
    }
    const key = `${partition}/${consumer}`;
    const seen = getOrCreateSet(this.delivered, key);
    for (const r of records) {
      const t = this.transactionOfBatch.get(r.key);
      const decision = t === undefined ? null : this.decisionOf(t);
      if (decision === true) this.committedTransactionRecordsRead++;
      if (t !== undefined && decision === false) this.fail('read_committed never reads aborted records', `${partition}: ${consumer} got record ${r.offset} of ${t.id}, decided abort (from broker ${broker})`);
      const last = this.lastDelivered.get(key) ?? -1;
      if (r.offset <= last) this.fail('read_committed reads each record once, in offset order', `${partition}: ${consumer} got record ${r.offset} after ${last} (from broker ${broker})`);
      this.lastDelivered.set(key, r.offset);
      seen.add(r.offset);
    }
  }

  /**
   * The end: what every replica computes about transactions, and what the read_committed consumers
   * handed on. Every transaction is decided with its marker committed by now (its producer is done).
   */
  finalTransactions(partition: string, replicas: ReadonlyMap<number, ReplicaTransactions>, readers: readonly string[]): void {
    const ofPartition = [...this.transactionsOf].filter(([key]) => key.startsWith(`${partition}/`)).flatMap(([, list]) => list);
    const expected: AbortedTransaction[] = [];
    for (const t of ofPartition) {
      // A transaction that got no batch committed here (its producer fenced or restarted first) has nothing to decide here.
      if (t.batches.length === 0) continue;
      const decision = this.decisionOf(t);
      if (decision === null || t.markers.length === 0) this.fail('liveness', `${partition}: ${t.id} ${decision === null ? 'undecided' : 'without a committed marker'} at the end`);
    }
    // Every abort marker is in the list: with the first batch of the transaction it closed, or alone (a repeat).
    for (const m of this.markerLog.get(partition) ?? []) {
      if (m.commit) continue;
      const firstOffset = m.closed === null ? m.offset : Math.min(...m.closed.batches.map((b) => b.offset));
      expected.push({ producerId: m.producerId, firstOffset, lastOffset: m.offset });
    }
    expected.sort((a, b) => a.lastOffset - b.lastOffset);
    for (const [broker, r] of replicas) {
      this.comparisons++;
      if (r.lastStableOffset !== r.highWatermark) this.fail('every replica computes the same LSO and aborted list', `broker ${broker} ${partition}: last stable offset ${r.lastStableOffset}, high watermark ${r.highWatermark}, every transaction decided`);
      const want = describeAborted(expected.filter((t) => t.lastOffset >= r.logStartOffset));
      const got = describeAborted(r.aborted);
      if (got !== want) this.fail('every replica computes the same LSO and aborted list', `broker ${broker} ${partition}: aborted ${got} from log start ${r.logStartOffset}, decided ${want}`);
    }
    for (const consumer of readers) {
      const key = `${partition}/${consumer}`;
      const seen = getOrCreateSet(this.delivered, key);
      const skips = this.skips.get(key) ?? [];
      for (const t of ofPartition) {
        if (this.decisionOf(t) !== true) continue;
        for (const b of t.batches) {
          for (let offset = b.offset; offset < b.offset + b.count; offset++) {
            if (seen.has(offset) || skips.some((s) => offset >= s.from && offset < s.to)) continue;
            this.fail('read_committed reads every committed record', `${partition}: ${consumer} never got record ${offset} of ${t.id}, committed by its marker at ${t.markers[0]}`);
            return;
          }
        }
      }
    }
  }

  committedEnd(partition: string): number {
    return Math.max(0, ...[...this.registry(partition).values()].map((b) => b.lastOffset + 1));
  }

  private registry(partition: string): Map<number, CommittedBatch> {
    return getOrCreate(this.committed, partition);
  }

  private sequencesOf(partition: string): Map<string, number> {
    return getOrCreate(this.sequences, partition);
  }

  private ackedOf(partition: string): Map<number, string> {
    return getOrCreate(this.acked, partition);
  }

  private consumedOf(partition: string): Map<number, string> {
    return getOrCreate(this.consumed, partition);
  }
}

function getOrCreate<K, V>(map: Map<string, Map<K, V>>, key: string): Map<K, V> {
  let value = map.get(key);
  if (value === undefined) {
    value = new Map();
    map.set(key, value);
  }
  return value;
}

function getOrCreateList<V>(map: Map<string, V[]>, key: string): V[] {
  let value = map.get(key);
  if (value === undefined) {
    value = [];
    map.set(key, value);
  }
  return value;
}

function getOrCreateSet<V>(map: Map<string, Set<V>>, key: string): Set<V> {
  let value = map.get(key);
  if (value === undefined) {
    value = new Set();
    map.set(key, value);
  }
  return value;
}
