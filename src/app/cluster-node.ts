/**
 * A broker's membership in a cluster (cluster.nodes names other brokers too): the inter-broker
 * transport on server.grpcPort, the multi-raft host, the controller's Raft group over the brokers of
 * cluster.nodes with its log under storage.raftDir, this broker's registration, and the hosting of the
 * partitions the metadata places here.
 *
 * A broker outside cluster.nodes (added to a running cluster, as the 4th and 5th brokers of a cluster
 * whose list names 3) registers through the listed brokers; the controller's leader then adds it to the
 * controller group as a learner, so it follows the metadata without voting, and balancing gives it
 * replicas. Decommissioned, it leaves the group once it holds nothing.
 *
 * start() returns once the controller has a leader, the cluster is named, and this broker is
 * registered with its current addresses: from then on its metadata is caught up (the registration
 * applied here) and it may serve clients. Until a quorum of cluster.nodes is up it waits, logging which
 * peers it reaches; it never serves as a cluster of its own.
 */
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { BrokerConfig } from '../config/index.ts';
import type { Clock, TimerHandle } from '../io/clock.ts';
import type { Disk } from '../io/disk.ts';
import type { Logger } from '../observability/logger.ts';
import type { BrokerMetrics } from '../observability/metrics.ts';
import { PeerTransport } from '../net/peer-transport.ts';
import type { PeerChannel } from '../replication/peer-channel.ts';
import type { ServerTls } from '../security/server-tls.ts';
import { clusterIdentity } from '../protocol/cluster/handshake.ts';
import type { TopicRecord } from '../metadata/cluster-state.ts';
import { desiredReplicas, replicaSet } from '../metadata/reassignment.ts';
import { drainMoves } from '../metadata/drain-plan.ts';
import { balanceMoves } from '../metadata/balance-plan.ts';
import { FileRaftLogStore } from '../replication/file-raft-log-store.ts';
import { MultiRaft } from '../replication/multi-raft.ts';
import type { RaftDriver } from '../replication/raft-driver.ts';
import { RaftTicker } from '../replication/raft-ticker.ts';
import { raftTiming } from '../replication/raft-timing.ts';
import { every, type PeriodicTimer } from '../io/periodic-timer.ts';
import type { LogSettings, PartitionManager } from '../replication/partition-manager.ts';
import { PartitionHosting } from '../replication/partition-hosting.ts';
import { ControllerStateMachine } from '../replication/controller/controller-state-machine.ts';
import { storedClusterId, storedConfState } from '../replication/controller/stored-controller-log.ts';
import { nextMembershipStep } from '../replication/controller/controller-membership.ts';
import { ReplicatedMetadata } from '../replication/controller/replicated-metadata.ts';
import { ControllerClusterView } from '../replication/controller/controller-cluster-view.ts';
import { StreamBusError } from '../util/errors.ts';
import { LeadershipTable } from '../replication/leadership-table.ts';
import { LeadershipGossip } from '../replication/leadership-gossip.ts';
import { PartitionReplicas } from '../replication/partition-replicas.ts';
import { PartitionMover } from '../replication/partition-moves.ts';
import type { PartitionReplica, ReplicaLeadership } from '../replication/partition-replica.ts';
import { ControllerBootstrap } from '../replication/controller/controller-bootstrap.ts';
import { loadOrCreateIdentity } from './broker-identity.ts';
import { DeadBrokerWatch } from './dead-broker-watch.ts';
import { ByteRateBudget } from '../replication/send-budget.ts';
import { registerReplicationMetrics } from './replication-metrics.ts';
import { handOverTarget } from './hand-over.ts';
import { StoppingPeers } from '../replication/stopping-peers.ts';

/** In the controller's log folder while its replica joins without voting (controller-bootstrap.ts). */
export const CONTROLLER_JOINING_FILE = 'raft.joining';
/** Between two rounds of asking the listed brokers whether the cluster is new. */
const BOOTSTRAP_ASK_MS = 500;
/** The controller's Raft group id (partition groups get theirs from the controller). */
export const CONTROLLER_GROUP = 0;
/** How long a metadata command waits for the controller before REQUEST_TIMED_OUT. */
const SUBMIT_TIMEOUT_MS = 30_000;
/** Between progress lines while waiting for a quorum. */
const WAIT_LOG_MS = 10_000;
const REGISTER_RETRY_MS = 500;
/** How long joining waits for connections to the other registered brokers (at least an election timeout). */
const PEER_WAIT_MS = 2_000;
/** Controller log entries kept below a snapshot, so a follower a little behind catches up from the log. */
const CONTROLLER_KEEP_ENTRIES = 1_000;
/** Between two samples of the in-sync replicas of the partitions led here (and their report to the other brokers). */
const ISR_SAMPLE_MS = 500;
/** Every this many ISR samples (5 s), the leadership gossip sends its full digest even if nothing changed. */
const GOSSIP_REPAIR_SAMPLES = 10;
/** Heartbeat intervals an idle partition group's leader waits before it quiesces the group. */
const QUIESCE_HEARTBEATS = 2;
/** Longest a stop waits for the controller log to close (ClusterNode.stop). */
const CONTROLLER_CLOSE_WAIT_MS = 3_000;
/** At most one hand-over per group to its preferred replica in this long. */
const PREFERRED_TRANSFER_GAP_MS = 5_000;
/**
 * Partitions moving at once at most while brokers are decommissioned (drain-plan.ts): each move copies
 * a partition's log to a new broker, so a few at a time leave the disks and links to the clients.
 */
