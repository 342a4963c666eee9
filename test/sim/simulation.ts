import type { ConfState, Message, NodeId, Ready } from '../../src/raft/index.ts';
import { InvariantChecker } from './checkers.ts';
import { EventQueue } from '../helpers/event-queue.ts';
import { encodePayload } from './payload.ts';
import { Prng } from './prng.ts';
import { SimNetwork } from './sim-network.ts';
import { SimNode } from './sim-node.ts';
import type { NodeSettings } from './sim-node.ts';

/**
 * A deterministic cluster simulation: 3 or 5 Raft nodes, a simulated clock, network and disks,
 * clients proposing values, an operator changing membership and moving leadership, and random
 * faults, all drawn from one seed. Invariants are checked after every event. After `steps`
 * events every fault is healed and the cluster must converge within a tick budget: a leader, all
 * nodes voters again, and every acknowledged proposal applied exactly once on every node.
 *
 * Same seed, same options, same code: same run, event for event.
 */

/** Deliberate bugs, to show that the checkers catch them. */
export interface SimBugs {
  /** A restarted node forgets whom it voted for (its hard state loses the vote). */
  readonly forgetVote?: boolean;
  /** Messages of a Ready are sent before its writes are durable. */
  readonly sendBeforeSync?: boolean;
}

export interface SimOptions {
  readonly seed: number;
  /** Events in the fault phase. Default 3000. */
  readonly steps?: number;
  /** Ticks the liveness phase may take. Default 3000 (30 simulated seconds). */
  readonly livenessTicks?: number;
  readonly bugs?: SimBugs;
  /** Raft settings forced on every node, instead of those drawn from the seed. */
  readonly overrides?: Partial<NodeSettings>;
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
  readonly settings: string;
  /** The first broken invariant, or null. */
  readonly violation: string | null;
}

export const TICK_MS = 10;

