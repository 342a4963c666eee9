import type { ConfState, Message, NodeId } from '../../src/raft/index.ts';
import type { RaftSettings } from '../../src/replication/raft-driver.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { InvariantChecker } from './checkers.ts';
import { DiskWipes, agreedVoters } from './disk-wipes.ts';
import { encodePayload } from './payload.ts';
import { Prng } from './prng.ts';
import { SimNetwork } from './sim-network.ts';
import { injectNetworkFault } from './network-faults.ts';
import { PeerLinks } from './peer-links.ts';
import { randomRaftSettings } from './random-settings.ts';
import { SimNode, TICK_MS, replicaApplication } from './sim-node.ts';

/**
 * A deterministic cluster simulation: 3 or 5 nodes, each running the production Raft driver
 * (src/replication/raft-driver.ts) over a simulated disk and network, all on one hand-driven
 * clock; clients proposing values, an operator changing membership and moving leadership, and
 * random faults, all drawn from one seed. Faults include a replaced disk: a node crashes and comes
 * back empty under its old id, joining (it neither votes nor campaigns until caught up; see
 * disk-wipes.ts for when). When a node restarts, the others see its link come up a little later
 * (peer-links.ts), as a broker does. Every timer that fires is one event; invariants are checked
 * after every event. After `steps` events every fault is healed and the cluster must converge
 * within a tick budget: a leader, all nodes voters again and done joining, and every acknowledged
 * proposal applied exactly once on every node. A proposal is acknowledged when the driver reports it applied.
 *
 * Same seed, same options, same code: same run, event for event.
 */

/** Deliberate bugs, to show that the checkers catch them. */
export interface SimBugs {
  /** A restarted node forgets whom it voted for (its hard state loses the vote). */
  readonly forgetVote?: boolean;
  /** Disks report an fsync done before the data is durable, so drivers send and apply too early. */
  readonly lyingFsync?: boolean;
  /** A node whose disk was replaced starts as a normal member: it votes at once with an empty log. */
  readonly wipeNotJoining?: boolean;
}

export interface SimOptions {
  readonly seed: number;
  /** Events in the fault phase. Default 3000. */
  readonly steps?: number;
  /** Ticks the liveness phase may take. Default 3000 (30 simulated seconds). */
  readonly livenessTicks?: number;
  readonly bugs?: SimBugs;
  /** Raft settings forced on every node, instead of those drawn from the seed. */
  readonly overrides?: Partial<RaftSettings>;
  /**
   * Chance that a log read answers "not loaded" (LogNotLoadedError or a shorter prefix), as a
   * partition's Raft log with a small cache does. Default 0.
   */
  readonly notLoadedChance?: number;
  /** Whether disks are replaced (the "wipe" fault). Default true. */
  readonly wipes?: boolean;
  /** Receives one line per event (for replaying a seed verbosely). */
  readonly trace?: (line: string) => void;
}

export interface SimResult {
  readonly seed: number;
  readonly nodes: number;
  readonly events: number;
  readonly simulatedMs: number;
  readonly proposed: number;
  readonly acknowledged: number;
  readonly leaderTerms: number;
  /** Disks replaced, and how many times a wiped node caught up again (disk-wipes.ts). */
  readonly wipes: number;
  readonly wipesRecovered: number;
  readonly settings: string;
  /** The first broken invariant, or null. */
  readonly violation: string | null;
}

export function runSimulation(options: SimOptions): SimResult {
  return new Simulation(options).run();
}

