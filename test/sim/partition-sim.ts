/**
 * Goal: a deterministic simulation of replicated partition data over the production replica path:
 * 3 or 5 brokers, one to three partitions of replication factor 3, each replica a segment Log with
 * its PartitionRaftLog and PartitionReplica attached by PartitionReplicas, in a MultiRaft host per
 * broker, over a simulated disk (MemDisk) and network, under crashes, power loss, partitions and
 * slow fsyncs, and with five brokers partition moves (reassignment: the leader changes the group's
 * membership, partition-moves.ts; brokers open and delete replicas as the simulated controller
 * decides), with the data's invariants (partition-checkers.ts) checked after every event.
 * Method: as controller-sim.ts: everything is drawn from one seed and runs on one hand-driven clock;
 * after every timer the microtask queue drains, so the promise chains of the storage and replication
 * code run in the same order every time and a seed replays event for event. Idempotent, plain and
 * transactional producers retry as Kafka clients do, consumers fetch from the leader, read_uncommitted
 * and read_committed (partition-clients.ts). Transactional producers go through the production
 * transaction coordinator (partition-txn-producer.ts), which runs on the leader of a replicated
 * `__transaction_state` partition (one partition, three replicas, hosted by the same brokers, crashed
 * and cut off with them) and writes its markers to the data partitions' leaders
 * (partition-coordinator.ts); the checkers follow its committed decisions (txn-periods.ts).
 * Crashes are process kills (the page cache survives) or power losses (MemDisk tears what was not
 * durable); a restart recovers everything from the disk (partition-broker.ts).
 *
 * After `steps` events the faults heal. In half the seeds a failover comes first: once every broker
 * is up and every partition settled, a leader is killed (right after it sends quiesce notices, where
 * quiescence is on) and stays down: data-0's, or in half of those seeds with the coordinator
 * `__transaction_state`'s; within `livenessTicks` every partition must have a writable leader on the
 * others and take a produce (and a coordinator must be loaded on another broker). Then every broker
 * is up; within `livenessTicks` every partition must have a writable leader, a produce to it must
 * succeed, the producers must have finished their batches (and transactions), a coordinator must be
 * loaded and every transaction complete (its markers written), every replica must hold the whole
 * committed log and the read_committed consumers must have read it; then every replica's log is read
 * and compared with the committed batches, the acknowledged and the consumed ones, and its
 * transactions with the decisions. Partition moves (five brokers) move the data partitions only.
 */
import type { Partition } from '../../src/replication/partition.ts';
import type { RaftSettings } from '../../src/replication/raft-driver.ts';
import { ClusterState, type MetadataCommand, type MetadataResult } from '../../src/metadata/cluster-state.ts';
import { partitionsMoving, replicaSet } from '../../src/metadata/reassignment.ts';
import { APPEND_HEADROOM_BYTES } from '../../src/replication/multi-raft.ts';
import type { LogOptions } from '../../src/storage/log-options.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { PartitionBroker, partitionKey, type PartitionBrokerEnv } from './partition-broker.ts';
import { plantBugs, type PartitionSimBugs } from './partition-bugs.ts';
import { PartitionChecker, type ReplicaTransactions, type StoredBatch } from './partition-checkers.ts';
import { SimConsumer, SimProducer, writableLeader, type ClientEnv } from './partition-clients.ts';
import { MemDisk } from './mem-disk.ts';
import { injectNetworkFault } from './network-faults.ts';
import { Prng } from './prng.ts';
import { randomRaftSettings } from './random-settings.ts';
import { SimNetwork } from './sim-network.ts';
import { TICK_MS } from './sim-node.ts';
import { drainMicrotasks } from './drain-microtasks.ts';
import { TXN_STATE_TOPIC } from '../../src/metadata/topic-name.ts';
import type { SimCoordinatorEnv } from './partition-coordinator.ts';
import { SimTxnProducer, type TxnProducerEnv } from './partition-txn-producer.ts';
import { plantCoordinatorBugs, wrapCoordinatorLog } from './partition-bugs.ts';

export interface PartitionSimOptions {
  readonly seed: number;
  readonly brokers: 3 | 5;
  /** Events in the fault phase. Default 10000. */
  readonly steps?: number;
  /** Ticks the liveness phase may take. Default 3000 (30 simulated seconds). */
  readonly livenessTicks?: number;
  readonly bugs?: PartitionSimBugs;
  /** Clients per partition (defaults in DEFAULT_CLIENTS). */
  readonly clients?: Partial<PartitionSimClients>;
  /** Receives one line per notable event (for replaying a seed verbosely). */
  readonly trace?: (line: string) => void;
  /**
   * Transactional producers go through the production transaction coordinator, on the leader of a
   * replicated `__transaction_state` partition (default). False: each producer decides its
   * transactions itself and writes the markers at the partition's leader, as before the coordinator
   * was simulated.
   */
  readonly coordinator?: boolean;
}

/** Clients of each partition. */
export interface PartitionSimClients {
  readonly plain: number;
  readonly idempotent: number;
  readonly transactional: number;
  readonly readCommitted: number;
}

/**
 * Every run has each kind. With no transactional producer and no read_committed consumer a seed
 * runs exactly as before they existed: their draws come from a generator of their own.
 */
export const DEFAULT_CLIENTS: PartitionSimClients = { plain: 1, idempotent: 2, transactional: 1, readCommitted: 1 };