export const MAX_CONCURRENT_MOVES = 8;

export interface ClusterNodeOptions {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly metrics: BrokerMetrics;
  readonly disk: Disk;
  readonly clock: Clock;
  readonly partitions: PartitionManager;
  /** Mutual TLS between brokers (security.tls); plaintext when absent. */
  readonly tls?: ServerTls;
}

export class ClusterNode {
  private stopping = false;
  private hosting: PartitionHosting | null = null;
  private readonly up = new Set<number>();
  private snapshotTimer: PeriodicTimer | null = null;
  private isrTimer: PeriodicTimer | null = null;
  /** When leadership of a group was last handed to its preferred replica from here. */
  private readonly transfers = new Map<number, number>();
  /** Hand-overs to the preferred replica tried in a row per group, for the log (reset when it leads elsewhere). */
  private readonly transferAttempts = new Map<number, number>();
  /** When this broker became leader of a group it leads. */
  private readonly ledSince = new Map<number, number>();
  /**
   * Per hosted group, the in-sync replicas its leader last reported, kept through the "no leader" step
   * of an election so that the next leader starts from them (partitionLeadership).
   */
  private readonly lastIsr = new Map<number, readonly number[]>();
  private readonly leadershipListeners: ((replica: PartitionReplica) => void)[] = [];

  private constructor(
    private readonly options: ClusterNodeOptions,
    readonly metadata: ReplicatedMetadata,
    readonly view: ControllerClusterView,
    private readonly transport: PeerTransport,
    private readonly multiRaft: MultiRaft,
    private readonly ticker: RaftTicker,
    private readonly store: FileRaftLogStore,
    readonly incarnationId: string,
    readonly leaders: LeadershipTable,
  ) {}

  /** The inter-broker transport, for layers with messages of their own (transaction markers). */
  get channel(): PeerChannel {
    return this.transport;
  }

  /** Raft groups hosted here (the controller group and a group per partition replica), and those quiesced now. */
  raftGroups(): { hosted: number; quiesced: number } {
    return { hosted: this.multiRaft.size, quiesced: this.multiRaft.quiescedCount() };
  }

  /** cluster.learnerRecoveryRate shared by the partition groups led here; null without a limit. */
  learnerBudget: ByteRateBudget | null = null;
  /** ISR samples taken (sampleLeadership). */
  private samples = 0;
  /** cluster.deadBrokerTimeout, on the controller's leader. */
  private deadBrokers!: DeadBrokerWatch;
  /** The last refusal logged per broker the watch could not re-create, so it is said once. */
  private readonly deadBrokerRefusals = new Map<number, string>();

  /** The partition replicas hosted here (set once open() built them). */
  replicas!: PartitionReplicas;
  /** Tells the other brokers which partitions this one leads (set once open() built it). */
  private gossip!: LeadershipGossip;
  /** Peers that said they are stopping: never handed a group's leadership. */
  private stoppingPeers!: StoppingPeers;
  /** The controller group's driver here (set once open() built it). */
  private controller!: RaftDriver;
  /** Takes the membership steps of partitions being moved that this broker leads (set once open() built it). */
  private mover!: PartitionMover;
  private handOverStarted = false;
  /** Why a decommissioned voter's removal from the controller waits, as last logged (controller leader only). */
  private heldVoterRemoval: string | null = null;
  /** A round of decommissioning or balancing moves is being submitted (controller leader only). */
  private movesSubmitting = false;

