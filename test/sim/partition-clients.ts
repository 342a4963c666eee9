/**
 * The clients of the partition simulation: producers and consumers as a Kafka client behaves.
 *
 * A producer has one batch in flight. It sends it to the broker that leads the partition now (any
 * broker when none does, which answers NOT_LEADER), and on an error or after its request timeout
 * sends the same batch again: an idempotent producer with the SAME producer id, epoch and base
 * sequence, as the Kafka client retries; a plain producer the same records (which may duplicate
 * them, as Kafka allows without idempotence). Each broker answers as the Produce handler does
 * (src/broker/handlers/00-produce.ts, appendPartition): Partition.append, then a duplicate answered
 * with its first offset once that first write is visible, an appended batch once it is visible
 * (acks=all). Every success
 * answer is reported to the checker; an answer from a broker incarnation that died meanwhile never
 * reaches the client (its connection died with it).
 *
 * Without the simulated transaction coordinator (PartitionSimOptions.coordinator false; with it, the
 * transactional producers are partition-txn-producer.ts's), a transactional producer (standing in
 * for its transaction coordinator too) writes transactions of
 * one to three transactional batches, sent and retried as an idempotent producer's (one producer id,
 * epoch 0, sequences going on across transactions). Once all are acknowledged it decides commit or
 * abort (about one in three aborts), tells the checker (a coordinator's decision is durable before
 * any marker is written), and writes the marker through Partition.writeTxnMarker at the writable
 * leader of the moment, again after an error or a timeout, until one is visible; then the next
 * transaction. In the liveness phase it starts none, and ends the one it has with the batches sent.
 *
 * A consumer fetches from the current leader through Partition.read up to its high watermark and
 * reports what it read. It sends the newest leader epoch it has seen, as Kafka consumers do, so a
 * deposed leader that has not noticed yet refuses it rather than answering from a shorter log. A
 * read_committed consumer reads up to the last stable offset, asks for the aborted transactions of
 * what it read (as Fetch answers them) and hands on the records a Kafka client would
 * (committedRecords): control batches skipped, aborted transactions' records dropped.
 */
import type { Partition, ProducerFields } from '../../src/replication/partition.ts';
import type { AbortedTransaction } from '../../src/replication/partition-transactions.ts';
import { buildRecordBatch } from '../../src/protocol/kafka/record-batch/builder.ts';
import { ControlType, isControlBatch, isTransactionalBatch, readBatchHeader, readControlMarker, readRecords, splitBatches } from '../../src/protocol/kafka/record-batch/index.ts';
import { isStreamBusError } from '../../src/util/errors.ts';
import type { ManualClock } from '../helpers/manual-clock.ts';
import type { PartitionBroker } from './partition-broker.ts';
import type { PartitionChecker } from './partition-checkers.ts';
import type { Prng } from './prng.ts';

export interface ClientEnv {
  readonly clock: ManualClock;
  readonly checker: PartitionChecker;
  readonly brokers: readonly PartitionBroker[];
  readonly random: Prng;
  /** Whether producers start new batches (false in the liveness phase: they only finish theirs). */
  producing(): boolean;
  count(outcome: string): void;
  log(line: string): void;
  /** The consumerIgnoresAborted bug (partition-bugs.ts): read_committed consumers keep aborted records. */
  readonly ignoreAbortedList?: boolean;
}

export type Answer = { ok: true; baseOffset: number; how: string } | { ok: false; error: string };

/** The broker whose replica of `partition` takes writes now, or null. */
export function writableLeader(brokers: readonly PartitionBroker[], partition: string): PartitionBroker | null {
  let best: PartitionBroker | null = null;
  for (const b of brokers) {
    const replica = b.replica(partition);
    if (replica?.writable && (best === null || replica.leaderEpoch > best.replica(partition)!.leaderEpoch)) best = b;
  }
  return best;
}

/** What the Produce handler answers for one partition's batch. */
export async function produce(broker: PartitionBroker, key: string, batch: Buffer, producer: ProducerFields | null, nowMs: number): Promise<Answer> {
  const partition = broker.partition(key);
  if (partition === undefined || !partition.writable) return { ok: false, error: 'NOT_LEADER_OR_FOLLOWER' };
  try {
    const result = await partition.append(batch, producer, nowMs);
    switch (result.kind) {
      case 'invalid-epoch':
        return { ok: false, error: 'INVALID_PRODUCER_EPOCH' };
      case 'out-of-order':
        return { ok: false, error: 'OUT_OF_ORDER_SEQUENCE_NUMBER' };
      case 'duplicate':
        await result.visible;
        return { ok: true, baseOffset: result.baseOffset, how: 'duplicate' };
      case 'appended':
        await result.visible;
        return { ok: true, baseOffset: result.baseOffset, how: 'appended' };
    }
  } catch (e) {
    return { ok: false, error: isStreamBusError(e) ? e.code : String(e) };
  }
}