export interface PartitionSimResult {
  readonly seed: number;
  readonly brokers: number;
  readonly partitions: number;
  readonly events: number;
  readonly simulatedMs: number;
  readonly crashes: number;
  readonly powerLosses: number;
  /** Answers to producers by kind ("produce appended", "produce NOT_LEADER_OR_FOLLOWER", ...). */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Offsets committed, summed over the partitions. */
  readonly committedOffsets: number;
  readonly comparisons: number;
  /** Idempotent batches stored again because retention had deleted their first copy (allowed). */
  readonly forgottenProducers: number;
  readonly snapshotsRestored: number;
  /** Records of committed transactions read_committed consumers read. */
  readonly transactionRecordsRead: number;
  /** Markers committed again for a transaction already closed (retried markers). */
  readonly repeatedMarkers: number;
  /** Quiesce notices sent by all brokers' groups (0 in seeds without quiescence). */
  readonly quiesceNotices: number;
  /** The one-broker-down failover: 'none' (not in this seed, or never settled), 'after-notice' (the leader was killed right after sending quiesce notices), 'plain'. */
  readonly failover: 'none' | 'after-notice' | 'plain';
  /** Which partition's leader the failover killed: a data partition's, or `__transaction_state`'s (the coordinator). */
  readonly failoverOf: 'data' | 'coordinator';
  /** With the transaction coordinator simulated, what went through it; null without. */
  readonly coordinator: CoordinatorSummary | null;
  readonly settings: string;
  /** The first broken invariant, or null. */
  readonly violation: string | null;
}

export interface CoordinatorSummary {
  /** Transactions the coordinators decided (their PrepareCommit/PrepareAbort committed). */
  readonly committed: number;
  readonly aborted: number;
  /** Of those, the ones whose EndTxn the producer had answered. */
  readonly answered: number;
  /** Coordinators loaded (each leadership of `__transaction_state` that got one). */
  readonly loads: number;
  /** Loads after the first: the coordinator moved to another broker or came back after a crash. */
  readonly failovers: number;
  /** Transactions a new coordinator found decided with markers unwritten, and finished. */
  readonly resumed: number;
  /** Markers a deposed coordinator wrote after its transaction was complete (they closed nothing). */
  readonly lateMarkers: number;
}

export function runPartitionSimulation(options: PartitionSimOptions): Promise<PartitionSimResult> {
  return new PartitionSimulation(options).run();
}

const TIMEOUTS_MS = [150, 500, 2000];

class PartitionSimulation {
  private readonly seed: number;
  private readonly steps: number;
  private readonly livenessTicks: number;
  private readonly trace: ((line: string) => void) | undefined;
  private readonly random: Prng;
  private readonly faultRandom: Prng;
  private readonly clientRandom: Prng;
  /** Transactional producers' and read_committed consumers' draws (see DEFAULT_CLIENTS). */
  private readonly transactionRandom: Prng;
  private readonly clock = new ManualClock();
  private readonly network: SimNetwork;
  private readonly ids: number[];
  private readonly brokers: PartitionBroker[] = [];
  private readonly checker = new PartitionChecker();
  private readonly settings: RaftSettings;
  /**
   * Moves' catch-up throttled in some runs (cluster.learnerRecoveryRate). Taken from the seed rather
   * than the generator, so every other draw of a seed stays what it was.
   */
  private readonly learnerBytesPerSecond: number;
  private readonly quiesceAfterTicks: number;
  private readonly logOptions: Partial<LogOptions>;
  /** The controller's state: the simulation applies commands to it as the controller's leader would. */
  private readonly metadata = new ClusterState('sim', null);
  private readonly keys: string[] = [];
  private readonly producers: SimProducer[] = [];
  private readonly consumers: SimConsumer[] = [];
  /** Liveness phase: one batch per partition that must be acknowledged after healing. */
  private readonly livenessProducers: SimProducer[];
  private readonly timeoutMs: number;
  private readonly retentionEveryMs: number;
  private readonly outcomes: Record<string, number> = {};
  private events = 0;
  private crashes = 0;
  /** The lyingFsync bug: every disk, replaced ones too. */
  private readonly lyingFsync: boolean;
  /** Disks replaced so far (each comes back as a new incarnation of its broker). */
  private diskReplacements = 0;
  /** Brokers whose disk was replaced, to register again as a new incarnation when they start. */
  private readonly reregister = new Set<number>();
  private powerLosses = 0;
  private phase: 'faults' | 'failover' | 'liveness' = 'faults';
  private livenessDeadlineMs = 0;
  /** The one-broker-down failover (see the header): whether this seed runs it, and how far it got. */
  private readonly failoverSeed: boolean;
  private failover: { stage: 'settling' | 'armed' | 'down'; victim: PartitionBroker | null; notices: number; deadlineMs: number; kind: 'after-notice' | 'plain' } | null = null;
  /** Failover phase: one batch per partition that must be acknowledged with the victim down. */
  private readonly failoverProducers: SimProducer[];
  /** `__transaction_state`'s partition, when the coordinator is simulated. */
  private readonly stateKey: string | null = null;
  /** Producers that go through the coordinator. */
  private readonly txnProducers: SimTxnProducer[] = [];
  /** The simulated controller's producer id allocator: never hands out an id twice. */
  private nextProducerId = 1_000_000n;
  private coordinatorLoads = 0;
  private resumedTransactions = 0;
  /** Whether the failover phase kills the coordinator's broker (a seed's draw, coordinator mode only). */
  private failoverOfCoordinator = false;