class Simulation {
  private readonly seed: number;
  private readonly steps: number;
  private readonly livenessTicks: number;
  private readonly bugs: SimBugs;
  private readonly trace: ((line: string) => void) | undefined;
  private readonly random: Prng;
  private readonly faultRandom: Prng;
  private readonly clientRandom: Prng;
  private readonly clock = new ManualClock(0);
  private readonly network: SimNetwork;
  private readonly nodes: SimNode[] = [];
  private readonly ids: NodeId[];
  private readonly checker = new InvariantChecker();
  private readonly settings: RaftSettings;
  private readonly compactEvery: number;
  private readonly compactKeep: number;
  private readonly minVoters: number;
  private readonly acked = new Set<string>();
  private readonly links: PeerLinks;
  private readonly wipes = new DiskWipes();
  private readonly wipesEnabled: boolean;
  private readonly leaderTerms = new Set<number>();
  private events = 0;
  private proposed = 0;
  private nextProposal = 0;
  private phase: 'faults' | 'liveness' = 'faults';
  private livenessDeadlineMs = 0;
  private livenessMet = false;

  constructor(options: SimOptions) {
    this.seed = options.seed;
    this.steps = options.steps ?? 3000;
    this.livenessTicks = options.livenessTicks ?? 3000;
    this.bugs = options.bugs ?? {};
    this.trace = options.trace;
    this.random = new Prng(options.seed);
    this.faultRandom = this.random.fork();
    this.clientRandom = this.random.fork();
    this.network = new SimNetwork(this.random.fork());
    this.links = new PeerLinks(this.clock, this.random.fork(), (line) => this.log(line));
    const count = this.random.chance(0.5) ? 3 : 5;
    this.ids = Array.from({ length: count }, (_, i) => i + 1);
    this.minVoters = count === 3 ? 2 : 3;
    this.settings = {
      ...randomRaftSettings(this.random),
      promotionMaxLagEntries: this.random.pick([0, 5, 50]),
      // Partition groups run with it (cluster-node.ts), the controller group without: half the seeds
      // each, chosen by the seed so that its other draws stay what they were.
      leaderWritesInParallel: options.seed % 2 === 1,
      ...options.overrides,
    };
    // With or without check-quorum: the node first learns the term from the others (RaftConfig.lostLogMembers).
    this.wipesEnabled = options.wipes ?? true;
    this.compactEvery = this.random.pick([8, 40, 150, 1_000_000]);
    this.compactKeep = this.random.pick([0, 3, 20]);
    const conf: ConfState = { voters: this.ids, learners: [] };
    const env = {
      clock: this.clock,
      checker: this.checker,
      log: (line: string) => this.log(line),
      lyingFsync: this.bugs.lyingFsync === true,
      notLoadedChance: options.notLoadedChance ?? 0,
      send: (from: NodeId, to: NodeId, messages: readonly Message[]) => this.send(from, to, messages),
    };
    const snapshots = { everyEntries: this.compactEvery, keepEntries: this.compactKeep };
    const application = replicaApplication(env);
    for (const id of this.ids) this.nodes.push(new SimNode(id, conf, this.settings, snapshots, this.random.fork(), env, application));
  }

  run(): SimResult {
    for (const node of this.nodes) node.start();
    this.clock.setTimer(this.random.between(50, 300), () => this.client());
    this.clock.setTimer(this.random.between(100, 500), () => this.fault());
    this.clock.setTimer(this.random.between(200, 800), () => this.operator());
    for (;;) {
      let fired: boolean;
      try {
        fired = this.clock.runNext();
      } catch (e) {
        fired = true;
        const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        this.checker.fail('no crash', `an event at ${this.clock.now()} ms threw ${detail}`);
      }
      if (!fired) {
        this.checker.fail('liveness', 'the simulation ran out of events');
        break;
      }
      this.events++;
      for (const node of this.nodes) node.disk.loadFaults = false;
      this.checker.observe(this.nodes);
      this.wipes.check();
      for (const node of this.nodes) node.disk.loadFaults = true;
      for (const node of this.nodes) if (node.raft?.isLeader) this.leaderTerms.add(node.raft.term);
      if (this.checker.violation !== null) break;
      if (this.phase === 'faults' && this.events >= this.steps) this.startLiveness();
      if (this.phase === 'liveness') {
        if (this.livenessMet) break;
        if (this.clock.now() > this.livenessDeadlineMs) {
          this.checker.fail('liveness', `not converged ${this.livenessTicks} ticks after healing: ${this.livenessProblem()}`);
          break;
        }
      }
    }
    return {
      seed: this.seed,
      nodes: this.ids.length,
      events: this.events,
      simulatedMs: this.clock.now(),
      proposed: this.proposed,
      acknowledged: this.acked.size,
      leaderTerms: this.leaderTerms.size,
      wipes: this.wipes.count,
      wipesRecovered: this.wipes.recovered,
      settings: this.describeSettings(),
      violation: this.checker.violation === null ? null : `seed ${this.seed}: ${this.checker.violation}`,
    };
  }