type SimEvent =
  | { readonly kind: 'tick'; readonly node: NodeId; readonly incarnation: number }
  | { readonly kind: 'deliver'; readonly message: Message }
  | { readonly kind: 'persisted'; readonly node: NodeId; readonly incarnation: number }
  | { readonly kind: 'restart'; readonly node: NodeId }
  | { readonly kind: 'crash'; readonly node: NodeId; readonly incarnation: number }
  | { readonly kind: 'client' }
  | { readonly kind: 'fault' }
  | { readonly kind: 'operator' };

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
  private readonly queue = new EventQueue<SimEvent>();
  private readonly network: SimNetwork;
  private readonly nodes: SimNode[] = [];
  private readonly ids: NodeId[];
  private readonly checker = new InvariantChecker();
  private readonly settings: NodeSettings;
  private readonly compactEvery: number;
  private readonly compactKeep: number;
  private readonly minVoters: number;
  private readonly acked = new Set<string>();
  private readonly leaderTerms = new Set<number>();
  private now = 0;
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
    const count = this.random.chance(0.5) ? 3 : 5;
    this.ids = Array.from({ length: count }, (_, i) => i + 1);
    this.minVoters = count === 3 ? 2 : 3;
    const maxMessageBytes = this.random.pick([512, 2048, 8192, 65536]);
    this.settings = {
      electionTicks: 10,
      heartbeatTicks: this.random.pick([1, 1, 2, 3]),
      preVote: this.random.chance(0.75),
      checkQuorum: this.random.chance(0.75),
      maxMessageBytes,
      maxInflightMessages: this.random.pick([1, 2, 4, 16, 64]),
      maxInflightBytes: maxMessageBytes * this.random.pick([1, 4, 64]),
      maxApplyBytes: this.random.pick([1024, 1024 * 1024]),
      maxUncommittedBytes: this.random.pick([16 * 1024, 1024 * 1024]),
      snapshotTimeoutTicks: this.random.pick([30, 200]),
      promotionMaxLagEntries: this.random.pick([0, 5, 50]),
      ...options.overrides,
    };
    this.compactEvery = this.random.pick([8, 40, 150, 1_000_000]);
    this.compactKeep = this.random.pick([0, 3, 20]);
    const conf: ConfState = { voters: this.ids, learners: [] };
    for (const id of this.ids) this.nodes.push(new SimNode(id, conf, this.settings, this.random.fork()));
  }

  run(): SimResult {
    for (const node of this.nodes) {
      node.start();
      this.queue.push(this.random.between(1, TICK_MS), { kind: 'tick', node: node.id, incarnation: node.incarnation });
    }
    this.queue.push(this.random.between(50, 300), { kind: 'client' });
    this.queue.push(this.random.between(100, 500), { kind: 'fault' });
    this.queue.push(this.random.between(200, 800), { kind: 'operator' });
    for (;;) {
      const item = this.queue.pop();
      if (item === undefined) {
        this.checker.fail('liveness', 'the simulation ran out of events');
        break;
      }
      this.now = item.time;
      this.events++;
      try {
        this.handle(item.event);
      } catch (e) {
        const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
        this.checker.fail('no crash', `${describe(item.event)} threw ${detail}`);
      }
      this.checker.observe(this.nodes);
      for (const node of this.nodes) if (node.raft?.isLeader) this.leaderTerms.add(node.raft.term);
      if (this.checker.violation !== null) break;
      if (this.phase === 'faults' && this.events >= this.steps) this.startLiveness();
      if (this.phase === 'liveness') {
        if (this.livenessMet) break;
        if (this.now > this.livenessDeadlineMs) {
          this.checker.fail('liveness', `not converged ${this.livenessTicks} ticks after healing: ${this.livenessProblem()}`);
          break;
        }
      }
    }
    return {
      seed: this.seed,
      nodes: this.ids.length,
      events: this.events,
      simulatedMs: this.now,
      proposed: this.proposed,
      acknowledged: this.acked.size,
      leaderTerms: this.leaderTerms.size,
      settings: this.describeSettings(),
      violation: this.checker.violation === null ? null : `seed ${this.seed}: ${this.checker.violation}`,
    };
  }

  private describeSettings(): string {
    const s = this.settings;
    return (
      `nodes=${this.ids.length} preVote=${s.preVote} checkQuorum=${s.checkQuorum} heartbeat=${s.heartbeatTicks} ` +
      `maxMessageBytes=${s.maxMessageBytes} inflight=${s.maxInflightMessages}/${s.maxInflightBytes} ` +
      `compactEvery=${this.compactEvery} keep=${this.compactKeep}`
    );
  }

  private node(id: NodeId): SimNode {
    return this.nodes[id - 1]!;
  }

  private log(line: string): void {
    if (this.trace !== undefined) this.trace(`${String(this.now).padStart(7)}ms ${line}`);
  }

  private handle(event: SimEvent): void {
    switch (event.kind) {
      case 'tick': {
        const node = this.node(event.node);
        if (node.raft === null || node.incarnation !== event.incarnation) return;
        node.raft.tick();
        this.drive(node);
        this.queue.push(this.now + TICK_MS, event);
        return;
      }
      case 'deliver': {
        const m = event.message;
        const node = this.node(m.to);
        if (node.raft === null || this.network.isBlocked(m.from, m.to)) return;
        this.log(`deliver ${m.from}->${m.to} ${m.type} term=${m.term} index=${m.index} entries=${m.entries.length} commit=${m.commit}${m.reject ? ' reject' : ''}`);
        node.raft.step(m);
        this.drive(node);
        return;
      }
      case 'persisted': {
        const node = this.node(event.node);
        if (node.raft === null || node.incarnation !== event.incarnation) return;
        const rd = node.pending!;
        node.pending = null;
        this.complete(node, rd);
        this.drive(node);
        return;
      }
      case 'restart': {
        const node = this.node(event.node);
        if (node.raft !== null) return;
        this.restart(node);
        return;
      }
      case 'crash': {
        const node = this.node(event.node);
        if (node.raft === null || node.incarnation !== event.incarnation || this.phase !== 'faults') return;
        this.crash(node);
        this.queue.push(this.now + this.faultRandom.between(5, 300), { kind: 'restart', node: node.id });
        return;
      }
      case 'client':
        if (this.phase !== 'faults') return;
        this.clientPropose();
        this.queue.push(this.now + this.clientRandom.between(2, 40), event);
        return;
      case 'fault':
        if (this.phase !== 'faults') return;
        this.injectFault();
        this.queue.push(this.now + this.faultRandom.between(20, 400), event);
        return;
      case 'operator':
        this.operate();
        this.queue.push(this.now + (this.phase === 'faults' ? this.faultRandom.between(100, 800) : 2 * TICK_MS), event);
        return;
    }
  }

  /** Hands out Readies until the node waits for an fsync or has nothing to do. */
  private drive(node: SimNode): void {
    const raft = node.raft;
    if (raft === null) return;
    while (node.pending === null && raft.hasReady()) {
      const rd = raft.ready();
      if (rd.softState !== null) this.log(`node ${node.id} ${rd.softState.role} term=${raft.term} lead=${rd.softState.lead}`);
      if (this.bugs.sendBeforeSync) this.send(rd.messages);
      if (rd.mustSync) {
        node.pending = rd;
        this.queue.push(this.now + node.disk.syncLatencyMs(this.now), { kind: 'persisted', node: node.id, incarnation: node.incarnation });
        return;
      }
      this.complete(node, rd);
    }
  }

  /** The Ready's writes are durable: send, apply, advance (the order ready.ts prescribes). */
  private complete(node: SimNode, rd: Ready): void {
    const raft = node.raft!;
    node.disk.write(node.id, rd, this.checker);
    if (!this.bugs.sendBeforeSync) this.send(rd.messages);
    // A crash right after granting a vote is where a forgotten vote would hurt: make it common.
    if (this.phase === 'faults' && rd.messages.some((m) => m.type === 'voteResp' && !m.reject) && this.faultRandom.chance(0.2)) {
      this.queue.push(this.now, { kind: 'crash', node: node.id, incarnation: node.incarnation });
    }
    if (rd.snapshot !== null) {
      const index = rd.snapshot.metadata.index;
      node.sm.restore(index, rd.snapshot.data);
      for (const proposalIndex of [...node.proposals.keys()]) if (proposalIndex <= index) node.proposals.delete(proposalIndex);
      this.log(`node ${node.id} installed snapshot at ${index}`);
    }
    for (const entry of rd.committedEntries) {
      const id = node.sm.apply(entry);
      this.checker.onApply(node.id, entry, id, id === null ? 0 : node.sm.counts.get(id)!);
      const proposal = node.proposals.get(entry.index);
      if (proposal !== undefined) {
        node.proposals.delete(entry.index);
        if (proposal.term === entry.term && proposal.id === id) this.acked.add(id);
      }
    }
    raft.advance(rd);
    this.maybeCompact(node);
  }

  private maybeCompact(node: SimNode): void {
    const raft = node.raft!;
    const storage = node.disk.storage;
    if (raft.appliedIndex - storage.snapshot().metadata.index < this.compactEvery) return;
    const meta = raft.appliedSnapshotMetadata();
    if (meta === null) return;
    if (node.sm.appliedIndex !== meta.index) throw new Error(`state machine at ${node.sm.appliedIndex}, raft applied ${meta.index}`);
    storage.createSnapshot(meta.index, meta.confState, node.sm.snapshotData());
    storage.compact(Math.max(storage.firstIndex(), meta.index - this.compactKeep + 1));
    this.log(`node ${node.id} compacted to ${storage.firstIndex()} (snapshot ${meta.index})`);
  }

  private send(messages: readonly Message[]): void {
    for (const m of messages) {
      for (const delay of this.network.deliveries(m)) this.queue.push(this.now + delay, { kind: 'deliver', message: m });
    }
  }

  private crash(node: SimNode): void {
    let torn = '';
    if (node.pending !== null) torn = ` (${node.disk.tear(node.id, node.pending, this.checker)})`;
    node.crash();
    this.log(`node ${node.id} crashed${torn}`);
  }

  private restart(node: SimNode): void {
    if (this.bugs.forgetVote) {
      const hardState = node.disk.storage.hardStateNow();
      node.disk.storage.setHardState({ ...hardState, vote: 0 });
    }
    node.start();
    this.checker.restarted(node.id);
    this.log(`node ${node.id} restarted at term ${node.raft!.term} commit ${node.raft!.commitIndex}`);
    this.queue.push(this.now + this.random.between(1, TICK_MS), { kind: 'tick', node: node.id, incarnation: node.incarnation });
    this.drive(node);
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
    const raft = node.raft!;
    const result = count === 1 ? raft.propose(payloads[0]!) : raft.proposeBatch(payloads);
    this.proposed += count;
    if (result.accepted) {
      ids.forEach((id, i) => node.proposals.set(result.index + i, { term: result.term, id }));
      this.log(`client proposed ${ids.join(',')} at node ${node.id} index ${result.index} term ${result.term}`);
    }
    this.drive(node);
  }

  private injectFault(): void {
    const random = this.faultRandom;
    const roll = random.nextInt(100);
    if (roll < 15) {
      const shuffled = [...this.ids];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = random.nextInt(i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const cut = random.between(1, shuffled.length - 1);
      this.network.partition(shuffled.slice(0, cut), shuffled.slice(cut));
      this.log(`fault: partition ${shuffled.slice(0, cut)} | ${shuffled.slice(cut)}`);
    } else if (roll < 25) {
      const isolated = random.pick(this.ids);
      this.network.partition([isolated], this.ids.filter((id) => id !== isolated));
      this.log(`fault: isolate ${isolated}`);
    } else if (roll < 35) {
      const from = random.pick(this.ids);
      const to = random.pick(this.ids.filter((id) => id !== from));
      this.network.block(from, to);
      this.log(`fault: cut link ${from}->${to}`);
    } else if (roll < 55) {
      this.network.heal();
      this.log('fault: heal network');
    } else if (roll < 70) {
      const up = this.upNodes();
      if (up.length === 0) return;
      // Crash the leader more often than the others: that is where the interesting cases are.
      const leader = this.leader();
      const victim = leader !== null && random.chance(0.4) ? leader : random.pick(up);
      this.crash(victim);
      this.queue.push(this.now + random.between(20, 2000), { kind: 'restart', node: victim.id });
    } else if (roll < 80) {
      const node = random.pick(this.nodes);
      node.disk.slowUntilMs = this.now + random.between(100, 2000);
      this.log(`fault: slow fsync on node ${node.id}`);
    } else {
      this.network.dropRate = random.pick([0, 0, 0.01, 0.05, 0.2]);
      this.network.duplicateRate = random.pick([0, 0.02, 0.1]);
      this.network.minDelayMs = random.between(0, 5);
      this.network.maxDelayMs = this.network.minDelayMs + random.pick([5, 20, 80]);
      this.log(`fault: network drop=${this.network.dropRate} dup=${this.network.duplicateRate} delay=${this.network.minDelayMs}..${this.network.maxDelayMs}ms`);
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
    const raft = leader.raft!;
    const conf = raft.confState();
    const missing = this.ids.filter((id) => !conf.voters.includes(id) && !conf.learners.includes(id));
    const random = this.faultRandom;
    const roll = this.phase === 'liveness' ? 0 : random.nextFloat();
    let action = '';
    if (conf.learners.length > 0 && roll < 0.3) {
      const nodeId = conf.learners[0]!;
      action = `promote ${nodeId}: ${outcome(raft.proposeConfChange({ type: 'promoteLearner', nodeId }))}`;
    } else if (missing.length > 0 && roll < 0.45) {
      const nodeId = missing[0]!;
      action = `add learner ${nodeId}: ${outcome(raft.proposeConfChange({ type: 'addLearner', nodeId }))}`;
    } else if (this.phase === 'faults' && roll >= 0.45 && roll < 0.55 && conf.voters.length > this.minVoters) {
      const nodeId = random.pick(conf.voters);
      action = `remove ${nodeId}: ${outcome(raft.proposeConfChange({ type: 'removeNode', nodeId }))}`;
    } else if (this.phase === 'faults' && roll >= 0.55 && roll < 0.7) {
      const others = conf.voters.filter((id) => id !== leader.id);
      if (others.length > 0) {
        const target = random.pick(others);
        const result = raft.transferLeader(target);
        action = `transfer leadership ${leader.id}->${target}: ${result.accepted ? 'accepted' : result.reason}`;
      }
    }
    if (action !== '') this.log(`operator: ${action}`);
    this.drive(leader);
  }

  private startLiveness(): void {
    this.phase = 'liveness';
    this.livenessDeadlineMs = this.now + this.livenessTicks * TICK_MS;
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

function describe(event: SimEvent): string {
  switch (event.kind) {
    case 'deliver':
      return `delivering ${event.message.type} ${event.message.from}->${event.message.to}`;
    case 'tick':
    case 'persisted':
    case 'restart':
    case 'crash':
      return `${event.kind} of node ${event.node}`;
    default:
      return `${event.kind} event`;
  }
}
