/**
 * Goal: a deterministic simulation of a whole controller cluster: 3 or 5 brokers, each running the
 * production RaftDriver + ControllerStateMachine + ReplicatedMetadata (controller-broker.ts), under
 * random faults, with the controller's invariants checked after every event.
 * Method: everything is drawn from one seed and runs on one hand-driven clock (ManualClock), as in
 * simulation.ts, whose pieces it reuses: SimDisk (fsync latency, a crash tears unsynced writes),
 * SimNetwork (loss, delay and so reordering, duplication, symmetric partitions and one-way cut
 * links) for both the Raft messages and the controller-channel messages, and the Raft-level
 * InvariantChecker. A workload submits metadata commands from random brokers (create-topic with
 * fresh and with duplicate names, delete-topic, alter-configs, nextProducerId, register-broker; and
 * each broker registers itself whenever it boots) and reports every result to ControllerChecker.
 * Faults crash and restart brokers: a restarted broker gets a fresh ControllerStateMachine and
 * ReplicatedMetadata over its durable disk, and the submits of the dead incarnation are abandoned.
 *
 * ReplicatedMetadata is asynchronous (promises), so after every timer that fires the run lets the
 * microtask queue drain before checking and firing the next one; the promise callbacks then run in
 * the same order every time, and a seed still replays event for event.
 *
 * After `steps` events the faults heal and every broker is up; within `livenessTicks` a leader must
 * exist, a submit from every broker must succeed, and every broker must have applied them all.
 */
import type { ClusterState, MetadataCommand } from '../../src/metadata/cluster-state.ts';
import type { ConfState, Message, NodeId } from '../../src/raft/index.ts';
import { ControllerStateMachine } from '../../src/replication/controller/controller-state-machine.ts';
import { ReplicatedMetadata, type ReplicatedMetadataOptions } from '../../src/replication/controller/replicated-metadata.ts';
import type { RaftSettings } from '../../src/replication/raft-driver.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { InvariantChecker } from './checkers.ts';
import { ControllerBroker, type ChannelMessage, type ControllerEnv } from './controller-broker.ts';
import { DoubleApplyingMachine, LocalProducerIds, OptimisticMetadata, RenamingMachine, RenamingMetadata, SkippingMachine } from './controller-bugs.ts';
import { ControllerChecker, describeControllerEntry } from './controller-checkers.ts';
import { Prng } from './prng.ts';
import { SimNetwork } from './sim-network.ts';
import { injectNetworkFault } from './network-faults.ts';
import { randomRaftSettings } from './random-settings.ts';
import { TICK_MS } from './sim-node.ts';
import { drainMicrotasks } from './drain-microtasks.ts';

/** Deliberate bugs (controller-bugs.ts), to show that the checkers catch them. */
export interface ControllerSimBugs {
  /** The last broker applies every allocate-producer-ids entry twice. */
  readonly doubleApply?: boolean;
  /** The last broker skips every alter-configs entry. */
  readonly skipApply?: boolean;
  /** Every broker reports a submit whose fate is unknown as a success. */
  readonly unknownAsSuccess?: boolean;
  /** Every broker hands out producer ids read from its applied state, allocating them in the background. */
  readonly localProducerIds?: boolean;
  /** Every leader names the cluster again, and a later name replaces the first. */
  readonly renaming?: boolean;
}

export interface ControllerSimOptions {
  readonly seed: number;
  readonly brokers: 3 | 5;
  /** Events in the fault phase. Default 6000. */
  readonly steps?: number;
  /** Ticks the liveness phase may take. Default 3000 (30 simulated seconds). */
  readonly livenessTicks?: number;
  readonly bugs?: ControllerSimBugs;
  /** Check that an OK submit's broker has applied the command when the submit resolves (default on). */
  readonly readYourWrites?: boolean;
  /** Receives one line per notable event (for replaying a seed verbosely). */
  readonly trace?: (line: string) => void;
}