  private describeSettings(): string {
    const s = this.settings;
    return (
      `nodes=${this.ids.length} leaderWritesInParallel=${s.leaderWritesInParallel} preVote=${s.preVote} checkQuorum=${s.checkQuorum} heartbeat=${s.heartbeatTicks} probeRetry=${s.probeRetryTicks} ` +
      `maxMessageBytes=${s.maxMessageBytes} inflight=${s.maxInflightMessages}/${s.maxInflightBytes} ` +
      `compactEvery=${this.compactEvery} keep=${this.compactKeep}`
    );
  }

  private node(id: NodeId): SimNode {
    return this.nodes[id - 1]!;
  }

  private log(line: string): void {
    if (this.trace !== undefined) this.trace(`${String(this.clock.now()).padStart(7)}ms ${line}`);
  }

  private client(): void {
    if (this.phase !== 'faults') return;
    this.clientPropose();
    this.clock.setTimer(this.clientRandom.between(2, 40), () => this.client());
  }

  private fault(): void {
    if (this.phase !== 'faults') return;
    this.injectFault();
    this.clock.setTimer(this.faultRandom.between(20, 400), () => this.fault());
  }

  private operator(): void {
    this.operate();
    this.clock.setTimer(this.phase === 'faults' ? this.faultRandom.between(100, 800) : 2 * TICK_MS, () => this.operator());
  }

  /** A node's driver sends: each message is lost, delivered or duplicated, each after its own delay. */
  private send(from: NodeId, to: NodeId, messages: readonly Message[]): void {
    // A crash right after granting a vote is where a forgotten vote would hurt: make it common.
    if (this.phase === 'faults' && messages.some((m) => m.type === 'voteResp' && !m.reject) && this.faultRandom.chance(0.2)) {
      const node = this.node(from);
      const incarnation = node.incarnation;
      this.clock.setTimer(0, () => {
        if (!node.up || node.incarnation !== incarnation || this.phase !== 'faults') return;
        // Losing the disk too forgets the vote: the join rules must make up for it.
        if (this.faultRandom.chance(0.15) && this.mayWipe(node)) this.wipeAndRestart(node, this.faultRandom.between(5, 300));
        else this.crashAndRestart(node, this.faultRandom.between(5, 300));
      });
    }
    const incarnation = this.node(from).incarnation;
    for (const m of messages) {
      if (m.to !== to) throw new Error(`message for ${m.to} sent to ${to}`);
      for (const delay of this.network.deliveries(m)) this.clock.setTimer(delay, () => this.deliver(m, incarnation));
    }
  }

  /** `incarnation`: the sender's life that sent `m`. */
  private deliver(m: Message, incarnation: number): void {
    const node = this.node(m.to);
    if (node.driver === null || this.network.isBlocked(m.from, m.to) || !this.links.accepts(m.from, incarnation, m.to)) return;
    this.log(`deliver ${m.from}->${m.to} ${m.type} term=${m.term} index=${m.index} entries=${m.entries.length} commit=${m.commit}${m.reject ? ' reject' : ''}`);
    node.driver.step(m);
  }

  private crashAndRestart(node: SimNode, downMs: number): void {
    const torn = node.crash();
    this.log(`node ${node.id} crashed${torn === '' ? '' : ` (${torn})`}`);
    this.clock.setTimer(downMs, () => {
      if (!node.up) this.restart(node);
    });
  }