/** What writeTxnMarker at one broker comes to: the marker's offset once visible, or an error. */
async function writeMarker(broker: PartitionBroker, key: string, producerId: bigint, commit: boolean, nowMs: number): Promise<{ ok: true; offset: number } | { ok: false; error: string }> {
  const partition = broker.partition(key);
  if (partition === undefined || !partition.writable) return { ok: false, error: 'NOT_LEADER_OR_FOLLOWER' };
  try {
    const { offset, visible } = await partition.writeTxnMarker({ producerId, producerEpoch: 0, commit, coordinatorEpoch: 0, timestampMs: nowMs });
    await visible;
    return { ok: true, offset };
  } catch (e) {
    return { ok: false, error: isStreamBusError(e) ? e.code : String(e) };
  }
}

interface InFlight {
  readonly id: string;
  readonly count: number;
  readonly baseSequence: number;
  attempts: number;
  acknowledged: boolean;
}

/** A transactional producer's transaction under way. */
interface OpenTransaction {
  readonly id: string;
  /** Batches it is to hold (fewer when the liveness phase comes first). */
  readonly planned: number;
  sent: number;
  /** null until decided; then whether it commits. */
  commit: boolean | null;
  markerAttempts: number;
}

export class SimProducer {
  private batches = 0;
  /** Batches acknowledged (each counted once). */
  acknowledgedBatches = 0;
  private sequence = 0;
  private current: InFlight | null = null;
  private transactions = 0;
  private transaction: OpenTransaction | null = null;

  constructor(
    readonly name: string,
    readonly partition: string,
    /** -1n for a plain producer. */
    private readonly producerId: bigint,
    private readonly timeoutMs: number,
    private readonly env: ClientEnv,
    /** Writes transactions (needs a producer id). */
    readonly transactional = false,
  ) {
    if (transactional && producerId < 0n) throw new Error(`transactional producer ${name} needs a producer id`);
  }

  get idle(): boolean {
    return this.current === null && this.transaction === null;
  }

  /** Starts the next batch (or marker) if idle and producing; the producer then drives itself. */
  next(): void {
    if (this.current !== null) return;
    if (this.transaction !== null) {
      this.continueTransaction(this.transaction);
      return;
    }
    if (!this.env.producing()) return;
    if (this.transactional) {
      this.transaction = { id: `${this.name}.t${this.transactions++}`, planned: this.env.random.between(1, 3), sent: 0, commit: null, markerAttempts: 0 };
      this.continueTransaction(this.transaction);
      return;
    }
    this.sendNew(null);
  }

  /** The transaction's next batch, or once all are acknowledged (or producing stopped) its decision. */
  private continueTransaction(txn: OpenTransaction): void {
    if (txn.commit !== null) return;
    if (txn.sent < txn.planned && (txn.sent === 0 || this.env.producing())) {
      txn.sent++;
      this.sendNew(txn);
      return;
    }
    const { env } = this;
    txn.commit = !env.random.chance(1 / 3);
    env.checker.decided(this.partition, txn.id, txn.commit);
    env.count(`transaction decided ${txn.commit ? 'commit' : 'abort'}`);
    env.log(`${this.name} decides ${txn.commit ? 'commit' : 'abort'} of ${txn.id}`);
    this.sendMarker(txn);
  }

  private sendNew(txn: OpenTransaction | null): void {
    const count = this.env.random.between(1, 3);
    this.current = { id: `${this.name}.${this.batches++}`, count, baseSequence: this.sequence, attempts: 0, acknowledged: false };
    if (this.producerId >= 0n) this.sequence += count;
    if (txn !== null) this.env.checker.transactionalBatch(this.partition, txn.id, this.producerId, this.current.id);
    this.send(this.current);
  }