export interface ControllerSimResult {
  readonly seed: number;
  readonly brokers: number;
  readonly events: number;
  readonly simulatedMs: number;
  readonly submitted: number;
  /** Submits that resolved with error null. */
  readonly acknowledged: number;
  /** Submits that resolved with an error. */
  readonly refused: number;
  /** Results by command type and error ('ok' for success), e.g. "create-topic TOPIC_ALREADY_EXISTS". */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Submits (and producer id requests) of crashed incarnations. */
  readonly abandoned: number;
  readonly producerIds: number;
  readonly crashes: number;
  readonly leaderTerms: number;
  /** Applied states compared across brokers. */
  readonly comparisons: number;
  readonly settings: string;
  /** The first broken invariant, or null. */
  readonly violation: string | null;
}

export function runControllerSimulation(options: ControllerSimOptions): Promise<ControllerSimResult> {
  return new ControllerSimulation(options).run();
}

const SUBMIT_TIMEOUTS_MS = [300, 1000, 3000];

class ControllerSimulation {
  private readonly seed: number;
  private readonly steps: number;
  private readonly livenessTicks: number;
  private readonly trace: ((line: string) => void) | undefined;
  private readonly random: Prng;
  private readonly faultRandom: Prng;
  private readonly clientRandom: Prng;
  private readonly clock = new ManualClock(0);
  private readonly network: SimNetwork;
  private readonly ids: NodeId[];
  private readonly brokers: ControllerBroker[] = [];
  private readonly raftChecker = new InvariantChecker(describeControllerEntry);
  private readonly checker: ControllerChecker;
  private readonly settings: RaftSettings;
  private readonly compactEvery: number;
  private readonly compactKeep: number;
  private readonly submitTimeoutMs: number;
  /** Each broker's data-directory identity, fixed for the whole run. */
  private readonly incarnationIds = new Map<NodeId, string>();
  private readonly topicNames: string[] = [];
  private readonly leaderTerms = new Set<number>();
  private events = 0;
  private sequence = 0;
  private clusterIds = 0;
  private submitted = 0;
  private acknowledged = 0;
  private refused = 0;
  private readonly outcomes: Record<string, number> = {};
  private abandoned = 0;
  private crashes = 0;
  private phase: 'faults' | 'liveness' = 'faults';
  private livenessDeadlineMs = 0;
  /** Liveness phase: the brokers whose liveness submit succeeded, in their current incarnation. */
  private readonly live = new Set<NodeId>();

  constructor(options: ControllerSimOptions) {
    this.seed = options.seed;
    this.steps = options.steps ?? 6000;
    this.livenessTicks = options.livenessTicks ?? 3000;
    this.trace = options.trace;
    const bugs = options.bugs ?? {};
    this.checker = new ControllerChecker(options.readYourWrites !== false);
    this.random = new Prng(options.seed);
    this.faultRandom = this.random.fork();
    this.clientRandom = this.random.fork();
    this.network = new SimNetwork(this.random.fork());
    this.ids = Array.from({ length: options.brokers }, (_, i) => i + 1);
    this.settings = randomRaftSettings(this.random);
    this.compactEvery = this.random.pick([8, 40, 150, 1_000_000]);
    this.compactKeep = this.random.pick([0, 3, 20]);
    this.submitTimeoutMs = this.random.pick(SUBMIT_TIMEOUTS_MS);
    for (const id of this.ids) this.incarnationIds.set(id, this.uuid());
    const buggy = this.ids[this.ids.length - 1]!;
    const env: ControllerEnv = {
      clock: this.clock,
      checker: this.raftChecker,
      controllerChecker: this.checker,
      log: (line) => this.log(line),
      lyingFsync: false,
      notLoadedChance: 0,
      send: (from, to, messages) => this.sendRaft(from, to, messages),
      sendChannel: (from, to, message) => this.sendChannel(from, to, message),
      newStateMachine: (id) => {
        if (id === buggy && bugs.doubleApply) return new DoubleApplyingMachine();
        if (id === buggy && bugs.skipApply) return new SkippingMachine();
        if (bugs.renaming) return new RenamingMachine();
        return new ControllerStateMachine();
      },
      newMetadata: (o: ReplicatedMetadataOptions) => {
        if (bugs.unknownAsSuccess) return new OptimisticMetadata(o);
        if (bugs.localProducerIds) return new LocalProducerIds(o);
        if (bugs.renaming) return new RenamingMetadata(o);
        return new ReplicatedMetadata(o);
      },
      newClusterId: (id) => `cluster-${this.seed}-${id}-${++this.clusterIds}`,
      submitTimeoutMs: this.submitTimeoutMs,
    };
    const conf: ConfState = { voters: this.ids, learners: [] };
    const snapshots = { everyEntries: this.compactEvery, keepEntries: this.compactKeep };
    for (const id of this.ids) this.brokers.push(new ControllerBroker(id, conf, this.settings, snapshots, this.random.fork(), env));
  }