  /** Builds every part and starts the network; call join() next. */
  static async open(options: ClusterNodeOptions): Promise<ClusterNode> {
    const { config, log, disk, clock, metrics } = options;
    const self = config.server.brokerId;
    const identity = await loadOrCreateIdentity(disk, [config.storage.dataDir, config.storage.raftDir], self, () => randomUUID());
    log.info({ brokerId: self, incarnationId: identity.incarnationId, created: identity.created }, 'broker identity');
    const voters = config.cluster.nodes.map((n) => n.id).sort((a, b) => a - b);
    const added = !voters.includes(self);
    if (added) log.info({ brokerId: self, listed: voters }, 'this broker is not in cluster.nodes: it joins the cluster of those brokers as an added broker (a learner of the controller group)');
    const store = await FileRaftLogStore.open(join(config.storage.raftDir, 'controller'), disk, { initialConfState: { voters, learners: [] } });
    const r = store.recovery;
    log.info({ dir: join(config.storage.raftDir, 'controller'), ...r }, 'controller log opened');
    const committed = store.hardState().commit;
    const stored = storedConfState(store, committed).voters;
    const unknown = stored.filter((id) => !voters.includes(id));
    if (unknown.length > 0) {
      await store.close();
      throw new StreamBusError(
        'SB_ERR_BROKER_IDENTITY',
        `the controller log under ${config.storage.raftDir} names voters ${unknown.join(', ')} that cluster.nodes does not list; ` +
          'a broker cannot reach voters it has no address for. Add them to cluster.nodes (a voter leaves by being decommissioned: docs/operations.md).',
      );
    }
    if ([...stored].sort((a, b) => a - b).join(',') !== voters.join(',')) {
      log.warn({ configured: voters, stored }, 'cluster.nodes differs from the controller voters this broker recorded; the recorded voters stay in force (the controller leader makes listed brokers voters once caught up, decommissioning removes them)');
    }
    // An empty controller log on a listed broker: a new cluster or a replaced disk. It joins without
    // voting until it knows which (controller-bootstrap.ts); the marker keeps that across restarts.
    const controllerDir = join(config.storage.raftDir, 'controller');
    const joiningMarker = join(controllerDir, CONTROLLER_JOINING_FILE);
    const emptyLog = !controllerLogHoldsEntries(store);
    const joining = !added && (emptyLog || (await disk.fileSize(joiningMarker)) !== undefined);
    if (joining && emptyLog) {
      await disk.writeFileDurable(joiningMarker, new Uint8Array(0));
      await disk.syncDir(controllerDir);
    }
    if (joining) log.info({ emptyLog }, 'the controller replica here joins without voting until it knows the cluster (new, or this broker caught up)');
    const transport = new PeerTransport(
      {
        brokerId: self,
        // The transport's incarnation tells a restarted process from the old one's connections.
        incarnationId: randomUUID(),
        // Once known, the cluster id; so cluster.nodes may be edited broker by broker (handshake.ts).
        cluster: clusterIdentity(storedClusterId(store, committed), voters),
        nodes: config.cluster.nodes.map((n) => ({ id: n.id, host: n.host, grpcPort: n.grpcPort })),
        listenHost: config.server.host,
        ...(added ? { listenPort: config.server.grpcPort } : {}),
        ...(options.tls === undefined ? {} : { tls: { options: () => options.tls!.contextOptions(), onChange: (listener: () => void) => options.tls!.onChange(listener) } }),
        // A broker the operator decommissioned is meant to go away: its absence is not worth a warning.
        expectedUp: (peer) => {
          const registered = metadata?.initialised ? metadata.state.broker(peer) : undefined;
          return registered?.draining !== true || registered.autoDrained === true;
        },
      },
      log,
    );
    const timing = raftTiming(config.raft.heartbeatTimeout, config.raft.electionTimeout);
    const ticker = new RaftTicker(clock, timing.tickMs);
    const multiRaft = new MultiRaft({ brokerId: self, channel: transport, ticker, log });
    const machine = new ControllerStateMachine();
    const presentClusterId = (): void => {
      if (machine.state !== null) transport.setCluster(clusterIdentity(machine.state.clusterId, voters));
    };
    machine.listen({ applied: () => undefined, reset: presentClusterId });
    let metadata: ReplicatedMetadata | undefined;
    const driver = multiRaft.addGroup(CONTROLLER_GROUP, {
      id: self,
      store,
      stateMachine: machine,
      random: { nextInt: (n: number) => Math.floor(Math.random() * n) },
      // Joining with an empty log, it learns the term from the other voters first (RaftConfig.lostLogMembers).
      settings: { electionTicks: timing.electionTicks, heartbeatTicks: timing.heartbeatTicks, probeRetryTicks: timing.probeRetryTicks, preVote: true, checkQuorum: true, ...(joining ? { lostLogMembers: voters } : {}) },
      snapshots: { everyEntries: config.raft.snapshotThreshold, keepEntries: CONTROLLER_KEEP_ENTRIES },
      onSoftState: (state, term) => {
        metrics.raftLeader.set(state.lead === self ? 1 : 0);
        metrics.raftTerm.set(term);
        log.info({ leader: state.lead === 0 ? null : state.lead, role: state.role, term }, 'controller leadership');
        metadata?.leadershipChanged(state, term);
      },
      onFailure: (err) => log.fatal({ err }, 'the controller group stopped on this broker; restart the broker'),
      joining,
      onJoined: async () => {
        await removeMarker(disk, joiningMarker, log);
        log.info('the controller replica here votes from now on');
      },
    });
    const bootstrap = new ControllerBootstrap({
      brokerId: self,
      channel: transport,
      listedPeers: voters.filter((id) => id !== self),
      holdsEntries: () => controllerLogHoldsEntries(store),
      log,
    });
    metadata = new ReplicatedMetadata({
      brokerId: self,
      driver,
      stateMachine: machine,
      channel: transport,
      clock,
      newClusterId: () => randomUUID(),
      random: Math.random,
      submitTimeoutMs: SUBMIT_TIMEOUT_MS,
      ...(added ? { contacts: voters } : {}),
      log,
    });
    const leaders = new LeadershipTable();
    const replicationMetrics = registerReplicationMetrics(metrics.registry, () => node.replicas, () => node.learnerBudget);
    const node: ClusterNode = new ClusterNode(
      options,
      metadata,
      new ControllerClusterView({
        brokerId: self,
        metadata,
        partitions: options.partitions,
        leaders,
        controllerId: () => metadata.leaderId,
        isAlive: (id): boolean => node.up.has(id),
        reachesQuorum: (): boolean => {
          // The controller's voters as they are now (decommissioned voters leave), not cluster.nodes.
          const current = driver.raft.confState().voters;
          return current.filter((id) => id === self || node.up.has(id)).length * 2 > current.length;
        },
      }),
      transport,
      multiRaft,
      ticker,
      store,
      identity.incarnationId,
      leaders,
    );
    const learnerBudget = config.cluster.learnerRecoveryRate > 0 ? new ByteRateBudget(config.cluster.learnerRecoveryRate, () => clock.now()) : undefined;
    node.learnerBudget = learnerBudget ?? null;
    node.replicas = new PartitionReplicas({
      brokerId: self,
      metadata,
      multiRaft,
      disk,
      settings: {
        electionTicks: timing.electionTicks,
        heartbeatTicks: timing.heartbeatTicks,
        probeRetryTicks: timing.probeRetryTicks,
        preVote: true,
        checkQuorum: true,
        // The followers write a produced batch while the leader does (docs/replication.md).
        leaderWritesInParallel: true,
        ...(learnerBudget === undefined ? {} : { learnerSendBudget: learnerBudget }),
      },
      // Two heartbeat intervals idle: the followers heard the final commit index and answered.
      ...(config.raft.quiesce ? { quiesce: { afterTicks: QUIESCE_HEARTBEATS * timing.heartbeatTicks } } : {}),
      channelMaxBytes: transport.maxMessageBytes,
      now: () => clock.now(),
      syncEntries: config.storage.syncInterval === 0,
      hardStateDir: config.storage.dataDir,
      onCommitted: (seconds) => replicationMetrics.commitSeconds.observe(seconds),
      onLeadership: (replica, leadership) => node.partitionLeadership(replica, leadership),
      log,
    });
    options.partitions.replicateWith(node.replicas);
    node.mover = new PartitionMover({ brokerId: self, metadata, log });
    node.deadBrokers = new DeadBrokerWatch(config.cluster.deadBrokerTimeout);
    node.stoppingPeers = new StoppingPeers({ channel: transport, peers: () => node.peerIds() });
    node.gossip = new LeadershipGossip({ brokerId: self, channel: transport, table: leaders, led: () => node.ledPartitions(), ledEntry: (groupId) => node.ledPartition(groupId), peers: () => node.peerIds(), log });
    // Brokers added outside cluster.nodes are reached at the addresses they registered.
    const learnAddresses = () => {
      if (metadata.initialised) transport.setAddresses(metadata.state.brokers().map((b) => ({ id: b.id, host: b.host, grpcPort: b.grpcPort })));
    };
    metadata.onChange((cmd) => {
      if (cmd.type === 'register-broker') learnAddresses();
    });
    metadata.onReset(learnAddresses);
    transport.onPeerState((peer, state) => {
      if (state === 'up') node.up.add(peer);
      else node.up.delete(peer);
      log.info({ peer, state }, 'peer broker');
    });
    await transport.start();
    ticker.start();
    // The time-based snapshot trigger; the entry-count one is the snapshot policy above.
    node.snapshotTimer = every(clock, config.raft.snapshotInterval, () => driver.requestSnapshot());
    node.isrTimer = every(clock, ISR_SAMPLE_MS, () => node.sampleLeadership());
    node.controller = driver;
    if (joining && emptyLog) node.decideBootstrap(bootstrap, () => removeMarker(disk, joiningMarker, log));
    return node;
  }