  constructor(options: PartitionSimOptions) {
    this.seed = options.seed;
    this.steps = options.steps ?? 10000;
    this.livenessTicks = options.livenessTicks ?? 3000;
    this.trace = options.trace;
    const bugs = options.bugs ?? {};
    this.lyingFsync = bugs.lyingFsync === true;
    this.random = new Prng(options.seed);
    this.faultRandom = this.random.fork();
    this.clientRandom = this.random.fork();
    this.transactionRandom = new Prng((options.seed ^ 0x7a5c7104) >>> 0);
    this.network = new SimNetwork(this.random.fork());
    this.ids = Array.from({ length: options.brokers }, (_, i) => i + 1);
    // Partition groups as the broker runs them: the leader writes in parallel with its followers.
    this.settings = { ...randomRaftSettings(this.random), leaderWritesInParallel: true };
    this.learnerBytesPerSecond = [0, 20_000, 200_000][options.seed % 3]!;
    // Quiescence as the broker runs it (raft.quiesce, on by default) in half of the seeds, chosen by
    // the seed so that the other settings of a seed stay what they were.
    this.quiesceAfterTicks = Math.floor(options.seed / 3) % 2 === 0 ? 0 : 2 * (this.settings.heartbeatTicks ?? 1);
    this.failoverSeed = Math.floor(options.seed / 2) % 2 === 1;
    this.logOptions = {
      ioMode: this.random.pick(['buffered', 'direct'] as const),
      syncIntervalMs: this.random.pick([0, 1000]),
      segmentBytes: this.random.pick([1024, 4096, 65536]),
      indexIntervalBytes: this.random.pick([0, 256, 4096]),
      preallocateBytes: this.random.pick([0, 8192]),
      tailCacheBytes: this.random.pick([0, 4096, 1 << 20]),
    };
    this.timeoutMs = this.random.pick(TIMEOUTS_MS);
    // Retention (by size) in some runs: logs then start past 0 and lagging followers get snapshots.
    const retentionBytes = this.random.pick([-1, -1, 4096, 16384]);
    this.logOptions = { ...this.logOptions, retentionBytes };
    this.retentionEveryMs = retentionBytes < 0 ? 0 : this.random.pick([200, 1000]);
    const partitions = this.random.between(1, 3);
    const assignments = Array.from({ length: partitions }, (_, p) => this.replicaSet(p));
    for (const id of this.ids) this.controller(this.registration(id, 0));
    this.controller({ type: 'create-topic', name: 'data', topicId: '00000000-0000-4000-8000-00000000da7a', partitions, replicationFactor: 3, assignments, configs: {}, timestampMs: 0 });
    const counts = { ...DEFAULT_CLIENTS, ...options.clients };
    const coordinated = options.coordinator !== false && counts.transactional > 0;
    if (coordinated) {
      // One partition, three replicas, drawn from the transactions' own stream.
      const replicas = [...this.ids];
      for (let i = replicas.length - 1; i > 0; i--) {
        const j = this.transactionRandom.nextInt(i + 1);
        [replicas[i], replicas[j]] = [replicas[j]!, replicas[i]!];
      }
      replicas.length = 3;
      this.controller({ type: 'create-topic', name: TXN_STATE_TOPIC, topicId: '00000000-0000-4000-8000-0000000075a7', partitions: 1, replicationFactor: 3, assignments: [replicas], configs: { 'cleanup.policy': 'compact' }, timestampMs: 0 });
      this.stateKey = partitionKey(TXN_STATE_TOPIC, 0);
    }
    const env: PartitionBrokerEnv = {
      clock: this.clock,
      network: this.network,
      metadata: () => this.metadata,
      settings: this.settings,
      logOptions: this.logOptions,
      channelMaxBytes: APPEND_HEADROOM_BYTES + 128 * 1024,
      retentionEveryMs: this.retentionEveryMs,
      learnerBytesPerSecond: this.learnerBytesPerSecond,
      quiesceAfterTicks: this.quiesceAfterTicks,
      isUp: (id) => this.broker(id).up,
      deliver: (from, to, bytes) => this.broker(to).receive(from, bytes),
      log: (line) => this.log(line),
      fail: (invariant, message) => this.checker.fail(invariant, message),
      applying: (broker, partition, entries) => this.checker.applying(broker, this.broker(broker).replicaIncarnation(partition), partition, entries),
      restoring: (broker, partition, snapshot) => this.checker.restoring(broker, this.broker(broker).replicaIncarnation(partition), partition, snapshot),
      attached: (broker, replica) => {
        // A restarted replica counts what its stored commit index covers as applied (its log is its
        // state) and applies only what follows; the final check compares its whole log.
        const key = partitionKey(replica.partition.topic, replica.partition.index);
        this.checker.startsAt(broker, this.broker(broker).replicaIncarnation(key), key, replica.highWatermark);
        this.readStoredCommits(broker, key, replica.partition, replica.highWatermark);
        plantBugs(replica, bugs);
      },
      submit: (cmd) => this.controllerDecides(cmd),
      moveEveryMs: this.random.pick([100, 500]),
      ...(coordinated ? { coordinators: this.coordinatorEnv(bugs) } : {}),
    };
    for (const id of this.ids) {
      const disk = new MemDisk(this.random.fork(), { clock: this.clock, lyingFsync: bugs.lyingFsync === true });
      this.brokers.push(new PartitionBroker(id, disk, this.random.fork(), env));
    }
    const clients: ClientEnv = {
      clock: this.clock,
      checker: this.checker,
      brokers: this.brokers,
      random: this.clientRandom,
      producing: () => this.phase === 'faults',
      count: (outcome) => (this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1),
      log: (line) => this.log(line),
    };
    const transactionClients: ClientEnv = { ...clients, random: this.transactionRandom, ignoreAbortedList: bugs.consumerIgnoresAborted === true };
    const letter = (i: number): string => String.fromCharCode(97 + i);
    for (let p = 0; p < partitions; p++) {
      const key = partitionKey('data', p);
      this.keys.push(key);
      // Producer ids 1000 + 2p and 1001 + 2p as before; more idempotent ones, and transactional ones, above.
      for (let i = 0; i < counts.idempotent; i++) {
        const id = i < 2 ? 1000 + 2 * p + i : 10_000 + 100 * p + i;
        this.producers.push(new SimProducer(`idem${p}${letter(i)}`, key, BigInt(id), this.timeoutMs, clients));
      }
      for (let i = 0; i < counts.plain; i++) this.producers.push(new SimProducer(`plain${p}${i === 0 ? '' : letter(i)}`, key, -1n, this.timeoutMs, clients));
      for (let i = 0; i < (coordinated ? 0 : counts.transactional); i++) {
        this.producers.push(new SimProducer(`txn${p}${letter(i)}`, key, BigInt(20_000 + 100 * p + i), this.timeoutMs, transactionClients, true));
      }
      this.consumers.push(new SimConsumer(`consumer${p}`, key, clients));
      for (let i = 0; i < counts.readCommitted; i++) this.consumers.push(new SimConsumer(`committed${p}${letter(i)}`, key, transactionClients, true));
    }
    // One batch each: a produce to every partition must succeed after healing (and, before that, with a broker down).
    const oneBatch = (prefix: string) => (key: string): SimProducer => {
      const producer: SimProducer = new SimProducer(`${prefix}-${key}`, key, -1n, this.timeoutMs, { ...clients, producing: () => producer.acknowledgedBatches === 0 });
      return producer;
    };
    this.livenessProducers = this.keys.map(oneBatch('live'));
    this.failoverProducers = this.keys.map(oneBatch('failover'));
    if (coordinated) {
      // As many transactional ids as transactional producers without the coordinator; each writes to any partitions.
      const env: TxnProducerEnv = { ...transactionClients, stateKey: this.stateKey!, keys: this.keys };
      for (let i = 0; i < counts.transactional * partitions; i++) {
        const timeoutMs = this.transactionRandom.pick([60_000, 60_000, 5_000]);
        this.txnProducers.push(new SimTxnProducer(`txn${letter(i)}`, `tx-${i}`, this.timeoutMs, timeoutMs, env));
      }
      this.failoverOfCoordinator = this.failoverSeed && this.transactionRandom.chance(0.5);
    }
  }