  async run(): Promise<ControllerSimResult> {
    // A promise chain of the production code that rejects would otherwise end the process with no seed.
    const onRejection = (reason: unknown): void => this.raftChecker.fail('no crash', `a promise rejected unhandled at ${this.clock.now()} ms: ${describe(reason)}`);
    process.on('unhandledRejection', onRejection);
    try {
      return await this.runEvents();
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  }

  private async runEvents(): Promise<ControllerSimResult> {
    for (const broker of this.brokers) this.start(broker);
    this.clock.setTimer(this.random.between(50, 300), () => this.client());
    this.clock.setTimer(this.random.between(100, 500), () => this.fault());
    for (;;) {
      let fired: boolean;
      try {
        fired = this.clock.runNext();
      } catch (e) {
        fired = true;
        this.raftChecker.fail('no crash', `an event at ${this.clock.now()} ms threw ${describe(e)}`);
      }
      await drainMicrotasks();
      if (!fired) {
        this.raftChecker.fail('liveness', 'the simulation ran out of events');
        break;
      }
      this.events++;
      this.raftChecker.observe(this.brokers.map((b) => b.node));
      for (const broker of this.brokers) if (broker.node.raft?.isLeader) this.leaderTerms.add(broker.node.raft.term);
      if (this.violation() !== null) break;
      if (this.phase === 'faults' && this.events >= this.steps) this.startLiveness();
      if (this.phase === 'liveness') {
        const problem = this.livenessProblem();
        if (problem === null) break;
        if (this.clock.now() > this.livenessDeadlineMs) {
          this.checker.fail('liveness', `not converged ${this.livenessTicks} ticks after healing: ${problem}`);
          break;
        }
      }
    }
    const violation = this.violation();
    return {
      seed: this.seed,
      brokers: this.ids.length,
      events: this.events,
      simulatedMs: this.clock.now(),
      submitted: this.submitted,
      acknowledged: this.acknowledged,
      refused: this.refused,
      outcomes: this.outcomes,
      abandoned: this.abandoned,
      producerIds: this.checker.producerIdsHandedOut,
      crashes: this.crashes,
      leaderTerms: this.leaderTerms.size,
      comparisons: this.checker.comparisons,
      settings: this.describeSettings(),
      violation: violation === null ? null : `seed ${this.seed} brokers ${this.ids.length}: ${violation}`,
    };
  }

  private violation(): string | null {
    return this.raftChecker.violation ?? this.checker.violation;
  }

  private describeSettings(): string {
    const s = this.settings;
    return (
      `brokers=${this.ids.length} preVote=${s.preVote} checkQuorum=${s.checkQuorum} heartbeat=${s.heartbeatTicks} probeRetry=${s.probeRetryTicks} ` +
      `maxMessageBytes=${s.maxMessageBytes} inflight=${s.maxInflightMessages}/${s.maxInflightBytes} ` +
      `compactEvery=${this.compactEvery} keep=${this.compactKeep} submitTimeoutMs=${this.submitTimeoutMs}`
    );
  }

  private log(line: string): void {
    if (this.trace !== undefined) this.trace(`${String(this.clock.now()).padStart(7)}ms ${line}`);
  }

  private broker(id: NodeId): ControllerBroker {
    return this.brokers[id - 1]!;
  }

  /** A random lower-case UUID from the seed. */
  private uuid(): string {
    const hex = Array.from({ length: 4 }, () => this.random.nextU32().toString(16).padStart(8, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  // ---- network ----

  private sendRaft(from: NodeId, to: NodeId, messages: readonly Message[]): void {
    for (const m of messages) {
      if (m.to !== to) throw new Error(`message for ${m.to} sent to ${to}`);
      for (const delay of this.network.deliveries(m)) {
        this.clock.setTimer(delay, () => {
          const target = this.broker(m.to);
          if (target.node.driver === null || this.network.isBlocked(m.from, m.to)) return;
          target.node.driver.step(m);
        });
      }
    }
  }

  /** A controller-channel message: serialized as a transport would, then lost, delayed or duplicated like any other. */
  private sendChannel(from: NodeId, to: NodeId, message: ChannelMessage): boolean {
    if (to === from || !this.ids.includes(to)) return false;
    const wire = JSON.stringify(message);
    for (const delay of this.network.deliveriesBetween(from, to)) {
      this.clock.setTimer(delay, () => {
        if (this.network.isBlocked(from, to)) return;
        this.log(`channel ${from}->${to} ${wire.slice(0, 160)}`);
        this.broker(to).receive(from, JSON.parse(wire) as ChannelMessage);
      });
    }
    return true;
  }

  // ---- brokers ----

  /** Boots a broker, which then registers itself until that succeeds (as a broker does at startup). */
  private start(broker: ControllerBroker): void {
    broker.start();
    this.log(`broker ${broker.id} started at term ${broker.node.raft!.term} commit ${broker.node.raft!.commitIndex}`);
    const incarnation = broker.incarnation;
    const register = (): void => {
      if (!broker.up || broker.incarnation !== incarnation) return;
      this.submit(broker, this.registration(broker.id, this.incarnationIds.get(broker.id)!), (ok) => {
        if (!ok) this.clock.setTimer(100, register);
      });
    };
    this.clock.setTimer(this.faultRandom.between(0, 50), register);
  }

  private crashAndRestart(broker: ControllerBroker, downMs: number): void {
    const torn = broker.crash();
    this.crashes++;
    this.raftChecker.restarted(broker.id);
    this.live.delete(broker.id);
    this.log(`broker ${broker.id} crashed${torn === '' ? '' : ` (${torn})`}`);
    this.clock.setTimer(downMs, () => {
      if (!broker.up) this.start(broker);
    });
  }

  private leader(): ControllerBroker | null {
    let best: ControllerBroker | null = null;
    for (const broker of this.brokers) {
      const raft = broker.node.raft;
      if (raft?.isLeader && (best === null || raft.term > best.node.raft!.term)) best = broker;
    }
    return best;
  }

  // ---- workload ----

  /**
   * Submits `cmd` on `broker` and reports the result to the checker, unless the broker crashed
   * meanwhile (the submit was abandoned with its process). `then` hears whether it succeeded.
   */
  private submit(broker: ControllerBroker, cmd: MetadataCommand, then?: (ok: boolean) => void): void {
    const meta = broker.meta;
    if (meta === null) return;
    const incarnation = broker.incarnation;
    this.submitted++;
    this.log(`broker ${broker.id} submits ${JSON.stringify(cmd).slice(0, 160)}`);
    void meta.submit(cmd).then((result) => {
      if (broker.incarnation !== incarnation) {
        this.abandoned++;
        return;
      }
      this.log(`broker ${broker.id} submit ${cmd.type} -> ${result.error ?? 'ok'}`);
      if (result.error === null) this.acknowledged++;
      else this.refused++;
      const outcome = `${cmd.type} ${result.error ?? 'ok'}`;
      this.outcomes[outcome] = (this.outcomes[outcome] ?? 0) + 1;
      this.checker.submitted(broker.id, cmd, result, broker.appliedIndex);
      then?.(result.error === null);
    });
  }

  private client(): void {
    if (this.phase !== 'faults') return;
    this.clientSubmit();
    this.clock.setTimer(this.clientRandom.between(5, 60), () => this.client());
  }

  private clientSubmit(): void {
    const random = this.clientRandom;
    const up = this.brokers.filter((b) => b.up);
    if (up.length === 0) return;
    const broker = random.pick(up);
    const roll = random.nextInt(100);
    if (roll < 25 || (this.topicNames.length === 0 && roll < 65)) {
      const name = `t${this.sequence++}`;
      this.topicNames.push(name);
      this.submit(broker, this.createTopic(broker, name));
    } else if (roll < 35 && this.topicNames.length > 0) {
      this.submit(broker, this.createTopic(broker, random.pick(this.topicNames)));
    } else if (roll < 50 && this.topicNames.length > 0) {
      this.submit(broker, { type: 'delete-topic', name: random.pick(this.topicNames) });
    } else if (roll < 65 && this.topicNames.length > 0) {
      const remove = random.chance(0.3) ? ['cleanup.policy'] : [];
      const set: Record<string, string> = { 'retention.ms': String(1000 + this.sequence++) };
      if (random.chance(0.3)) set['cleanup.policy'] = random.pick(['delete', 'compact']);
      this.submit(broker, { type: 'alter-configs', name: random.pick(this.topicNames), set, remove });
    } else if (roll >= 65 && roll < 80) {
      this.nextProducerId(broker);
    } else if (roll >= 80 && roll < 84) {
      // Access control entries: created, and deleted by exact entry (as DeleteAcls resolves its filters).
      const binding = { resourceType: 2, resourceName: random.pick(['t0', 't1', 'logs.']), patternType: random.pick([3, 4]), principal: `User:u${random.nextInt(3)}`, host: '*', operation: random.pick([3, 4, 8]), permission: random.pick([2, 3]) };
      this.submit(broker, { type: random.chance(0.6) ? 'create-acls' : 'delete-acls', bindings: [binding] });
    } else if (roll >= 84 && roll < 88) {
      // SCRAM credentials (the keys are opaque to the controller); a deletion of a missing one is refused.
      const user = `u${random.nextInt(3)}`;
      const mechanism = random.pick([1, 2] as const);
      if (random.chance(0.3)) this.submit(broker, { type: 'delete-scram-credentials', credentials: [{ user, mechanism }] });
      else this.submit(broker, { type: 'upsert-scram-credentials', ifAbsent: random.chance(0.3), credentials: [{ user, mechanism, iterations: 4096, salt: 'c2FsdA==', storedKey: btoa(`s${this.sequence++}`), serverKey: 'a2V5' }] });
    } else if (roll >= 88) {
      // Mostly a broker re-registering (new endpoints); sometimes one claiming another data directory.
      const id = random.pick(this.ids);
      const incarnationId = random.chance(0.15) ? this.uuid() : this.incarnationIds.get(id)!;
      this.submit(broker, this.registration(id, incarnationId));
    }
  }

  private createTopic(broker: ControllerBroker, name: string): MetadataCommand {
    const random = this.clientRandom;
    const partitions = random.between(1, 3);
    const replicationFactor = random.between(1, 3);
    // The proposer places replicas from its own view of the cluster, stale or not.
    const state: ClusterState | null = broker.meta?.initialised ? broker.meta.state : null;
    const assignments = state === null ? [] : state.proposeAssignments(partitions, replicationFactor);
    return { type: 'create-topic', name, topicId: this.uuid(), partitions, replicationFactor, assignments, configs: {}, timestampMs: this.clock.now() };
  }

  private registration(id: NodeId, incarnationId: string): MetadataCommand {
    const port = 9092 + this.clientRandom.nextInt(3);
    return { type: 'register-broker', id, incarnationId, host: `broker-${id}`, port, grpcPort: port + 1000, rack: null, timestampMs: this.clock.now() };
  }

  private nextProducerId(broker: ControllerBroker): void {
    const meta = broker.meta;
    if (meta === null) return;
    const incarnation = broker.incarnation;
    meta.nextProducerId().then(
      (producerId) => {
        if (broker.incarnation !== incarnation) this.abandoned++;
        else this.checker.producerId(broker.id, producerId);
      },
      () => {
        // The allocation failed (no controller in time): the caller retries later, nothing was handed out.
      },
    );
  }

  // ---- faults ----

  private fault(): void {
    if (this.phase !== 'faults') return;
    this.injectFault();
    // Calm stretches between faults let commands through; short ones pile faults up.
    this.clock.setTimer(this.faultRandom.chance(0.3) ? this.faultRandom.between(500, 2000) : this.faultRandom.between(20, 400), () => this.fault());
  }

  private injectFault(): void {
    const random = this.faultRandom;
    const roll = random.nextInt(100);
    if (roll < 52) {
      const fault = roll < 12 ? 'partition' : roll < 20 ? 'isolate' : roll < 32 ? 'cut-link' : 'heal';
      injectNetworkFault(fault, this.network, this.ids, random, (line) => this.log(line));
    } else if (roll < 70) {
      const up = this.brokers.filter((b) => b.up);
      if (up.length === 0) return;
      // The leader more often than the others: its pending decisions are where the interesting cases are.
      const leader = this.leader();
      const victim = leader !== null && random.chance(0.4) ? leader : random.pick(up);
      this.crashAndRestart(victim, random.between(20, 2000));
    } else if (roll < 80) {
      const broker = random.pick(this.brokers);
      broker.node.disk.slowUntilMs = this.clock.now() + random.between(100, 2000);
      this.log(`fault: slow fsync on broker ${broker.id}`);
    } else {
      injectNetworkFault('conditions', this.network, this.ids, random, (line) => this.log(line));
    }
  }

  // ---- liveness ----

  private startLiveness(): void {
    this.phase = 'liveness';
    this.livenessDeadlineMs = this.clock.now() + this.livenessTicks * TICK_MS;
    this.network.heal();
    this.network.dropRate = 0;
    this.network.duplicateRate = 0;
    this.network.minDelayMs = 1;
    this.network.maxDelayMs = 5;
    for (const broker of this.brokers) {
      broker.node.disk.slowUntilMs = 0;
      if (!broker.up) this.start(broker);
    }
    this.log('liveness phase: all faults healed, every broker up');
    for (const broker of this.brokers) this.livenessSubmit(broker, broker.incarnation, 0);
  }

  /** Submits a fresh topic from `broker` until one succeeds. */
  private livenessSubmit(broker: ControllerBroker, incarnation: number, attempt: number): void {
    if (!broker.up || broker.incarnation !== incarnation) return;
    const cmd = this.createTopic(broker, `live-${broker.id}-${attempt}`);
    this.submit(broker, cmd, (ok) => {
      if (ok) this.live.add(broker.id);
      else this.clock.setTimer(TICK_MS, () => this.livenessSubmit(broker, incarnation, attempt + 1));
    });
  }

  /** Why the cluster has not converged yet, or null once it has. */
  private livenessProblem(): string | null {
    const leader = this.leader();
    if (leader === null) return 'no leader';
    const missing = this.ids.filter((id) => !this.live.has(id));
    if (missing.length > 0) return `no submit has succeeded yet on broker(s) ${missing.join(', ')} (leader ${leader.id})`;
    const commit = leader.node.raft!.commitIndex;
    for (const broker of this.brokers) {
      if (broker.appliedIndex < commit) return `broker ${broker.id} applied ${broker.appliedIndex}, leader ${leader.id} committed ${commit}`;
    }
    return null;
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