  /** One attempt to write the decided transaction's marker; again after an error or the timeout. */
  private sendMarker(txn: OpenTransaction): void {
    // A retry scheduled before another attempt's marker became visible: the transaction is over.
    if (this.transaction !== txn) return;
    const { env } = this;
    const attempt = ++txn.markerAttempts;
    const retry = (): void => {
      if (this.transaction === txn && txn.markerAttempts === attempt) env.clock.setTimer(env.random.between(5, 50), () => this.sendMarker(txn));
    };
    const broker = writableLeader(env.brokers, this.partition);
    if (broker === null) {
      retry();
      return;
    }
    const incarnation = broker.incarnation;
    env.log(`${this.name} writes the ${txn.commit ? 'commit' : 'abort'} marker of ${txn.id} (attempt ${attempt}) at broker ${broker.id}`);
    const timer = env.clock.setTimer(this.timeoutMs, retry);
    void writeMarker(broker, this.partition, this.producerId, txn.commit!, env.clock.now()).then((answer) => {
      if (broker.incarnation !== incarnation) return;
      env.count(answer.ok ? 'marker visible' : `marker ${answer.error}`);
      if (!answer.ok) {
        env.log(`${this.name} marker of ${txn.id} attempt ${attempt} on broker ${broker.id}: ${answer.error}`);
        if (txn.markerAttempts === attempt) {
          env.clock.clearTimer(timer);
          retry();
        }
        return;
      }
      env.log(`${this.name} marker of ${txn.id} visible at ${answer.offset} on broker ${broker.id}`);
      env.checker.markerVisible(this.partition, txn.id, answer.offset, `by broker ${broker.id}`);
      if (this.transaction === txn) {
        this.transaction = null;
        env.clock.clearTimer(timer);
        env.clock.setTimer(env.random.between(1, 40), () => this.next());
      }
    });
  }

  private send(batch: InFlight): void {
    // A retry scheduled just before the acknowledgement: a transactional batch sent again then could
    // land after its transaction's marker (Kafka's producer never sends an acknowledged batch again).
    if (this.transactional && this.current !== batch) return;
    const { env } = this;
    const attempt = ++batch.attempts;
    const up = env.brokers.filter((b) => b.ready);
    const broker = writableLeader(env.brokers, this.partition) ?? (up.length > 0 ? env.random.pick(up) : null);
    const retry = (): void => {
      if (this.current === batch && batch.attempts === attempt && !batch.acknowledged) env.clock.setTimer(env.random.between(5, 50), () => this.send(batch));
    };
    if (broker === null) {
      retry();
      return;
    }
    const idempotent = this.producerId >= 0n;
    const records = Array.from({ length: batch.count }, (_, k) => ({ key: Buffer.from(batch.id), value: Buffer.from(`${batch.id}:${k}`) }));
    const bytes = buildRecordBatch(records, {
      baseTimestamp: BigInt(env.clock.now()),
      transactional: this.transactional,
      ...(idempotent ? { producerId: this.producerId, producerEpoch: 0, baseSequence: batch.baseSequence } : {}),
    });
    const fields = idempotent ? { producerId: this.producerId, producerEpoch: 0, baseSequence: batch.baseSequence, lastOffsetDelta: batch.count - 1 } : null;
    const incarnation = broker.incarnation;
    env.log(`${this.name} sends ${batch.id} (attempt ${attempt}) to broker ${broker.id}`);
    const timer = env.clock.setTimer(this.timeoutMs, retry);
    void produce(broker, this.partition, bytes, fields, env.clock.now()).then((answer) => {
      if (broker.incarnation !== incarnation) return;
      env.count(answer.ok ? `produce ${answer.how}` : `produce ${answer.error}`);
      if (!answer.ok) {
        env.log(`${this.name} ${batch.id} attempt ${attempt} on broker ${broker.id}: ${answer.error}`);
        if (batch.attempts === attempt) {
          env.clock.clearTimer(timer);
          retry();
        }
        return;
      }
      env.log(`${this.name} ${batch.id} acknowledged at ${answer.baseOffset} by broker ${broker.id} (${answer.how})`);
      env.checker.acknowledged(this.partition, batch.id, answer.baseOffset, `${answer.how} by broker ${broker.id}`);
      if (this.current === batch && !batch.acknowledged) {
        batch.acknowledged = true;
        this.acknowledgedBatches++;
        env.clock.clearTimer(timer);
        this.current = null;
        env.clock.setTimer(env.random.between(1, 40), () => this.next());
      }
    });
  }
}