  /** What the brokers' transaction coordinators get from the simulation (partition-coordinator.ts). */
  private coordinatorEnv(bugs: PartitionSimBugs): SimCoordinatorEnv {
    const random = this.transactionRandom.fork();
    return {
      // As the controller hands out blocks: a little later, now and then seconds later (a block to
      // allocate while the controller elects) or not at all (no controller leader).
      newProducerId: (clock) =>
        new Promise<bigint>((resolve, reject) =>
          clock.setTimer(random.chance(0.2) ? random.between(100, 3000) : random.between(1, 20), () => {
            if (random.chance(0.05)) reject(new Error('no producer id block: the controller has no leader'));
            else resolve(this.nextProducerId++);
          }),
        ),
      leaderOf: (key) => writableLeader(this.brokers, key)?.id ?? -1,
      loaded: (broker, coordinatorEpoch, summary) => {
        this.coordinatorLoads++;
        this.resumedTransactions += summary.resumed;
        this.count('coordinator loaded');
        this.log(`broker ${broker}: transaction coordinator loaded at epoch ${coordinatorEpoch}: ${summary.records} records, ${summary.transactionalIds} ids, ${summary.resumed} transactions resumed`);
      },
      markerVisible: (broker, key, offset) => this.checker.coordinatorMarkerVisible(key, offset, `by broker ${broker}`),
      wrapLog: (log) => wrapCoordinatorLog(log, bugs),
      created: (coordinator) => plantCoordinatorBugs(coordinator, bugs),
      log: (line) => this.log(line),
    };
  }

