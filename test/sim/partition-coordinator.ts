/**
 * The transaction coordinators of one simulated broker incarnation, built from the production pieces a
 * broker of a cluster builds them from (src/app/transaction-coordinators.ts), without the rest of the
 * broker: a CoordinatorPlacement that loads a TransactionCoordinator on the `__transaction_state`
 * partition when this broker's replica of it is ready for writes and closes it when leadership moves
 * (checked on each leadership change of that partition and once a simulated second, as the broker
 * checks it), the coordinator's store a PartitionOffsetsLog over that replicated partition, and its
 * markers written by a PartitionMarkerWriter: here when this broker leads the data partition, else
 * through a TxnMarkerChannel over the simulated network to the partition's leader of the moment.
 *
 * What differs from the broker, and why: the route to a partition's leader is the simulation's
 * knowledge of who leads it now (the broker's own table lags behind it by a gossip round, which only
 * costs a NOT_LEADER_OR_FOLLOWER and a retry); producer ids come from the simulation's allocator
 * (never reused, sometimes late or unavailable as the controller may be); a marker request to another
 * broker times out after 2 s rather than 30 s, so that one lost on the network is sent again within
 * the liveness budget; everything runs on the incarnation's clock and draws from the seed.
 */
import { CoordinatorPlacement } from '../../src/app/coordinator-placement.ts';
import { PartitionOffsetsLog } from '../../src/app/offsets-log.ts';
import { TxnMarkerChannel } from '../../src/app/txn-marker-channel.ts';
import { PartitionMarkerWriter, type MarkerWrite } from '../../src/app/txn-marker-writer.ts';
import { writeTxnMarkerAndComplete } from '../../src/broker/txn-marker-write.ts';
import { kafkaErrorForStorage } from '../../src/broker/storage-errors.ts';
import type { TopicService } from '../../src/broker/topic-service.ts';
import type { OffsetsLog } from '../../src/groups/offsets-log.ts';
import type { Clock } from '../../src/io/clock.ts';
import type { TopicRecord } from '../../src/metadata/cluster-state.ts';
import { TXN_STATE_TOPIC } from '../../src/metadata/topic-name.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { KafkaErrorCode } from '../../src/protocol/kafka/error-codes.ts';
import type { ClusterView, PartitionRoute } from '../../src/replication/cluster-view.ts';
import type { MetadataService } from '../../src/replication/metadata-service.ts';
import type { Partition } from '../../src/replication/partition.ts';
import type { PartitionManager } from '../../src/replication/partition-manager.ts';
import type { PeerChannel } from '../../src/replication/peer-channel.ts';
import { TransactionCoordinator, type TxnCoordinatorOptions, type TxnLoadSummary } from '../../src/transactions/txn-coordinator.ts';
import { TxnRouter } from '../../src/transactions/txn-router.ts';

/** The broker's defaults (config schema, transaction-coordinators.ts). */
const MAX_TIMEOUT_MS = 900_000;
const CHECK_INTERVAL_MS = 10_000;
const ID_EXPIRATION_MS = 604_800_000;
const END_WAIT_MS = 5_000;
/** How long a marker may take to become visible before REQUEST_TIMED_OUT (txn-marker-write.ts). */
const MARKER_WAIT_MS = 30_000;
/** See the header: shorter than the broker's 30 s. */
export const SIM_MARKER_REQUEST_TIMEOUT_MS = 2_000;

const NO_LOG: OffsetsLog = {
  append: () => Promise.reject(new Error('no transaction log on a standby coordinator')),
  replay: async function* () {},
};

/** What the simulation provides to every broker's coordinators. */
export interface SimCoordinatorEnv {
  /** A producer id never handed out before; may reject (no controller), as nextProducerId may. */
  newProducerId(clock: Clock): Promise<bigint>;
  /** The broker leading `key` now (writable), or -1. */
  leaderOf(key: string): number;
  /** A coordinator finished loading on `broker` (what it replayed and resumed). */
  loaded(broker: number, coordinatorEpoch: number, summary: TxnLoadSummary): void;
  /** A marker this broker wrote as a partition's leader became visible at `offset`. */
  markerVisible(broker: number, key: string, offset: number): void;
  /** Where deliberate bugs are planted (partition-bugs.ts): the coordinator's log, and the coordinator. */
  wrapLog(log: OffsetsLog): OffsetsLog;
  created(coordinator: TransactionCoordinator): void;
  log(line: string): void;
}

export interface SimCoordinatorsOptions {
  readonly brokerId: number;
  readonly clock: Clock;
  readonly channel: Pick<PeerChannel, 'send' | 'onMessage'>;
  readonly metadata: MetadataService;
  /** This incarnation's attached partitions, by key. */
  readonly partitions: ReadonlyMap<string, Partition>;
  readonly random: () => number;
  readonly env: SimCoordinatorEnv;
}

/** A coordinator that tells the simulation when it has loaded. */
class ObservedCoordinator extends TransactionCoordinator {
  constructor(
    options: TxnCoordinatorOptions,
    private readonly onLoaded: (summary: TxnLoadSummary) => void,
  ) {
    super(options);
  }

  override async load(): Promise<TxnLoadSummary> {
    const summary = await super.load();
    if (this.loaded) this.onLoaded(summary);
    return summary;
  }
}

export class SimCoordinators {
  readonly router: TxnRouter;
  private readonly placement: CoordinatorPlacement<TransactionCoordinator>;
  private readonly markerChannel: TxnMarkerChannel;
  private stopped = false;