  /** Brokers of cluster.nodes not yet heard on whether they hold a controller log; null once decided. */
  private bootstrapWaitingFor: (() => number[]) | null = null;

  /**
   * Asks the other listed brokers whether any holds a controller log, until decided
   * (controller-bootstrap.ts). A new cluster: vote at once. An existing one: keep joining.
   */
  private decideBootstrap(bootstrap: ControllerBootstrap, removeMarker: () => Promise<void>): void {
    const { clock, log } = this.options;
    this.bootstrapWaitingFor = () => bootstrap.waitingFor;
    let decided = false;
    const timer = every(clock, BOOTSTRAP_ASK_MS, () => {
      if (this.stopping || decided) {
        timer.cancel();
        bootstrap.abandon();
        return;
      }
      bootstrap.ask();
    });
    bootstrap.ask();
    void bootstrap.decide().then(async (decision) => {
      decided = true;
      this.bootstrapWaitingFor = null;
      timer.cancel();
      // Entries may have come from a leader meanwhile: then the cluster exists after all.
      if (decision !== 'new-cluster' || controllerLogHoldsEntries(this.store) || this.stopping) return;
      // The marker goes first: a crash before endJoining then restarts as a broker that has voted for nothing yet.
      await removeMarker();
      this.controller.endJoining();
    }).catch((err: unknown) => log.error({ err }, 'deciding whether the cluster is new failed'));
  }

  /**
   * A graceful stop begins: every group led here (the controller's included) hands leadership to its
   * most caught-up reachable follower (a TimeoutNow transfer), so clients move on within a round trip
   * instead of an election timeout after the broker is gone. A leader transferring refuses new writes
   * (clients retry against the new leader); writes already proposed commit under the new leader.
   */
  startHandOver(): void {
    if (this.handOverStarted) return;
    this.handOverStarted = true;
    // First, so that brokers stopping at the same time hand nothing to this one.
    this.stoppingPeers.announce();
    const led = this.ledDrivers();
    for (const driver of led) this.transfer(driver);
    const alone = this.replicas.replicas().filter((r) => r.leading && !r.driver.stopped).length + (this.controller.raft.isLeader ? 1 : 0) - led.length;
    this.options.log.info({ groups: led.length, ...(alone > 0 ? { withoutOtherReplica: alone } : {}) }, 'handing over leadership before stopping');
    if (alone > 0) this.options.log.warn({ partitions: alone }, 'partitions with no other replica (replication factor 1) are offline until this broker is back');
  }

