/**
 * The transaction coordinators of a broker (docs/transactions.md): a TransactionCoordinator for each
 * `__transaction_state` partition this broker leads (coordinator-placement.ts), the marker writer that
 * ends their transactions on the partitions' leaders, and, on a cluster, the marker requests to and
 * from other brokers. `__transaction_state` is created on first use (a FindCoordinator for a
 * transactional id): 50 partitions and min(3, voters) replicas on a cluster, as Kafka's defaults; one
 * partition on a lone broker, as its `__consumer_offsets`.
 */
import { randomInt } from 'node:crypto';
import type { Clock } from '../io/clock.ts';
import type { Logger } from '../observability/logger.ts';
import type { OffsetsLog } from '../groups/offsets-log.ts';
import { TXN_STATE_TOPIC } from '../metadata/topic-name.ts';
import type { ClusterView } from '../replication/cluster-view.ts';
import type { MetadataService } from '../replication/metadata-service.ts';
import type { Partition } from '../replication/partition.ts';
import type { PartitionManager } from '../replication/partition-manager.ts';
import type { PeerChannel } from '../replication/peer-channel.ts';
import type { TopicService } from '../broker/topic-service.ts';
import { TransactionCoordinator, type TxnCoordinatorOptions } from '../transactions/txn-coordinator.ts';
import { TxnRouter } from '../transactions/txn-router.ts';
import { CoordinatorPlacement } from './coordinator-placement.ts';
import { PartitionOffsetsLog } from './offsets-log.ts';
import { TxnMarkerChannel } from './txn-marker-channel.ts';
import { PartitionMarkerWriter, type MarkerWrite } from './txn-marker-writer.ts';

/** Kafka's transaction.state.log.num.partitions default. */
export const TXN_STATE_PARTITIONS = 50;
/** How long EndTxn waits for its markers before answering (kafkajs and librdkafka time requests out after 30 s). */
const END_WAIT_MS = 5_000;
/** How long a marker request to another broker may go unanswered before it is sent again. */
const MARKER_REQUEST_TIMEOUT_MS = 30_000;

/** The standby's log: it answers NOT_COORDINATOR and never reads or writes. */
const NO_LOG: OffsetsLog = {
  append: () => Promise.reject(new Error('no transaction log on a standby coordinator')),
  replay: async function* () {},
};

export interface TransactionCoordinatorsOptions {
  readonly metadata: () => MetadataService;
  readonly cluster: () => ClusterView;
  readonly topics: () => TopicService;
  readonly partitions: PartitionManager;
  /** The inter-broker channel; absent on a lone broker. */
  readonly channel?: Pick<PeerChannel, 'send' | 'onMessage'>;
  /** Voters in cluster.nodes (1 on a lone broker). */
  readonly voters: number;
  /** kafka.transactionMaxTimeoutMs, kafka.transactionTimeoutCheckIntervalMs, kafka.transactionalIdExpirationMs. */
  readonly limits: { readonly maxTimeoutMs: number; readonly checkIntervalMs: number; readonly idExpirationMs: number };
  /** Writes a marker to a partition this broker leads and tells its group coordinator; the Kafka error code. */
  readonly writeHere: (marker: MarkerWrite, topic: string, partition: number) => Promise<number>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly onEnded?: (commit: boolean, durationMs: number) => void;
}

export class TransactionCoordinators {
  readonly router: TxnRouter;
  private readonly placement: CoordinatorPlacement<TransactionCoordinator>;
  private readonly channel: TxnMarkerChannel | null;

  constructor(options: TransactionCoordinatorsOptions) {
    const log = options.log.child({ component: 'transactions' });
    this.channel =
      options.channel === undefined ? null : new TxnMarkerChannel({ channel: options.channel, clock: options.clock, log, writeHere: options.writeHere, timeoutMs: MARKER_REQUEST_TIMEOUT_MS, random: () => randomInt(2 ** 30) / 2 ** 30 });
    const markers = new PartitionMarkerWriter({ metadata: options.metadata, cluster: options.cluster, writeHere: options.writeHere, remote: this.channel, clock: options.clock, log });
    const settings = (coordinatorEpoch: number, stateLog: OffsetsLog): TxnCoordinatorOptions => ({
      log: stateLog,
      clock: options.clock,
      coordinatorEpoch,
      newProducerId: () => options.metadata().nextProducerId(),
      markers,
      ...options.limits,
      endWaitMs: END_WAIT_MS,
      onBackgroundError: (err, context) => log.error({ err, context }, 'transaction coordinator background work failed'),
      ...(options.onEnded === undefined ? {} : { onEnded: options.onEnded }),
    });
    this.router = new TxnRouter(() => options.metadata().state.topic(TXN_STATE_TOPIC)?.partitions ?? 0, TransactionCoordinator.elsewhere(settings(-1, NO_LOG)));
    const inCluster = options.channel !== undefined;
    this.placement = new CoordinatorPlacement({
      what: 'transaction coordinator',
      topic: TXN_STATE_TOPIC,
      partitionCount: inCluster ? TXN_STATE_PARTITIONS : 1,
      replicationFactor: Math.min(3, options.voters),
      eager: false,
      brokers: () => (inCluster ? options.metadata().state.brokers().length : 1),
      metadata: options.metadata,
      topics: options.topics,
      partitions: options.partitions,
      slots: this.router,
      coordinatorOn: (partition: Partition) => new TransactionCoordinator(settings(partition.leaderEpoch, new PartitionOffsetsLog(partition, () => options.clock.now()))),
      clock: options.clock,
      log,
    });
  }

  /** Starts placing coordinators; `check()` should also run on metadata and leadership changes. */
  start(): void {
    void this.placement.start();
  }

  check(): void {
    void this.placement.check();
  }

  /** A client asked for a transaction coordinator: have `__transaction_state` created if it is not. */
  want(): void {
    this.placement.want();
  }

  stop(): void {
    this.placement.stop();
    this.channel?.stop();
  }
}