  /** Crashes `node` and replaces its disk by an empty one; it restarts joining after `downMs`. */
  private wipeAndRestart(node: SimNode, downMs: number): void {
    node.wipe(this.bugs.wipeNotJoining !== true, agreedVoters(this.nodes));
    this.wipes.wiped(node, this.checker.highestCommitted);
    this.checker.wiped(node.id);
    this.log(`node ${node.id} crashed and its disk was replaced (empty, ${node.joining ? 'joining' : 'not joining'})`);
    this.clock.setTimer(downMs, () => {
      if (!node.up) this.restart(node);
    });
  }

  /** Whether `node` may lose its disk now (disk-wipes.ts). */
  private mayWipe(node: SimNode): boolean {
    return this.wipesEnabled && this.wipes.mayWipe(node, this.nodes);
  }

  private restart(node: SimNode): void {
    if (this.bugs.forgetVote) {
      const hardState = node.disk.storage.hardStateNow();
      node.disk.storage.setHardState({ ...hardState, vote: 0 });
    }
    node.start();
    this.checker.restarted(node.id);
    this.links.restarted(node, this.nodes);
    this.log(`node ${node.id} restarted at term ${node.raft!.term} commit ${node.raft!.commitIndex}${node.joining ? ' (joining)' : ''}`);
  }

  private upNodes(): SimNode[] {
    return this.nodes.filter((n) => n.raft !== null);
  }

  /** The live leader with the highest term, if any. */
  private leader(): SimNode | null {
    let best: SimNode | null = null;
    for (const node of this.nodes) {
      if (node.raft?.isLeader && (best === null || node.raft.term > best.raft!.term)) best = node;
    }
    return best;
  }

