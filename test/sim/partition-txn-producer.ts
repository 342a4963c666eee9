/**
 * A transactional producer of the partition simulation that goes through the transaction coordinator,
 * as a Kafka client does (partition-coordinator.ts runs the production TransactionCoordinator on the
 * leader of `__transaction_state`):
 *
 *   InitProducerId(transactional id) -> producer id and epoch; then per transaction, for each of a
 *   random set of data partitions: AddPartitionsToTxn, then one to three transactional batches
 *   (idempotent: the producer's id and epoch, sequences per partition from 0 at each epoch); then
 *   EndTxn(commit), or EndTxn(abort) about one time in three.
 *
 * Coordinator requests go to the broker the producer found (FindCoordinator answers the leader of
 * `__transaction_state`) and stay with it until it answers NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE
 * or falls silent (a request timeout; a broker that died never answers), then it is found again; a
 * request answered COORDINATOR_LOAD_IN_PROGRESS or CONCURRENT_TRANSACTIONS is sent again after a
 * backoff, as Kafka clients do. PRODUCER_FENCED, INVALID_PRODUCER_EPOCH (from the coordinator, or from
 * a partition that saw a later epoch's marker) and INVALID_PRODUCER_ID_MAPPING end the producer, as
 * they are fatal to a Kafka producer: its application makes a new one, which calls InitProducerId
 * again, now and then under a new transactional id (a new application instance: the coordinator
 * draws a new producer id). Now and then the application also restarts in the middle of a
 * transaction (InitProducerId, which has the coordinator abort the open transaction). Any other
 * answer is a violation.
 *
 * The checker is told what the coordinator answered: each AddPartitionsToTxn answered without error
 * (the transaction's state with that partition must be committed in `__transaction_state`), each
 * EndTxn answered (its decision must be committed, and be that one), and every batch acknowledged.
 * Which transactions commit is the committed decision's business, not the producer's: one whose EndTxn
 * it never had answered ends however the coordinators decided, and must end so everywhere.
 *
 * In the liveness phase a producer starts no transaction; it ends the one it has with the batches
 * sent, and one it restarted finishes its InitProducerId (so that the transaction it left is aborted).
 */