  /** Waits (at most `timeoutMs`) until this broker leads no group, starting again transfers that lapsed. */
  async finishHandOver(timeoutMs: number): Promise<void> {
    const { clock, log } = this.options;
    this.startHandOver();
    const started = clock.now();
    let led = this.ledDrivers();
    while (led.length > 0 && clock.now() - started < timeoutMs) {
      if (led.every((driver) => this.othersAllStopping(driver))) {
        // Brokers stopped together: nobody left to take these groups, so waiting only slows the stop.
        log.info({ groups: led.length, ms: clock.now() - started }, 'leadership not handed over: the other replicas are stopping too');
        return;
      }
      await new Promise<void>((resolve) => clock.setTimer(20, resolve));
      led = this.ledDrivers();
      // A group with no transfer in progress (none had a reachable target, or the core abandoned it
      // after an election timeout) tries again now rather than an election timeout later; one in
      // progress is left alone (transfer() skips it).
      for (const driver of led) this.transfer(driver);
    }
    if (led.length > 0) log.warn({ stillLeading: led.length, ms: clock.now() - started }, 'leadership not handed over in time; the other brokers elect after their election timeout');
    else log.info({ ms: clock.now() - started }, 'leadership handed over');
  }

  /** The other brokers: those of cluster.nodes and every registered one. */
  private peerIds(): number[] {
    const { config } = this.options;
    const ids = new Set(config.cluster.nodes.map((n) => n.id));
    if (this.metadata.initialised) for (const b of this.metadata.state.brokers()) ids.add(b.id);
    ids.delete(config.server.brokerId);
    return [...ids];
  }

  /**
   * The groups led here that another voter could lead. A group whose only voter is this broker (a
   * partition of replication factor 1) has nobody to hand over to: it is offline until this broker is
   * back, and waiting for it would only hold the stop for server.shutdownTimeout / 2.
   */
  private ledDrivers(): RaftDriver[] {
    const self = this.options.config.server.brokerId;
    const others = (d: RaftDriver): boolean => d.raft.confState().voters.some((v) => v !== self);
    const led = this.replicas.replicas().filter((r) => r.leading && !r.driver.stopped && others(r.driver)).map((r) => r.driver);
    if (this.controller.raft.isLeader && !this.controller.stopped && others(this.controller)) led.push(this.controller);
    return led;
  }

  /** Starts a transfer of `driver`'s group to handOverTarget(), unless one is in progress. */
  private transfer(driver: RaftDriver): void {
    const status = driver.raft.status();
    if (status.leadTransferee !== 0) return;
    const target = handOverTarget(status, (id) => this.up.has(id) && !this.stoppingPeers.has(id));
    if (target !== 0) driver.transferLeader(target);
  }

  /** Whether every other voter of `driver`'s group said it is stopping. */
  private othersAllStopping(driver: RaftDriver): boolean {
    const self = this.options.config.server.brokerId;
    return driver.raft.confState().voters.every((v) => v === self || this.stoppingPeers.has(v));
  }

  /** Called after any partition replica here saw its group's leadership change. */
  onPartitionLeadership(listener: (replica: PartitionReplica) => void): void {
    this.leadershipListeners.push(listener);
  }

  private partitionLeadership(replica: PartitionReplica, { groupId, leader, term }: ReplicaLeadership): void {
    const self = this.options.config.server.brokerId;
    const known = this.leaders.get(groupId);
    if (leader === self && !(known?.leader === self && known.term === term)) this.ledSince.set(groupId, this.options.clock.now());
    if (leader !== self) {
      this.ledSince.delete(groupId);
      this.transferAttempts.delete(groupId);
    }
    // A change of leader alone does not make a caught-up replica lag (Kafka keeps the ISR across leader
    // elections too): a new leader starts from the in-sync replicas last reported, less brokers out of
    // reach, and they stay unless they then lag (PartitionReplica.presumeInSync); without this every
    // leadership change, planned moves included, showed the partition under-replicated for a while.
    if (known !== undefined && known.leader >= 0 && known.isr.length > 0) this.lastIsr.set(groupId, known.isr);
    const news = !(known?.leader === leader && known.term === term);
    const carried = !news || leader < 0 ? [] : (this.lastIsr.get(groupId) ?? []).filter((id) => id === self || id === leader || this.up.has(id));
    if (leader === self) {
      if (news) replica.presumeInSync(carried);
      this.leaders.observe(groupId, leader, term, union(this.replicas.inSyncReplicas(replica), carried));
    } else if (known === undefined || known.term < term || (known.term === term && known.leader === -1)) {
      // A follower knows the leader but not yet its report, which brings the measured ISR.
      this.leaders.observe(groupId, leader, term, carried.length === 0 ? [] : union([leader], carried));
    }
    if (leader !== self) this.leaders.stepDown(groupId, self, term);
    this.gossip.changedGroups([groupId]);
    for (const listener of this.leadershipListeners) listener(replica);
  }