  /** Three of the brokers, the preferred leader first, spread over the partitions. */
  private replicaSet(p: number): number[] {
    if (this.ids.length === 3) return [1, 2, 3].map((_, i) => ((p + i) % 3) + 1);
    const shuffled = [...this.ids];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = this.random.nextInt(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    return shuffled.slice(0, 3);
  }

  async run(): Promise<PartitionSimResult> {
    // A promise chain of the production code that rejects would otherwise end the process with no seed.
    const onRejection = (reason: unknown): void => this.checker.fail('no crash', `a promise rejected unhandled at ${this.clock.now()} ms: ${describe(reason)}`);
    process.on('unhandledRejection', onRejection);
    try {
      return await this.runEvents();
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  }

  private async runEvents(): Promise<PartitionSimResult> {
    for (const broker of this.brokers) this.start(broker);
    for (const producer of this.producers) this.clock.setTimer((producer.transactional ? this.transactionRandom : this.clientRandom).between(50, 300), () => producer.next());
    for (const producer of this.txnProducers) this.clock.setTimer(this.transactionRandom.between(50, 300), () => producer.next());
    this.clock.setTimer(this.clientRandom.between(50, 300), () => this.poll());
    this.clock.setTimer(this.faultRandom.between(100, 500), () => this.fault());
    // Short runs see few faults: with five brokers, one move is due early in every run.
    if (this.ids.length === 5) this.clock.setTimer(this.faultRandom.between(200, 1000), () => this.phase === 'faults' && this.moveFault());
    for (;;) {
      let fired: boolean;
      try {
        fired = this.clock.runNext();
      } catch (e) {
        fired = true;
        this.checker.fail('no crash', `an event at ${this.clock.now()} ms threw ${describe(e)}`);
      }
      await drainMicrotasks();
      if (!fired) {
        this.checker.fail('liveness', 'the simulation ran out of events');
        break;
      }
      this.events++;
      this.observe();
      if (this.checker.violation !== null) break;
      if (this.phase === 'faults' && this.events >= this.steps) {
        if (this.failoverSeed) this.startFailover();
        else this.startLiveness();
      }
      if (this.phase === 'failover') this.stepFailover();
      if (this.checker.violation !== null) break;
      if (this.phase === 'liveness') {
        const problem = this.livenessProblem();
        if (problem === null) {
          await this.compareLogs();
          break;
        }
        if (this.clock.now() > this.livenessDeadlineMs) {
          this.checker.fail('liveness', `not converged ${this.livenessTicks} ticks after healing: ${problem}`);
          break;
        }
      }
    }
    const violation = this.checker.violation;
    return {
      seed: this.seed,
      brokers: this.ids.length,
      partitions: this.keys.length,
      events: this.events,
      simulatedMs: this.clock.now(),
      crashes: this.crashes,
      powerLosses: this.powerLosses,
      outcomes: this.outcomes,
      committedOffsets: this.keys.reduce((n, key) => n + this.checker.committedEnd(key), 0),
      comparisons: this.checker.comparisons,
      forgottenProducers: this.checker.forgottenProducers,
      snapshotsRestored: this.checker.restores,
      transactionRecordsRead: this.checker.committedTransactionRecordsRead,
      repeatedMarkers: this.checker.repeatedMarkers,
      quiesceNotices: this.brokers.reduce((n, b) => n + b.quiesceNoticesSent(), 0),
      failover: this.failover?.stage === 'down' ? this.failover.kind : 'none',
      failoverOf: this.failoverOfCoordinator ? 'coordinator' : 'data',
      coordinator: this.stateKey === null ? null : this.coordinatorSummary(),
      settings: this.describeSettings(),
      violation: violation === null ? null : `seed ${this.seed} brokers ${this.ids.length}: ${violation}`,
    };
  }

  private coordinatorSummary(): CoordinatorSummary {
    const decided = this.checker.periods.periods().filter((p) => p.decision !== null);
    return {
      committed: decided.filter((p) => p.decision === true).length,
      aborted: decided.filter((p) => p.decision === false).length,
      answered: decided.filter((p) => p.answered).length,
      loads: this.coordinatorLoads,
      failovers: Math.max(0, this.coordinatorLoads - 1),
      resumed: this.resumedTransactions,
      lateMarkers: this.checker.lateMarkers,
    };
  }

  /** The data partitions, and `__transaction_state`'s when the coordinator is simulated. */
  private allKeys(): string[] {
    return this.stateKey === null ? this.keys : [...this.keys, this.stateKey];
  }

  /** High watermarks and last stable offsets of every attached replica (its broker serving or not yet), after every event. */
  private observe(): void {
    for (const broker of this.brokers) {
      for (const key of this.allKeys()) {
        const replica = broker.attachedReplica(key);
        if (replica === undefined) continue;
        this.checker.logStart(key, replica.partition.logStartOffset);
        this.checker.highWatermark(broker.id, broker.replicaIncarnation(key), key, replica.highWatermark, replica.writable ? replica.leaderEpoch : -1);
        this.checker.lastStableOffset(broker.id, broker.replicaIncarnation(key), key, replica.partition.lastStableOffset);
      }
    }
  }

  private describeSettings(): string {
    const s = this.settings;
    const l = this.logOptions;
    return (
      `brokers=${this.ids.length} partitions=${this.keys.length} leaderWritesInParallel=${s.leaderWritesInParallel} preVote=${s.preVote} checkQuorum=${s.checkQuorum} heartbeat=${s.heartbeatTicks} probeRetry=${s.probeRetryTicks} ` +
      `maxMessageBytes=${s.maxMessageBytes} inflight=${s.maxInflightMessages}/${s.maxInflightBytes} uncommitted=${s.maxUncommittedBytes} ` +
      `io=${l.ioMode} syncIntervalMs=${l.syncIntervalMs} segmentBytes=${l.segmentBytes} tailCache=${l.tailCacheBytes} retentionBytes=${l.retentionBytes} ` +
      `retentionEveryMs=${this.retentionEveryMs} learnerBytesPerSecond=${this.learnerBytesPerSecond} quiesceAfterTicks=${this.quiesceAfterTicks} timeoutMs=${this.timeoutMs}`
    );
  }

  private log(line: string): void {
    if (this.trace !== undefined) this.trace(`${String(this.clock.now() - 1_700_000_000_000).padStart(7)}ms ${line}`);
  }

  private broker(id: number): PartitionBroker {
    return this.brokers[id - 1]!;
  }

  private start(broker: PartitionBroker): void {
    // Back with a new identity (a replaced disk), it registers before it opens any partition
    // (cluster-node.ts join), whoever starts it.
    if (this.reregister.delete(broker.id)) this.controller(this.registration(broker.id, ++this.diskReplacements));
    broker.start();
    this.log(`broker ${broker.id} starting (incarnation ${broker.incarnation})`);
    // The others' links to it come up (their leaders then catch it up: MultiRaft peerReconnected),
    // unless it crashed again meanwhile.
    const incarnation = broker.incarnation;
    for (const other of this.brokers) {
      if (other === broker) continue;
      this.clock.setTimer(this.random.between(1, 50), () => {
        if (broker.up && broker.incarnation === incarnation) other.linkChanged(broker.id, 'up');
      });
    }
  }

  /**
   * The others notice a crashed broker's links go down, a little later each: before it can be back
   * (a restart comes 20 ms or more after the crash), and not at all once it is back, so that a link's
   * down and up are told in order, as the transport tells them.
   */
  private linkDown(broker: PartitionBroker): void {
    const incarnation = broker.incarnation;
    for (const other of this.brokers) {
      if (other === broker) continue;
      this.clock.setTimer(this.random.between(1, 15), () => {
        if (!broker.up && broker.incarnation === incarnation) other.linkChanged(broker.id, 'down');
      });
    }
  }

  /**
   * Whether every live replica of every partition applied the membership the metadata names (a move
   * completed in the metadata may not have reached every member's applied state yet).
   */
  private membershipSettled(): boolean {
    const topic = this.metadata.topic('data')!;
    return this.keys.every((key, index) => {
      const wanted = [...replicaSet(topic, index)].sort((a, b) => a - b).join(',');
      return this.brokers.every((b) => {
        const replica = b.replica(key);
        if (replica === undefined) return true;
        const conf = replica.driver.raft.confState();
        return conf.learners.length === 0 && [...conf.voters].sort((a, b) => a - b).join(',') === wanted;
      });
    });
  }

  /** The register-broker command of broker `id` with the data directory numbered `disk` (0: its first). */
  private registration(id: number, disk: number): MetadataCommand {
    const incarnationId = `00000000-0000-4000-8${String(disk).padStart(3, '0')}-${String(id).padStart(12, '0')}`;
    return { type: 'register-broker', id, incarnationId, host: `broker-${id}`, port: 9092, grpcPort: 9093, rack: null, timestampMs: 0 };
  }

  // ---- workload ----

  private poll(): void {
    // read_committed consumers read on after healing: every committed transaction must reach them.
    if (this.phase !== 'faults' && !this.consumers.some((c) => c.readCommitted)) return;
    for (const consumer of this.consumers) consumer.poll();
    this.clock.setTimer(this.clientRandom.between(10, 100), () => this.poll());
  }

  // ---- faults ----

  private fault(): void {
    if (this.phase !== 'faults') return;
    this.injectFault();
    // Calm stretches between faults let writes through; short ones pile faults up.
    this.clock.setTimer(this.faultRandom.chance(0.3) ? this.faultRandom.between(500, 2000) : this.faultRandom.between(20, 400), () => this.fault());
  }

  private injectFault(): void {
    const random = this.faultRandom;
    const roll = random.nextInt(100);
    // With five brokers, partitions also move between them (reassignment) amid the other faults.
    if (roll >= 85 && this.ids.length === 5) {
      this.moveFault();
      return;
    }
    if (roll < 50) {
      const fault = roll < 12 ? 'partition' : roll < 20 ? 'isolate' : roll < 32 ? 'cut-link' : 'heal';
      injectNetworkFault(fault, this.network, this.ids, random, (line) => this.log(line));
    } else if (roll < 70) {
      const up = this.brokers.filter((b) => b.up);
      if (up.length === 0) return;
      // A leader more often than the others: its pending writes are where the interesting cases are.
      const leaders = this.allKeys().map((key) => writableLeader(this.brokers, key)).filter((b) => b !== null);
      const victim = leaders.length > 0 && random.chance(0.4) ? random.pick(leaders) : random.pick(up);
      const powerLoss = random.chance(0.5);
      const torn = victim.crash(powerLoss);
      this.crashes++;
      if (powerLoss) this.powerLosses++;
      this.log(`broker ${victim.id} ${powerLoss ? 'lost power' : 'was killed'}${torn === '' ? '' : ` (${torn})`}`);
      this.linkDown(victim);
      // Sometimes its disk is replaced meanwhile: it comes back empty under its id and must be refilled
      // before it votes. One at a time: two empty replicas of a group could hold its only copies.
      // Not amid moves either: a member that has not applied the latest configuration counts votes
      // by an older one and may need the replaced broker's vote, which it cannot give before it is
      // refilled, while no leader can be elected to refill it (docs/replication.md, "Replaced disks").
      const replace = random.chance(0.15) && !this.brokers.some((b) => b.refilling) && partitionsMoving(this.metadata.topic('data')!).length === 0 && this.membershipSettled();
      if (replace) {
        victim.replaceDisk(new MemDisk(this.random.fork(), { clock: this.clock, lyingFsync: this.lyingFsync }));
        this.count('disk replaced');
        this.log(`broker ${victim.id}: disk replaced by an empty one`);
      }
      const incarnation = victim.incarnation;
      if (replace) this.reregister.add(victim.id);
      this.clock.setTimer(random.between(20, 2000), () => {
        if (!victim.up && victim.incarnation === incarnation) this.start(victim);
      });
    } else if (roll < 80) {
      const broker = random.pick(this.brokers);
      broker.disk.slowUntilMs = this.clock.now() + random.between(100, 2000);
      this.log(`fault: slow fsync on broker ${broker.id}`);
    } else {
      injectNetworkFault('conditions', this.network, this.ids, random, (line) => this.log(line));
    }
  }

  // ---- moves (the simulation is the controller: metadata/cluster-state.ts decides the same) ----

  /** Starts a move of a partition to three other brokers (some shared), replaces one, or cancels one. */
  private moveFault(): void {
    const random = this.faultRandom;
    // No moves while a replaced disk is refilled (see injectFault).
    if (this.brokers.some((b) => b.refilling)) return;
    const topic = this.metadata.topic('data')!;
    const index = random.nextInt(topic.partitions);
    const moving = topic.reassignments?.[index];
    // A move under way is mostly left to finish; sometimes cancelled or sent elsewhere.
    if (moving !== undefined && random.chance(0.6)) return;
    if (moving !== undefined && random.chance(0.5)) {
      this.controller({ type: 'reassign-partitions', name: 'data', moves: [{ index, replicas: null }] });
      this.count('move cancelled');
      this.log(`controller: move of data-${index} to [${moving.join(',')}] cancelled`);
    } else {
      const target = this.replicaSet(index + random.nextInt(5));
      this.controller({ type: 'reassign-partitions', name: 'data', moves: [{ index, replicas: target }] });
      this.count(moving === undefined ? 'move started' : 'move replaced');
      this.log(`controller: data-${index} moves from [${topic.assignments[index]!.join(',')}] to [${target.join(',')}]`);
    }
    this.tellBrokers();
  }

  /** Applies a command as the controller's state machine; a refusal of the simulation's own command is a bug in it. */
  private controller(cmd: MetadataCommand): void {
    const result = this.metadata.apply(cmd);
    if (result.error !== null) throw new Error(`the simulated controller refused ${cmd.type}: ${result.message ?? result.error}`);
  }

  /** A partition leader reports a finished move: decided now, in event order, answered a little later as a forwarded command is. */
  private controllerDecides(cmd: MetadataCommand): Promise<MetadataResult> {
    const result = this.metadata.apply(cmd);
    if (result.error === null) {
      this.count('move completed');
      this.log(`controller: ${cmd.type} applied: ${JSON.stringify(cmd)}`);
      this.tellBrokers();
    }
    return new Promise<MetadataResult>((resolve) => this.clock.setTimer(this.random.between(1, 20), () => resolve(result)));
  }

  /** Every live broker hears of the change after its own delay, as each applies the controller's log. */
  private tellBrokers(): void {
    for (const broker of this.brokers) this.clock.setTimer(this.random.between(1, 50), () => broker.reconcile());
  }

  private count(outcome: string): void {
    this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
  }

  // ---- liveness ----

  /** Ends every fault: a whole network without loss, fast disks, every broker started. */
  private healAll(): void {
    this.network.heal();
    this.network.dropRate = 0;
    this.network.duplicateRate = 0;
    this.network.minDelayMs = 1;
    this.network.maxDelayMs = 5;
    for (const broker of this.brokers) {
      broker.disk.slowUntilMs = 0;
      if (!broker.up) this.start(broker);
    }
  }

  private startLiveness(): void {
    this.phase = 'liveness';
    this.livenessDeadlineMs = this.clock.now() + this.livenessTicks * TICK_MS;
    this.healAll();
    this.log('liveness phase: all faults healed, every broker up');
    for (const producer of this.livenessProducers) producer.next();
  }

  private startFailover(): void {
    this.phase = 'failover';
    this.healAll();
    this.failover = { stage: 'settling', victim: null, notices: 0, deadlineMs: this.clock.now() + this.livenessTicks * TICK_MS, kind: 'plain' };
    this.log('failover phase: all faults healed; a leader is killed once everything settled');
  }

  /**
   * After each event of the failover phase: once settled, arm the kill of a partition leader; kill it
   * right after its groups send quiesce notices (or at the armed deadline); then, with it down, wait for
   * every partition to have a writable leader that took a produce, and go on to the liveness phase.
   */
  private stepFailover(): void {
    const f = this.failover!;
    const now = this.clock.now();
    if (f.stage === 'settling') {
      if (this.failoverUnsettled() === null) {
        f.stage = 'armed';
        const target = this.failoverOfCoordinator ? this.stateKey! : this.keys[0]!;
        f.victim = writableLeader(this.brokers, target);
        f.notices = f.victim!.quiesceNoticesSent();
        // Without quiescence (or with nothing left to quiesce) the kill comes at a random moment.
        f.deadlineMs = now + this.faultRandom.between(0, 40 * TICK_MS);
        this.log(`failover: everything settled; broker ${f.victim!.id} (leader of ${target}) is to be killed`);
      } else if (now > f.deadlineMs) {
        // Never settled (a seed whose faults left long catch-ups): the liveness phase checks it all.
        this.log(`failover skipped: not settled in ${this.livenessTicks} ticks (${this.failoverUnsettled()})`);
        this.failover = null;
        this.startLiveness();
      }
      return;
    }
    const victim = f.victim!;
    if (f.stage === 'armed') {
      const noticed = victim.quiesceNoticesSent() > f.notices;
      if (!noticed && now < f.deadlineMs) return;
      f.kind = noticed ? 'after-notice' : 'plain';
      victim.crash(false);
      this.crashes++;
      this.log(`failover: broker ${victim.id} was killed${noticed ? ' right after sending quiesce notices' : ''}; it stays down`);
      // The others hear of it within the time a message takes, so the loss of the link may be told
      // before the victim's last messages arrive (its two connections close in no set order).
      const incarnation = victim.incarnation;
      for (const other of this.brokers) {
        if (other === victim) continue;
        this.clock.setTimer(this.faultRandom.between(0, this.network.maxDelayMs), () => {
          if (!victim.up && victim.incarnation === incarnation) other.linkChanged(victim.id, 'down');
        });
      }
      f.stage = 'down';
      f.deadlineMs = now + this.livenessTicks * TICK_MS;
      for (const producer of this.failoverProducers) producer.next();
      return;
    }
    const problem = this.failoverProblem(victim);
    if (problem === null) {
      this.log(`failover: every partition led and writable without broker ${victim.id}`);
      this.startLiveness();
    } else if (now > f.deadlineMs) {
      this.checker.fail('liveness', `broker ${victim.id} down: ${problem} ${this.livenessTicks} ticks after it was killed`);
    }
  }

  /** What keeps the cluster from being ready for the failover (every broker serving, no move, no catch-up), or null. */
  private failoverUnsettled(): string | null {
    const booting = this.brokers.filter((b) => !b.ready);
    if (booting.length > 0) return `broker(s) ${booting.map((b) => b.id).join(', ')} not started`;
    if (partitionsMoving(this.metadata.topic('data')!).length > 0 || !this.membershipSettled()) return 'partitions moving';
    if (this.brokers.some((b) => b.refilling || b.joining)) return 'a replica still joining';
    if (this.producers.some((p) => !p.idle) || this.txnProducers.some((p) => !p.idle)) return 'producers still retrying';
    for (const key of this.allKeys()) if (writableLeader(this.brokers, key) === null) return `no writable leader of ${key}`;
    if (this.stateKey !== null && !this.coordinatorServes(this.brokers)) return 'no transaction coordinator loaded';
    return null;
  }

  /** Whether a writable leader of `__transaction_state` among `brokers` has its coordinator loaded. */
  private coordinatorServes(brokers: readonly PartitionBroker[]): boolean {
    const leader = writableLeader(brokers, this.stateKey!);
    return leader?.txnRouter()?.coordinatorOf('').loaded === true;
  }

  /** Why the partitions are not all led and writable without `victim`, or null. */
  private failoverProblem(victim: PartitionBroker): string | null {
    if (this.stateKey !== null && !this.coordinatorServes(this.brokers.filter((b) => b !== victim))) return 'no transaction coordinator loaded';
    for (const key of this.keys) {
      const leader = writableLeader(this.brokers.filter((b) => b !== victim), key);
      if (leader === null) return `no writable leader of ${key}`;
      if (this.failoverProducers.some((p) => p.partition === key && p.acknowledgedBatches === 0)) return `no produce to ${key} has succeeded`;
    }
    return null;
  }

  /** Why the cluster has not converged yet, or null once it has. */
  private livenessProblem(): string | null {
    const booting = this.brokers.filter((b) => !b.ready);
    if (booting.length > 0) return `broker(s) ${booting.map((b) => b.id).join(', ')} not started`;
    const moving = partitionsMoving(this.metadata.topic('data')!);
    if (moving.length > 0) return `partition(s) ${moving.join(', ')} still moving`;
    for (const broker of this.brokers) {
      const stray = this.keys.filter((key) => broker.partition(key) !== undefined && !broker.hosted().some((h) => h.key === key));
      if (stray.length > 0) return `broker ${broker.id} still holds ${stray.join(', ')}, moved away`;
    }
    if (this.stateKey !== null) {
      // Every transaction decided and its markers written (a takeover finishes what its predecessor left).
      const unfinished = this.checker.periods.unfinished();
      if (unfinished.length > 0) return `transaction(s) not complete: ${unfinished.join(', ')}`;
      const busy = this.txnProducers.filter((p) => !p.idle);
      if (busy.length > 0) return `transactional producer(s) ${busy.map((p) => p.name).join(', ')} still at work`;
      if (!this.coordinatorServes(this.brokers)) return 'no transaction coordinator loaded';
    }
    for (const key of this.allKeys()) {
      const leader = writableLeader(this.brokers, key);
      if (leader === null) return `no writable leader of ${key}`;
      const data = key !== this.stateKey;
      if (data && this.livenessProducers.some((p) => p.partition === key && p.acknowledgedBatches === 0)) return `no produce to ${key} has succeeded yet`;
      const busy = this.producers.filter((p) => !p.idle);
      if (busy.length > 0) return `producer(s) ${busy.map((p) => p.name).join(', ')} still retrying`;
      const end = leader.partition(key)!.logEndOffset;
      for (const broker of this.brokers) {
        const partition = broker.partition(key);
        if (partition === undefined) continue;
        if (partition.logEndOffset !== end || partition.highWatermark !== end) {
          return `broker ${broker.id} ${key}: log end ${partition.logEndOffset}, high watermark ${partition.highWatermark}; leader ${leader.id} log end ${end}`;
        }
      }
      const behind = this.consumers.filter((c) => data && c.partition === key && c.readCommitted && c.position < end);
      if (behind.length > 0) {
        return `read_committed consumer(s) ${behind.map((c) => `${c.name} at ${c.position}`).join(', ')}; ${key} ends at ${end}, last stable offset ${leader.partition(key)!.lastStableOffset}`;
      }
    }
    return null;
  }

  /**
   * Tells the checker what a replica just opened holds below its stored high watermark (see
   * PartitionChecker.storedCommitted). MemDisk reads complete in microtasks, so this finishes before
   * the replica applies anything or any simulated time passes.
   */
  private readStoredCommits(broker: number, key: string, partition: Partition, end: number): void {
    void (async () => {
      const batches: Buffer[] = [];
      for await (const { batch } of partition.batches(partition.logStartOffset, end)) batches.push(Buffer.from(batch));
      this.checker.storedCommitted(broker, key, batches);
    })().catch((e: unknown) => this.checker.fail('stored commits readable', `broker ${broker} ${key}: ${describe(e)}`));
  }

  /** Reads every replica's whole log and compares it with what was committed, acknowledged and consumed. */
  private async compareLogs(): Promise<void> {
    for (const key of this.allKeys()) {
      const logs = new Map<number, { logStartOffset: number; batches: StoredBatch[] }>();
      const transactions = new Map<number, ReplicaTransactions>();
      for (const broker of this.brokers) {
        const partition = broker.partition(key);
        if (partition === undefined) continue;
        transactions.set(broker.id, {
          logStartOffset: partition.logStartOffset,
          highWatermark: partition.highWatermark,
          lastStableOffset: partition.lastStableOffset,
          aborted: partition.abortedTransactions(partition.logStartOffset, partition.logEndOffset),
        });
        // MemDisk reads complete in microtasks: no simulated time passes.
        const batches: StoredBatch[] = [];
        for await (const { batch, header } of partition.batches(partition.logStartOffset, partition.logEndOffset)) {
          batches.push({ baseOffset: Number(header.baseOffset), bytes: Buffer.from(batch) });
        }
        logs.set(broker.id, { logStartOffset: partition.logStartOffset, batches });
      }
      this.checker.finalLogs(key, logs);
      if (key === this.stateKey) continue;
      const readers = this.consumers.filter((c) => c.partition === key && c.readCommitted).map((c) => c.name);
      this.checker.finalTransactions(key, transactions, readers);
    }
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