  private clientPropose(): void {
    const random = this.clientRandom;
    const up = this.upNodes();
    if (up.length === 0) return;
    const leaders = up.filter((n) => n.raft!.isLeader);
    const node = leaders.length > 0 && random.chance(0.9) ? random.pick(leaders) : random.pick(up);
    const count = random.between(1, 4);
    const ids: string[] = [];
    const payloads: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const id = `p${this.nextProposal++}`;
      ids.push(id);
      payloads.push(encodePayload(id, random.chance(0.05) ? random.between(600, 3000) : random.between(0, 200)));
    }
    const result = node.driver!.propose(payloads, (outcome) => {
      if (outcome.kind === 'applied') for (const id of ids) this.acked.add(id);
    });
    this.proposed += count;
    if (result.accepted) this.log(`client proposed ${ids.join(',')} at node ${node.id} index ${result.index} term ${result.term}`);
  }

  private injectFault(): void {
    const random = this.faultRandom;
    const roll = random.nextInt(100);
    if (roll < 55) {
      const fault = roll < 15 ? 'partition' : roll < 25 ? 'isolate' : roll < 35 ? 'cut-link' : 'heal';
      injectNetworkFault(fault, this.network, this.ids, random, (line) => this.log(line));
    } else if (roll < 70) {
      const up = this.upNodes();
      if (up.length === 0) return;
      // Crash the leader more often than the others: that is where the interesting cases are.
      const leader = this.leader();
      const victim = leader !== null && random.chance(0.4) ? leader : random.pick(up);
      // About one fault in thirty replaces the disk.
      if (random.chance(0.2) && this.mayWipe(victim)) this.wipeAndRestart(victim, random.between(20, 2000));
      else this.crashAndRestart(victim, random.between(20, 2000));
    } else if (roll < 80) {
      const node = random.pick(this.nodes);
      node.disk.slowUntilMs = this.clock.now() + random.between(100, 2000);
      this.log(`fault: slow fsync on node ${node.id}`);
    } else {
      injectNetworkFault('conditions', this.network, this.ids, random, (line) => this.log(line));
    }
  }

  /** Membership changes and leadership transfers through the current leader. */
  private operate(): void {
    const leader = this.leader();
    if (this.phase === 'liveness') {
      if (this.livenessProblem() === null) {
        this.livenessMet = true;
        return;
      }
    }
    if (leader === null) return;
    const driver = leader.driver!;
    const conf = driver.raft.confState();
    const missing = this.ids.filter((id) => !conf.voters.includes(id) && !conf.learners.includes(id));
    const random = this.faultRandom;
    const roll = this.phase === 'liveness' ? 0 : random.nextFloat();
    let action = '';
    if (conf.learners.length > 0 && roll < 0.3) {
      const nodeId = conf.learners[0]!;
      if (!this.wipes.mayChange('promoteLearner', nodeId)) return;
      action = `promote ${nodeId}: ${outcome(driver.proposeConfChange({ type: 'promoteLearner', nodeId }, ignore))}`;
    } else if (missing.length > 0 && roll < 0.45) {
      const nodeId = missing[0]!;
      action = `add learner ${nodeId}: ${outcome(driver.proposeConfChange({ type: 'addLearner', nodeId }, ignore))}`;
    } else if (this.phase === 'faults' && roll >= 0.45 && roll < 0.55 && conf.voters.length > this.minVoters) {
      const nodeId = random.pick(conf.voters);
      if (!this.wipes.mayChange('removeNode', nodeId)) return;
      action = `remove ${nodeId}: ${outcome(driver.proposeConfChange({ type: 'removeNode', nodeId }, ignore))}`;
    } else if (this.phase === 'faults' && roll >= 0.55 && roll < 0.7) {
      const others = conf.voters.filter((id) => id !== leader.id);
      if (others.length > 0) {
        const target = random.pick(others);
        const result = driver.transferLeader(target);
        action = `transfer leadership ${leader.id}->${target}: ${result.accepted ? 'accepted' : result.reason}`;
      }
    }
    if (action !== '') this.log(`operator: ${action}`);
  }

  private startLiveness(): void {
    this.phase = 'liveness';
    this.livenessDeadlineMs = this.clock.now() + this.livenessTicks * TICK_MS;
    this.network.heal();
    this.network.dropRate = 0;
    this.network.duplicateRate = 0;
    this.network.minDelayMs = 1;
    this.network.maxDelayMs = 5;
    for (const node of this.nodes) {
      node.disk.slowUntilMs = 0;
      if (node.raft === null) this.restart(node);
    }
    this.log('liveness phase: all faults healed');
  }

  /** Why the cluster has not converged yet, or null once it has. */
  private livenessProblem(): string | null {
    const leader = this.leader();
    if (leader === null) return 'no leader';
    const conf = leader.raft!.confState();
    if (conf.voters.length !== this.ids.length) return `voters are ${conf.voters.join(',')} (learners ${conf.learners.join(',') || 'none'})`;
    for (const node of this.nodes) {
      if (node.raft === null) return `node ${node.id} is down`;
      if (node.joining) return `node ${node.id} is still joining (term ${node.raft.term}, applied ${node.raft.appliedIndex})`;
      for (const id of this.acked) {
        const count = node.sm.counts.get(id) ?? 0;
        if (count !== 1) {
          const pr = leader.raft!.status().progress?.get(node.id);
          const view = pr === undefined ? 'no progress' : `${pr.state} match=${pr.match} next=${pr.next} inflightBytes=${pr.inflightBytes}`;
          return (
            `node ${node.id} applied acknowledged proposal ${id} ${count} times (applied index ${node.sm.appliedIndex}, ` +
            `leader ${leader.id} commit ${leader.raft!.commitIndex}, its progress for node ${node.id}: ${view})`
          );
        }
      }
    }
    return null;
  }
}

function outcome(result: { accepted: true; index: number } | { accepted: false; reason: string }): string {
  return result.accepted ? `accepted at ${result.index}` : result.reason;
}

/** Membership changes are acknowledged by the operator's next look at the membership, not by callback. */
function ignore(): void {}