  /** Refreshes the in-sync replicas of the partitions led here and repeats them to the other brokers. */
  private sampleLeadership(): void {
    const self = this.options.config.server.brokerId;
    const now = this.options.clock.now();
    const changed: number[] = [];
    for (const replica of this.replicas.replicas()) {
      if (!replica.leading) continue;
      this.mover.step(replica);
      const isr = this.replicas.inSyncReplicas(replica);
      if (this.leaders.observe(replica.groupId, self, replica.driver.raft.term, isr)) changed.push(replica.groupId);
      // Leadership goes back to the preferred replica once it is in sync (Kafka's automatic
      // preferred-leader election), so leaders stay spread as placement spread them.
      const topic = this.metadata.state.topic(replica.partition.topic);
      const preferred = topic === undefined ? undefined : desiredReplicas(topic, replica.partition.index)[0];
      if (preferred === undefined || preferred === self || !isr.includes(preferred) || !this.up.has(preferred) || this.stoppingPeers.has(preferred)) continue;
      if (now - (this.transfers.get(replica.groupId) ?? -Infinity) < PREFERRED_TRANSFER_GAP_MS) continue;
      // Not right after gaining leadership: the preferred replica may be the broker that just handed
      // it over because it is stopping.
      if (now - (this.ledSince.get(replica.groupId) ?? now) < PREFERRED_TRANSFER_GAP_MS) continue;
      this.transfers.set(replica.groupId, now);
      const result = replica.driver.transferLeader(preferred);
      const attempts = (this.transferAttempts.get(replica.groupId) ?? 0) + 1;
      this.transferAttempts.set(replica.groupId, attempts);
      // Said on the first try and when it keeps failing (the preferred replica does not take over:
      // still catching up after joining, say), not every PREFERRED_TRANSFER_GAP_MS.
      const where = { topic: replica.partition.topic, partition: replica.partition.index, to: preferred, attempts };
      if (!result.accepted) this.options.log.warn({ ...where, reason: result.reason }, 'hand-over to the preferred replica refused');
      else if (attempts === 1) this.options.log.info(where, 'handing leadership back to the preferred replica');
      else if (attempts === 3) this.options.log.warn(where, 'the preferred replica has not taken leadership after three hand-overs; trying every 5 s');
    }
    if (this.samples % 2 === 0) {
      this.replaceDeadBrokers();
      this.planMoves();
    }
    this.reconcileControllerMembers();
    // A changed in-sync set goes to the peers now; the full digest that repairs what the best-effort
    // channel dropped goes every GOSSIP_REPAIR_SAMPLES samples, so thousands of idle partitions do
    // not cost a digest of all of them twice a second.
    if (++this.samples % GOSSIP_REPAIR_SAMPLES === 0) {
      this.gossip.tick();
      // Groups deleted since (the table forgot them) leave no carried ISR behind.
      for (const groupId of this.lastIsr.keys()) if (this.leaders.get(groupId) === undefined) this.lastIsr.delete(groupId);
    } else if (changed.length > 0) this.gossip.changedGroups(changed);
  }

  /**
   * Whether a partition has a known leader and every member that is up is in its ISR (a member that is
   * down may be moved away: that is what decommissioning a dead broker does).
   */
  private settled(topicName: string, index: number): boolean {
    const topic = this.metadata.state.topic(topicName);
    const group = topic?.raftGroups[index];
    const entry = group === undefined ? undefined : this.leaders.get(group);
    if (topic === undefined || entry === undefined || entry.leader <= 0) return false;
    return replicaSet(topic, index).every((id) => !this.isReachable(id) || entry.isr.includes(id));
  }

  /** On the controller's leader: cluster.deadBrokerTimeout (dead-broker-watch.ts). */
  private replaceDeadBrokers(): void {
    const { config, log, clock } = this.options;
    if (this.metadata.leaderId !== config.server.brokerId || !this.metadata.initialised) {
      this.deadBrokers.reset();
      return;
    }
    const refusals = this.deadBrokerRefusals;
    for (const action of this.deadBrokers.check(this.metadata.state, (id) => this.isReachable(id), clock.now())) {
      const done = this.metadata.submit({ type: 'drain-broker', id: action.id, draining: action.draining, automatic: true }).then((result) => {
        if (result.error === null) {
          refusals.delete(action.id);
          if (action.draining) log.warn({ broker: action.id, unreachableMs: action.unreachableMs, timeoutMs: config.cluster.deadBrokerTimeout }, 'broker unreachable longer than cluster.deadBrokerTimeout: its replicas are re-created on the other brokers');
          else log.info({ broker: action.id }, 'broker reachable again: the automatic decommissioning is undone, balancing gives it replicas back');
        } else if (refusals.get(action.id) !== (result.message ?? result.error)) {
          // Refused (too few brokers left, typically) every round until that changes: said once.
          refusals.set(action.id, result.message ?? result.error);
          log.warn({ broker: action.id, error: result.error, reason: result.message }, 'cannot re-create the replicas of an unreachable broker');
        }
      });
      this.deadBrokers.track(action.id, done);
    }
  }