  constructor(options: SimCoordinatorsOptions) {
    const { brokerId: id, clock, env } = options;
    const log = simLogger(id, env);
    const keyOf = (topic: string, index: number): string => `${topic}-${index}`;
    const writeHere = (marker: MarkerWrite, name: string, index: number): Promise<number> => this.writeHere(options, marker, name, index);
    this.markerChannel = new TxnMarkerChannel({ channel: options.channel, clock, log, writeHere, timeoutMs: SIM_MARKER_REQUEST_TIMEOUT_MS, random: options.random });
    const cluster = {
      brokerId: id,
      route: (topic: TopicRecord, index: number): PartitionRoute => {
        const local = options.partitions.get(keyOf(topic.name, index));
        if (local !== undefined && local.writable) return { kind: 'leader', partition: local };
        const leader = env.leaderOf(keyOf(topic.name, index));
        if (leader > 0 && leader !== id) return { kind: 'elsewhere', leader };
        return { kind: 'unavailable', reason: `${topic.name}-${index} has no leader right now` };
      },
    } as unknown as ClusterView;
    const markers = new PartitionMarkerWriter({ metadata: () => options.metadata, cluster: () => cluster, writeHere, remote: this.markerChannel, clock, log });
    const settings = (coordinatorEpoch: number, stateLog: OffsetsLog): TxnCoordinatorOptions => ({
      log: stateLog,
      clock,
      coordinatorEpoch,
      newProducerId: () => env.newProducerId(clock),
      markers,
      maxTimeoutMs: MAX_TIMEOUT_MS,
      checkIntervalMs: CHECK_INTERVAL_MS,
      idExpirationMs: ID_EXPIRATION_MS,
      endWaitMs: END_WAIT_MS,
      onBackgroundError: (err, context) => env.log(`broker ${id} transaction coordinator: ${context}: ${describe(err)}`),
    });
    this.router = new TxnRouter(() => options.metadata.state.topic(TXN_STATE_TOPIC)?.partitions ?? 0, TransactionCoordinator.elsewhere(settings(-1, NO_LOG)));
    const partitions = {
      get: (topic: string, index: number) => options.partitions.get(keyOf(topic, index)),
      offlineReason: () => null,
    } as unknown as PartitionManager;
    this.placement = new CoordinatorPlacement({
      what: 'transaction coordinator',
      topic: TXN_STATE_TOPIC,
      partitionCount: 1,
      replicationFactor: 3,
      eager: false,
      brokers: () => options.metadata.state.brokers().length,
      metadata: () => options.metadata,
      // The simulation creates `__transaction_state` with the data: the placement never has to.
      topics: () => ({ create: () => Promise.reject(new Error('the simulation creates every topic')) }) as unknown as TopicService,
      partitions,
      slots: this.router,
      coordinatorOn: (partition) => {
        const epoch = partition.leaderEpoch;
        const coordinator = new ObservedCoordinator(settings(epoch, env.wrapLog(new PartitionOffsetsLog(partition, () => clock.now()))), (summary) => {
          if (!this.stopped) env.loaded(id, epoch, summary);
        });
        env.created(coordinator);
        return coordinator;
      },
      clock,
      log,
    });
  }

  /** Starts the periodic placement check (the incarnation's first check finds nothing to lead yet). */
  start(): void {
    void this.placement.start();
  }

  /** Leadership of `__transaction_state` changed here: load or drop the coordinator now. */
  check(): void {
    void this.placement.check();
  }

  /** The process dies: its coordinators do nothing more (their clock is closed as well). */
  stop(): void {
    this.stopped = true;
    this.placement.stop();
    this.markerChannel.stop();
  }

  /** As writeMarkerAsLeader (src/broker/txn-marker-write.ts), on the incarnation's clock. */
  private async writeHere(options: SimCoordinatorsOptions, marker: MarkerWrite, name: string, index: number): Promise<number> {
    const { clock, env } = options;
    const key = `${name}-${index}`;
    const partition = options.partitions.get(key);
    if (this.stopped || partition === undefined || !partition.writable) return KafkaErrorCode.NOT_LEADER_OR_FOLLOWER;
    let timer: ReturnType<Clock['setTimer']> | undefined;
    const timedOut = new Promise<'timed-out'>((resolve) => (timer = clock.setTimer(MARKER_WAIT_MS, () => resolve('timed-out'))));
    try {
      const written = writeTxnMarkerAndComplete({ completeTransaction: () => 0 }, partition, { ...marker, timestampMs: clock.now() });
      const work = written.then(({ offset, visible }) => visible.then(() => offset));
      work.catch(() => undefined);
      const outcome = await Promise.race([work, timedOut]);
      if (outcome === 'timed-out') return KafkaErrorCode.REQUEST_TIMED_OUT;
      if (!this.stopped) env.markerVisible(options.brokerId, key, outcome);
      return KafkaErrorCode.NONE;
    } catch (err) {
      return kafkaErrorForStorage(err).errorCode;
    } finally {
      clock.clearTimer(timer);
    }
  }
}

/** The coordinators' log lines as trace lines of the simulation. */
function simLogger(id: number, env: SimCoordinatorEnv): Logger {
  const line = (level: string) => (fields: object, message?: string) => env.log(`broker ${id} ${level}: ${message ?? ''} ${describeFields(fields)}`);
  const logger = { info: line('info'), warn: line('warning'), error: line('error'), debug: () => undefined, child: () => logger };
  return logger as unknown as Logger;
}

function describeFields(fields: object): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${k === 'err' ? describe(v) : typeof v === 'object' && v !== null ? JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) : String(v)}`)
    .join(' ');
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