import type { TimerHandle } from '../../src/io/clock.ts';
import type { TransactionCoordinator } from '../../src/transactions/txn-coordinator.ts';
import type { ProducerRef } from '../../src/transactions/txn-state.ts';
import { kafkaError, KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';
import { buildRecordBatch } from '../../src/protocol/kafka/record-batch/builder.ts';
import type { PartitionBroker } from './partition-broker.ts';
import { produce, writableLeader, type ClientEnv } from './partition-clients.ts';

export interface TxnProducerEnv extends ClientEnv {
  /** The key of `__transaction_state`'s partition. */
  readonly stateKey: string;
  /** The data partitions, as "topic-index". */
  readonly keys: readonly string[];
}

/** The chance, after each partition's batches, that the application restarts mid-transaction. */
const RESTART_CHANCE = 0.03;
/** The chance a transaction also adds a partition it never writes to. */
const UNWRITTEN_PARTITION_CHANCE = 0.1;
/**
 * The chance that a producer with no transaction open (fenced, or between transactions) is replaced
 * by one with a new transactional id, as an application instance may be: the coordinator then draws
 * a new producer id.
 */
const NEW_ID_CHANCE = 0.05;

const FATAL: ReadonlySet<number> = new Set([KafkaErrorCode.PRODUCER_FENCED, KafkaErrorCode.INVALID_PRODUCER_EPOCH, KafkaErrorCode.INVALID_PRODUCER_ID_MAPPING]);

export class SimTxnProducer {
  /** The id it uses now: a restarted or fenced producer's application takes a new one now and then. */
  private transactionalId: string;
  private generation = 0;
  private producer: ProducerRef | null = null;
  private readonly sequences = new Map<string, number>();
  /** The broker it sends coordinator requests to; null: to be found. */
  private coordinator: PartitionBroker | null = null;
  private running = false;
  private transactions = 0;
  private batches = 0;

  constructor(
    readonly name: string,
    transactionalId: string,
    private readonly requestTimeoutMs: number,
    /** transaction.timeout.ms it asks for. */
    private readonly transactionTimeoutMs: number,
    private readonly env: TxnProducerEnv,
  ) {
    this.transactionalId = transactionalId;
  }

  get idle(): boolean {
    return !this.running;
  }

  /** Starts the producer's loop unless it runs; it stops by itself once producing ends. */
  next(): void {
    if (this.running) return;
    this.running = true;
    void this.run().then(
      () => (this.running = false),
      (e: unknown) => this.env.checker.fail('no crash', `${this.name}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`),
    );
  }

  private async run(): Promise<void> {
    for (;;) {
      // A producer that could not start (a violation, which ends the run) stops.
      if (this.producer === null && !(await this.init())) return;
      if (!this.env.producing()) return;
      await this.transaction();
      await this.sleep(this.env.random.between(1, 40));
    }
  }

  /** InitProducerId until answered; false when the answer was an error no Kafka client retries. */
  private async init(): Promise<boolean> {
    for (;;) {
      const answer = await this.call('InitProducerId', (c) => c.initProducerId(this.transactionalId, this.transactionTimeoutMs, null), (a) => a.errorCode);
      if (answer === null) continue;
      if (answer.errorCode !== KafkaErrorCode.NONE) {
        this.unexpected('InitProducerId', answer.errorCode);
        return false;
      }
      this.producer = { producerId: answer.producerId, producerEpoch: answer.producerEpoch };
      this.sequences.clear();
      this.env.log(`${this.name} has producer ${answer.producerId}/${answer.producerEpoch} as ${this.transactionalId}`);
      return true;
    }
  }

  private async transaction(): Promise<void> {
    const { env } = this;
    const txn = `${this.name}.t${this.transactions++}`;
    const keys = [...env.keys];
    for (let i = keys.length - 1; i > 0; i--) {
      const j = env.random.nextInt(i + 1);
      [keys[i], keys[j]] = [keys[j]!, keys[i]!];
    }
    const count = env.random.between(1, keys.length);
    const added = new Set<string>();
    for (let i = 0; i < count; i++) {
      if (i > 0 && !env.producing()) break;
      if (!(await this.add(txn, keys[i]!, added))) return;
      const batches = env.random.between(1, 3);
      for (let b = 0; b < batches; b++) {
        if (b > 0 && !env.producing()) break;
        if (!(await this.send(txn, keys[i]!))) return;
      }
      if (env.producing() && env.random.chance(RESTART_CHANCE)) {
        env.count('transactional producer restarted');
        env.log(`${this.name} restarts in the middle of ${txn}`);
        this.producer = null;
        return;
      }
    }
    const unwritten = keys[count];
    if (unwritten !== undefined && env.producing() && env.random.chance(UNWRITTEN_PARTITION_CHANCE) && !(await this.add(txn, unwritten, added))) return;
    const commit = !env.random.chance(1 / 3);
    env.log(`${this.name} ends ${txn}: EndTxn(${commit ? 'commit' : 'abort'})`);
    for (;;) {
      const producer = this.producer!;
      const code = await this.call('EndTxn', (c) => c.endTransaction(this.transactionalId, producer, commit), (c) => c);
      if (code === null) continue;
      if (code === KafkaErrorCode.NONE) {
        env.count(`transaction answered ${commit ? 'commit' : 'abort'}`);
        env.log(`${this.name} ${txn} ended: ${commit ? 'committed' : 'aborted'}`);
        env.checker.endTxnAnswered(this.transactionalId, txn, commit);
        if (env.random.chance(NEW_ID_CHANCE)) this.newTransactionalId();
        return;
      }
      this.fatal(txn, 'EndTxn', code);
      return;
    }
  }

  /** AddPartitionsToTxn for `key` unless added; false when the producer was fenced (or failed). */
  private async add(txn: string, key: string, added: Set<string>): Promise<boolean> {
    if (added.has(key)) return true;
    const cut = key.lastIndexOf('-');
    const partitions = [{ topic: key.slice(0, cut), partitions: [Number(key.slice(cut + 1))] }];
    for (;;) {
      const producer = this.producer!;
      const code = await this.call('AddPartitionsToTxn', (c) => c.addPartitions(this.transactionalId, producer, partitions), (c) => c);
      if (code === null) continue;
      if (code !== KafkaErrorCode.NONE) {
        this.fatal(txn, 'AddPartitionsToTxn', code);
        return false;
      }
      added.add(key);
      this.env.checker.txnPartitionAdded(this.transactionalId, txn, key, producer.producerId, producer.producerEpoch);
      return true;
    }
  }

  /** One transactional batch to `key`, retried until acknowledged; false when the producer was fenced. */
  private async send(txn: string, key: string): Promise<boolean> {
    const { env } = this;
    const { producerId, producerEpoch } = this.producer!;
    const id = `${this.name}.${this.batches++}`;
    const count = env.random.between(1, 3);
    const baseSequence = this.sequences.get(key) ?? 0;
    this.sequences.set(key, baseSequence + count);
    env.checker.transactionalBatch(key, `${txn}@${key}`, producerId, id, txn);
    const records = Array.from({ length: count }, (_, k) => ({ key: Buffer.from(id), value: Buffer.from(`${id}:${k}`) }));
    const fields = { producerId, producerEpoch, baseSequence, lastOffsetDelta: count - 1 };
    for (let attempt = 1; ; attempt++) {
      const up = env.brokers.filter((b) => b.ready);
      const broker = writableLeader(env.brokers, key) ?? (up.length > 0 ? env.random.pick(up) : null);
      if (broker === null) {
        await this.sleep(env.random.between(5, 50));
        continue;
      }
      const bytes = buildRecordBatch(records, { baseTimestamp: BigInt(env.clock.now()), transactional: true, producerId, producerEpoch, baseSequence });
      const incarnation = broker.incarnation;
      env.log(`${this.name} sends ${id} of ${txn} (attempt ${attempt}) to broker ${broker.id}`);
      const answer = await this.withTimeout(produce(broker, key, bytes, fields, env.clock.now()));
      if (answer === 'timeout' || broker.incarnation !== incarnation) {
        await this.sleep(env.random.between(5, 50));
        continue;
      }
      env.count(answer.ok ? `produce ${answer.how}` : `produce ${answer.error}`);
      if (answer.ok) {
        env.log(`${this.name} ${id} acknowledged at ${answer.baseOffset} by broker ${broker.id} (${answer.how})`);
        env.checker.acknowledged(key, id, answer.baseOffset, `${answer.how} by broker ${broker.id}`);
        return true;
      }
      env.log(`${this.name} ${id} attempt ${attempt} on broker ${broker.id}: ${answer.error}`);
      if (answer.error === 'INVALID_PRODUCER_EPOCH') {
        this.fatal(txn, 'Produce', KafkaErrorCode.INVALID_PRODUCER_EPOCH);
        return false;
      }
      await this.sleep(env.random.between(5, 50));
    }
  }

  /**
   * One request to the coordinator: its answer, or null when it is to be sent again (after the backoff
   * or the timeout, already waited here) because the coordinator moved, is loading, is busy with the
   * id, or did not answer.
   */
  private async call<T>(what: string, request: (c: TransactionCoordinator) => Promise<T>, codeOf: (answer: T) => number): Promise<T | null> {
    const { env } = this;
    this.coordinator ??= writableLeader(env.brokers, env.stateKey);
    const broker = this.coordinator;
    const router = broker?.txnRouter();
    if (broker === null || router === undefined) {
      env.count(`${what} COORDINATOR_NOT_AVAILABLE`);
      this.coordinator = null;
      await this.sleep(env.random.between(10, 100));
      return null;
    }
    const incarnation = broker.incarnation;
    const answer = await this.withTimeout(request(router.coordinatorOf(this.transactionalId)));
    if (answer === 'timeout' || broker.incarnation !== incarnation) {
      env.count(`${what} unanswered`);
      env.log(`${this.name} ${what}: no answer from broker ${broker.id}`);
      this.coordinator = null;
      return null;
    }
    const code = codeOf(answer);
    env.count(`${what} ${kafkaError(code)?.name ?? code}`);
    if (code !== KafkaErrorCode.NONE) env.log(`${this.name} ${what}: ${kafkaError(code)?.name ?? code} from broker ${broker.id}`);
    switch (code) {
      case KafkaErrorCode.NOT_COORDINATOR:
      case KafkaErrorCode.COORDINATOR_NOT_AVAILABLE:
        this.coordinator = null;
        await this.sleep(env.random.between(10, 100));
        return null;
      case KafkaErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
      case KafkaErrorCode.CONCURRENT_TRANSACTIONS:
        await this.sleep(env.random.between(10, 100));
        return null;
      default:
        return answer;
    }
  }

  /** A fatal answer: the producer is done (the transaction ends as its coordinator decides); anything else is a violation. */
  private fatal(txn: string, what: string, code: number): void {
    this.producer = null;
    if (!FATAL.has(code)) {
      this.unexpected(what, code);
      return;
    }
    this.env.count('transactional producer fenced');
    this.env.log(`${this.name} fenced in ${txn} (${what}: ${kafkaError(code)?.name ?? code}); it starts again`);
    // Its transaction is aborted (fencing aborts it): a new id leaves nothing open behind.
    if (this.env.random.chance(NEW_ID_CHANCE * 4)) this.newTransactionalId();
  }

  /** From now on as a new application instance with an id of its own (a new producer id to draw). */
  private newTransactionalId(): void {
    const base = this.transactionalId.split('.')[0]!;
    this.transactionalId = `${base}.${++this.generation}`;
    this.producer = null;
    this.coordinator = null;
    this.env.count('transactional id replaced');
    this.env.log(`${this.name} goes on as ${this.transactionalId}`);
  }

  private unexpected(what: string, code: number): void {
    this.env.checker.fail('a coordinator answers as Kafka does', `${this.name}: ${what} answered ${kafkaError(code)?.name ?? code}`);
  }

  private withTimeout<T>(work: Promise<T>): Promise<T | 'timeout'> {
    let timer: TimerHandle | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = this.env.clock.setTimer(this.requestTimeoutMs, () => resolve('timeout'))));
    return Promise.race([work, timeout]).finally(() => this.env.clock.clearTimer(timer));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.env.clock.setTimer(ms, resolve));
  }
}