  /**
   * On the controller's leader: moves replicas off brokers being decommissioned (drain-plan.ts) and,
   * with cluster.partitionBalancing, evens replica counts (balance-plan.ts), a few partitions at a
   * time. Any broker could plan; one planner keeps the rounds from overlapping.
   */
  private planMoves(): void {
    const self = this.options.config.server.brokerId;
    if (this.movesSubmitting || this.metadata.leaderId !== self || !this.metadata.initialised) return;
    const plan = { maxMoving: MAX_CONCURRENT_MOVES, usable: (id: number) => this.isReachable(id), settled: (topic: string, index: number) => this.settled(topic, index) };
    const state = this.metadata.state;
    // Draining first; balancing only while nothing drains (and every broker is reachable: a broker
    // that is down would look empty and draw replicas it cannot take).
    let moves = drainMoves(state, plan);
    const why = moves.length > 0 ? 'decommission' : 'balance';
    if (moves.length === 0 && this.options.config.cluster.partitionBalancing && state.brokers().every((b) => b.draining === true || this.isReachable(b.id))) {
      moves = balanceMoves(state, plan);
    }
    if (moves.length === 0) return;
    const byTopic = new Map<string, { index: number; replicas: number[] }[]>();
    for (const m of moves) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), { index: m.index, replicas: m.replicas }]);
    this.movesSubmitting = true;
    const { log } = this.options;
    void Promise.all(
      [...byTopic].map(([name, list]) =>
        this.metadata.submit({ type: 'reassign-partitions', name, moves: list }).then((result) => {
          if (result.error === null) log.info({ topic: name, moves: list }, why === 'decommission' ? 'decommission: partitions moving off draining brokers' : 'balancing: partitions moving to brokers holding fewer replicas');
          else log.warn({ topic: name, error: result.error, reason: result.message }, `${why}: moving partitions refused; retrying`);
        }),
      ),
    ).finally(() => (this.movesSubmitting = false));
  }

  /**
   * On the controller's leader: the controller group's members follow the registered brokers
   * (controller-membership.ts): decommissioned voters leave once they hold nothing, listed learners
   * become voters once caught up, other brokers follow as learners.
   */
  private reconcileControllerMembers(): void {
    const { config, log } = this.options;
    const self = config.server.brokerId;
    if (this.metadata.leaderId !== self || !this.metadata.initialised || this.controller.stopped) return;
    const state = this.metadata.state;
    const raft = this.controller.raft;
    const { step, held } = nextMembershipStep({
      self,
      conf: raft.confState(),
      brokers: state.brokers(),
      listed: new Set(config.cluster.nodes.map((n) => n.id)),
      holds: (id) => state.holds(id),
      reachable: (id) => id === self || this.isReachable(id),
      caughtUp: (id) => {
        const progress = raft.status().progress?.get(id);
        return progress !== undefined && progress.state === 'replicate' && progress.match >= raft.commitIndex;
      },
    });
    if (held !== null && this.heldVoterRemoval !== held.reason) log.warn({ broker: held.voter, reason: held.reason }, 'controller: a decommissioned voter cannot leave the controller yet');
    this.heldVoterRemoval = held?.reason ?? null;
    if (step === null) return;
    if (step.kind === 'transfer-leadership') {
      const result = this.controller.transferLeader(step.to);
      if (result.accepted) log.info({ to: step.to }, 'controller: this broker is decommissioned and leaves the controller group; handing its leadership over first');
      return;
    }
    const { change } = step;
    const result = this.controller.proposeConfChange(change, () => undefined);
    if (!result.accepted) return;
    const why =
      change.type === 'addLearner'
        ? 'controller: a registered broker follows the metadata as a learner'
        : change.type === 'promoteLearner'
          ? 'controller: a broker of cluster.nodes becomes a voter'
          : raft.confState().voters.includes(change.nodeId)
            ? 'controller: a decommissioned voter leaves the controller quorum'
            : 'controller: a decommissioned broker leaves the controller group';
    log.info({ broker: change.nodeId, change: change.type }, why);
  }

  /** The groups led here as the leadership table has them (sampleLeadership keeps their ISR fresh). */
  private *ledPartitions(): Iterable<{ groupId: number; term: number; isr: readonly number[] }> {
    for (const replica of this.replicas.replicas()) {
      if (replica.leading) yield this.digestEntry(replica);
    }
  }

  /** Group `groupId` as ledPartitions() lists it, or null when not led here. */
  private ledPartition(groupId: number): { groupId: number; term: number; isr: readonly number[] } | null {
    const replica = this.replicas.replica(groupId);
    return replica !== undefined && replica.leading ? this.digestEntry(replica) : null;
  }

  private digestEntry(replica: PartitionReplica): { groupId: number; term: number; isr: readonly number[] } {
    const self = this.options.config.server.brokerId;
    const entry = this.leaders.get(replica.groupId);
    const term = replica.driver.raft.term;
    return { groupId: replica.groupId, term, isr: entry !== undefined && entry.leader === self && entry.term === term ? entry.isr : [self] };
  }

  /** Waits for the controller and registers this broker; resolves once registered. */
  async join(): Promise<void> {
    const { config, log, clock } = this.options;
    let lastLog = clock.now();
    const self = config.server.brokerId;
    const own = config.cluster.nodes.find((n) => n.id === self);
    // A broker outside cluster.nodes hears the metadata only once registered (the leader then adds it).
    while (own !== undefined && !this.metadata.initialised) {
      await this.sleep(100);
      if (clock.now() - lastLog >= WAIT_LOG_MS) {
        lastLog = clock.now();
        const unanswered = this.bootstrapWaitingFor?.() ?? [];
        if (unanswered.length > 0) {
          log.warn({ waitingFor: unanswered, voters: config.cluster.nodes.map((n) => n.id) }, 'this broker\'s controller log is empty: waiting for every broker of cluster.nodes to tell whether the cluster is new (all start empty) or exists (this broker then catches up)');
        } else {
          log.warn({ peersUp: [...this.up].sort(), voters: config.cluster.nodes.map((n) => n.id) }, 'waiting for a controller quorum (a majority of cluster.nodes)');
        }
      }
    }
    for (;;) {
      const result = await this.metadata.submit({
        type: 'register-broker',
        id: config.server.brokerId,
        incarnationId: this.incarnationId,
        host: config.server.advertisedHost,
        port: config.server.port,
        grpcPort: own?.grpcPort ?? config.server.grpcPort,
        rack: config.server.rack === '' ? null : config.server.rack,
        timestampMs: clock.now(),
      });
      if (result.error === null) break;
      if (result.error === 'INVALID_REQUEST') {
        throw new StreamBusError('SB_ERR_BROKER_IDENTITY', result.message ?? result.error);
      }
      log.warn({ error: result.error, message: result.message }, 'registration with the controller failed; retrying');
      await this.sleep(REGISTER_RETRY_MS);
    }
    // Leadership answers and replica placement depend on which brokers this one reaches: give the
    // connections to the other brokers of cluster.nodes a moment, so the first Metadata answers do not
    // call live leaders unavailable and the first topics are not placed on the brokers reached first.
    const others = config.cluster.nodes.filter((n) => n.id !== config.server.brokerId).map((n) => n.id);
    const until = clock.now() + Math.max(PEER_WAIT_MS, config.raft.electionTimeout);
    while (others.some((id) => !this.up.has(id)) && clock.now() < until) await this.sleep(50);
    const unreachable = others.filter((id) => !this.up.has(id));
    log.info(
      { clusterId: this.metadata.state.clusterId, controller: this.metadata.leaderId, brokers: this.metadata.state.brokers().map((b) => b.id), unreachable },
      'joined the cluster',
    );
  }

  /** The controller group's voters as this broker has applied them. */
  controllerVoters(): readonly number[] {
    return this.controller.raft.confState().voters;
  }

  /** Whether broker `id` is this one or a peer the transport reaches now. */
  isReachable(id: number): boolean {
    return id === this.options.config.server.brokerId || this.up.has(id);
  }

  /** Opens the partitions placed here, now and after every metadata change. */
  async hostPartitions(settings: (topic: TopicRecord) => LogSettings): Promise<PartitionHosting> {
    const hosting = new PartitionHosting({
      metadata: this.metadata,
      partitions: this.options.partitions,
      hosts: (topic, index) => replicaSet(topic, index).includes(this.options.config.server.brokerId),
      settings,
      log: this.options.log,
    });
    this.hosting = hosting;
    const again = () => void hosting.reconcile().catch((err: unknown) => this.options.log.error({ err }, 'opening or removing partitions failed'));
    this.metadata.onChange((cmd) => {
      if (cmd.type === 'alter-configs') {
        const topic = this.metadata.state.topic(cmd.name);
        if (topic !== undefined) this.options.partitions.reconfigure(topic.name, settings(topic));
      }
      again();
    });
    this.metadata.onReset(again);
    await hosting.reconcile();
    return hosting;
  }

  /** A stop arrived while joining: join() gives up with SB_ERR_CLOSED at its next wait. */
  abort(): void {
    this.stopping = true;
    this.metadata.stop();
  }

  /** Stops waiting, leaves the groups and closes the transport and the controller log. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.snapshotTimer?.cancel();
    this.isrTimer?.cancel();
    this.gossip.stop();
    this.metadata.stop();
    this.ticker.stop();
    // Before the Raft host: a partition it would open now could not join it.
    this.hosting?.stop();
    this.multiRaft.stop();
    const began = performance.now();
    await this.transport.stop();
    this.options.log.info({ ms: Math.round(performance.now() - began) }, 'inter-broker transport stopped');
    // Bounded: under the compiled (Bun) binary this close has been seen never to settle once the
    // controller lost its majority (docs/containers.md). Nothing is lost by not waiting: every write of
    // the controller log was durable before anything acted on it, and a write still in flight is
    // what a crash leaves, which the log's recovery repairs.
    const { clock, log } = this.options;
    let timer: TimerHandle | undefined;
    const closed = await Promise.race([
      this.store.close().then(() => true),
      new Promise<false>((resolve) => (timer = clock.setTimer(CONTROLLER_CLOSE_WAIT_MS, () => resolve(false)))),
    ]);
    if (timer !== undefined) clock.clearTimer(timer);
    if (closed) log.info({ ms: Math.round(performance.now() - began) }, 'controller log closed');
    else log.warn({ waitedMs: CONTROLLER_CLOSE_WAIT_MS }, 'controller log did not close in time; stopping without waiting for it (its writes were durable before anything acted on them)');
  }

  private async sleep(ms: number): Promise<void> {
    if (this.stopping) throw new StreamBusError('SB_ERR_CLOSED', 'the broker is stopping');
    await new Promise<void>((resolve) => this.options.clock.setTimer(ms, resolve));
    if (this.stopping) throw new StreamBusError('SB_ERR_CLOSED', 'the broker is stopping');
  }
}

/** Whether the controller log holds anything: a term, an entry or a snapshot. */
function controllerLogHoldsEntries(store: FileRaftLogStore): boolean {
  return store.initialState().hardState.term > 0 || store.lastIndex() > 0 || store.snapshot().metadata.index > 0;
}

/** Removes the joining marker durably (a crash must not bring it back once the replica voted). */
async function removeMarker(disk: Disk, path: string, log: Logger): Promise<void> {
  try {
    if ((await disk.fileSize(path)) === undefined) return;
    await disk.unlink(path);
    await disk.syncDir(dirname(path));
  } catch (err) {
    log.warn({ err, path }, 'removing the controller joining marker failed');
  }
}

/** The ids in either list, once each, in order. */
function union(a: readonly number[], b: readonly number[]): number[] {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}