/** A record a consumer hands to its application: its offset and key (the id of the batch it came in). */
export interface DeliveredRecord {
  readonly offset: number;
  readonly key: string;
}

/**
 * The records of a read_committed fetch a Kafka client hands on, as the Java consumer's fetcher
 * decides: the aborted transactions are taken up in first-offset order as the batches reach them, a
 * transactional batch of a producer with an aborted transaction under way is dropped, an abort
 * marker ends it, control batches are never handed on.
 */
export function committedRecords(buffers: readonly Buffer[], aborted: readonly AbortedTransaction[]): DeliveredRecord[] {
  const pending = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
  const abortedProducers = new Set<bigint>();
  const out: DeliveredRecord[] = [];
  for (const buffer of buffers) {
    for (const { start, end } of splitBatches(buffer)) {
      const batch = buffer.subarray(start, end);
      const header = readBatchHeader(batch);
      const baseOffset = Number(header.baseOffset);
      while (pending.length > 0 && pending[0]!.firstOffset <= baseOffset + header.lastOffsetDelta) abortedProducers.add(pending.shift()!.producerId);
      const records = readRecords(batch);
      if (isControlBatch(header.attributes)) {
        if (records.length === 1 && readControlMarker(records[0]!).type === ControlType.abort) abortedProducers.delete(header.producerId);
        continue;
      }
      if (isTransactionalBatch(header.attributes) && abortedProducers.has(header.producerId)) continue;
      for (const r of records) out.push({ offset: baseOffset + r.offsetDelta, key: r.key?.toString() ?? '' });
    }
  }
  return out;
}

export class SimConsumer {
  position = 0;
  /** The newest leader epoch seen: sent with each fetch, so a deposed leader answers UNKNOWN_LEADER_EPOCH (partition-access.ts). */
  private leaderEpoch = -1;
  /** The fetch in flight: a fetch from a broker that died meanwhile never answers. */
  private reading: { broker: PartitionBroker; incarnation: number } | null = null;

  constructor(
    readonly name: string,
    readonly partition: string,
    private readonly env: ClientEnv,
    /** read_committed (isolation level 1): up to the last stable offset, aborted records dropped. */
    readonly readCommitted = false,
  ) {}

  /** One fetch from the current leader, if there is one. */
  poll(): void {
    const { env } = this;
    const broker = writableLeader(env.brokers, this.partition);
    const pending = this.reading;
    if (broker === null || (pending !== null && pending.broker.incarnation === pending.incarnation)) return;
    const partition = broker.partition(this.partition)!;
    if (partition.leaderEpoch < this.leaderEpoch) return;
    this.leaderEpoch = partition.leaderEpoch;
    // Retention deleted what this consumer had not read yet: it resets to the earliest offset.
    if (this.position < partition.logStartOffset) {
      env.checker.skipped(this.name, this.partition, this.position, partition.logStartOffset);
      this.position = partition.logStartOffset;
    }
    const highWatermark = partition.highWatermark;
    const incarnation = broker.incarnation;
    const from = this.position;
    this.reading = { broker, incarnation };
    partition.read(from, env.random.pick([100, 1000, 65536]), this.readCommitted).then(
      (read) => {
        this.reading = null;
        if (broker.incarnation !== incarnation) return;
        if (this.readCommitted) {
          this.deliverCommitted(broker.id, partition, from, read.buffers, read.nextOffset, highWatermark);
        } else {
          env.checker.read(broker.id, this.partition, read.buffers, highWatermark);
        }
        this.position = Math.max(this.position, read.nextOffset);
      },
      (e: unknown) => {
        this.reading = null;
        if (broker.incarnation !== incarnation) return;
        env.checker.fail('consumers keep their position', `${this.partition}: broker ${broker.id} refused a fetch at ${this.position} (high watermark ${highWatermark}): ${e instanceof Error ? e.message : String(e)}`);
      },
    );
  }

  /** As Fetch answers read_committed: the aborted transactions of [from, nextOffset), asked once the read is done. */
  private deliverCommitted(broker: number, partition: Partition, from: number, buffers: readonly Buffer[], nextOffset: number, highWatermark: number): void {
    const aborted = this.env.ignoreAbortedList ? [] : partition.abortedTransactions(from, nextOffset);
    this.env.checker.readCommitted(this.name, broker, this.partition, buffers, highWatermark, committedRecords(buffers, aborted));
  }
}
