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
 * A consumer fetches from the current leader through Partition.read up to its high watermark and
 * reports what it read. It sends the newest leader epoch it has seen, as Kafka consumers do, so a
 * deposed leader that has not noticed yet refuses it rather than answering from a shorter log.
 */
import type { ProducerFields } from '../../src/replication/partition.ts';
import { buildRecordBatch } from '../../src/protocol/kafka/record-batch/builder.ts';
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
}

type Answer = { ok: true; baseOffset: number; how: string } | { ok: false; error: string };

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
async function produce(broker: PartitionBroker, key: string, batch: Buffer, producer: ProducerFields | null, nowMs: number): Promise<Answer> {
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

interface InFlight {
  readonly id: string;
  readonly count: number;
  readonly baseSequence: number;
  attempts: number;
  acknowledged: boolean;
}

export class SimProducer {
  private batches = 0;
  /** Batches acknowledged (each counted once). */
  acknowledgedBatches = 0;
  private sequence = 0;
  private current: InFlight | null = null;

  constructor(
    readonly name: string,
    readonly partition: string,
    /** -1n for a plain producer. */
    private readonly producerId: bigint,
    private readonly timeoutMs: number,
    private readonly env: ClientEnv,
  ) {}

  get idle(): boolean {
    return this.current === null;
  }

  /** Starts the next batch if idle and producing; the producer then drives itself. */
  next(): void {
    if (this.current !== null || !this.env.producing()) return;
    const count = this.env.random.between(1, 3);
    this.current = { id: `${this.name}.${this.batches++}`, count, baseSequence: this.sequence, attempts: 0, acknowledged: false };
    if (this.producerId >= 0n) this.sequence += count;
    this.send(this.current);
  }

  private send(batch: InFlight): void {
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

export class SimConsumer {
  position = 0;
  /** The newest leader epoch seen: sent with each fetch, so a deposed leader answers UNKNOWN_LEADER_EPOCH (partition-access.ts). */
  private leaderEpoch = -1;
  /** The fetch in flight: a fetch from a broker that died meanwhile never answers. */
  private reading: { broker: PartitionBroker; incarnation: number } | null = null;

  constructor(
    readonly partition: string,
    private readonly env: ClientEnv,
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
    if (this.position < partition.logStartOffset) this.position = partition.logStartOffset;
    const highWatermark = partition.highWatermark;
    const incarnation = broker.incarnation;
    this.reading = { broker, incarnation };
    partition.read(this.position, env.random.pick([100, 1000, 65536])).then(
      (read) => {
        this.reading = null;
        if (broker.incarnation !== incarnation) return;
        env.checker.read(broker.id, this.partition, read.buffers, highWatermark);
        this.position = Math.max(this.position, read.nextOffset);
      },
      (e: unknown) => {
        this.reading = null;
        if (broker.incarnation !== incarnation) return;
        env.checker.fail('consumers keep their position', `${this.partition}: broker ${broker.id} refused a fetch at ${this.position} (high watermark ${highWatermark}): ${e instanceof Error ? e.message : String(e)}`);
      },
    );
  }
}
