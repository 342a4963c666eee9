import { EntryType, MemoryStorage, RaftNode } from '../../../src/raft/index.ts';
import type { ConfChangeType, Message, NodeId, RaftConfig, Ready } from '../../../src/raft/index.ts';
import { formatEntries, formatMessage, formatReady, formatSnapshot } from './format.ts';

/**
 * The world of a scenario script: a few Raft nodes with in-memory durable storage, a state
 * machine per node (the list of applied payloads), and one FIFO of messages in flight that the
 * script delivers, drops or reorders explicitly. Nothing happens unless a command says so, which
 * is what makes an interleaving readable.
 */

export interface Command {
  readonly name: string;
  readonly args: readonly string[];
  readonly options: ReadonlyMap<string, string>;
}

type Settings = Omit<RaftConfig, 'id' | 'storage' | 'random' | 'applied'>;

interface EnvNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  readonly settings: Settings;
  raft: RaftNode | null;
  applied: string[];
  /** What the node's Random returns (modulo the bound): the election-timeout jitter in ticks. */
  jitter: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ScenarioEnv {
  private readonly nodes = new Map<NodeId, EnvNode>();
  private queue: Message[] = [];
  private readonly isolated = new Set<NodeId>();

  /** Runs one command and returns its output lines (never empty: "ok" when there is nothing to say). */
  run(command: Command): string[] {
    const lines = this.dispatch(command);
    return lines.length === 0 ? ['ok'] : lines;
  }

  private dispatch(c: Command): string[] {
    switch (c.name) {
      case 'add-nodes':
        return this.addNodes(c);
      case 'set-jitter':
        this.node(c.args[0]).jitter = int(c.args[1]);
        return [];
      case 'campaign':
        this.raft(c.args[0]).campaign();
        return [];
      case 'tick': {
        const count = int(c.options.get('n') ?? '1');
        for (const id of this.ids(c.args[0])) for (let i = 0; i < count; i++) this.raft(String(id)).tick();
        return [];
      }
      case 'tick-and-settle': {
        // n rounds of: every live node ticks once, then all traffic settles. Prints only the
        // role changes, so quiet periods stay short in a script.
        const rounds = int(c.options.get('n') ?? '1');
        const changes: string[] = [];
        for (let i = 0; i < rounds; i++) {
          for (const id of this.ids('all')) this.raft(String(id)).tick();
          let node = '';
          for (const line of this.stabilize()) {
            if (line.startsWith('ready ')) node = line.slice(6, -1);
            if (line.startsWith('  role=')) changes.push(`round ${i + 1}: node ${node} ${line.trim()}`);
          }
        }
        return changes;
      }
      case 'propose': {
        const result = this.raft(c.args[0]).propose(encoder.encode(c.args[1] ?? ''));
        return [result.accepted ? `accepted index=${result.index} term=${result.term}` : `refused ${result.reason}`];
      }
      case 'propose-batch': {
        const result = this.raft(c.args[0]).proposeBatch(c.args.slice(1).map((text) => encoder.encode(text)));
        return [result.accepted ? `accepted index=${result.index} term=${result.term}` : `refused ${result.reason}`];
      }
      case 'propose-conf-change': {
        const types: Record<string, ConfChangeType> = { 'add-learner': 'addLearner', promote: 'promoteLearner', remove: 'removeNode' };
        const type = types[c.args[1] ?? ''];
        if (type === undefined) throw new Error(`unknown conf change ${c.args[1]}`);
        const result = this.raft(c.args[0]).proposeConfChange({ type, nodeId: int(c.args[2]) });
        return [result.accepted ? `accepted index=${result.index} term=${result.term}` : `refused ${result.reason}`];
      }
      case 'transfer-leader': {
        const result = this.raft(c.args[0]).transferLeader(int(c.args[1]));
        return [result.accepted ? 'accepted' : `refused ${result.reason}`];
      }
      case 'report-unreachable':
        this.raft(c.args[0]).reportUnreachable(int(c.args[1]));
        return [];
      case 'process-ready':
        return this.ids(c.args[0] ?? 'all').flatMap((id) => this.processReady(id));
      case 'deliver-msgs':
        return this.deliver(c);
      case 'stabilize':
        return this.stabilize();
      case 'raft-state':
        return this.raftState();
      case 'raft-log':
        return this.raftLog(this.node(c.args[0]));
      case 'applied':
        return [this.node(c.args[0]).applied.join(' ') || '(nothing)'];
      case 'status':
        return this.status(c.args[0]);
      case 'isolate':
        this.isolated.add(int(c.args[0]));
        return [];
      case 'heal':
        this.isolated.clear();
        return [];
      case 'crash': {
        const node = this.node(c.args[0]);
        node.raft = null;
        return [];
      }
      case 'restart':
        return this.restart(this.node(c.args[0]));
      case 'compact':
        return this.compact(this.node(c.args[0]), int(c.args[1]));
      default:
        throw new Error(`unknown command ${c.name}`);
    }
  }

  private addNodes(c: Command): string[] {
    const count = int(c.args[0]);
    const list = (key: string): number[] => (c.options.get(key) ?? '').split(',').filter((x) => x !== '').map(int);
    const voters = list('voters');
    const learners = list('learners');
    const option = (key: string): number | undefined => (c.options.has(key) ? int(c.options.get(key)) : undefined);
    const settings: Settings = {
      electionTicks: option('election') ?? 10,
      heartbeatTicks: option('heartbeat') ?? 1,
      preVote: c.options.get('prevote') !== 'false',
      checkQuorum: c.options.get('checkquorum') !== 'false',
      ...(option('max-msg-bytes') !== undefined ? { maxMessageBytes: option('max-msg-bytes')! } : {}),
      ...(option('max-inflight') !== undefined ? { maxInflightMessages: option('max-inflight')! } : {}),
      ...(option('max-inflight-bytes') !== undefined ? { maxInflightBytes: option('max-inflight-bytes')! } : {}),
      ...(option('max-uncommitted') !== undefined ? { maxUncommittedBytes: option('max-uncommitted')! } : {}),
      ...(option('promotion-lag') !== undefined ? { promotionMaxLagEntries: option('promotion-lag')! } : {}),
      ...(option('snapshot-timeout') !== undefined ? { snapshotTimeoutTicks: option('snapshot-timeout')! } : {}),
    };
    const created: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = this.nodes.size + 1;
      const node: EnvNode = { id, storage: new MemoryStorage({ voters, learners }), settings, raft: null, applied: [], jitter: 0 };
      this.nodes.set(id, node);
      this.boot(node);
      created.push(id);
    }
    return [`nodes ${created.join(',')}: voters=${voters.join(',')}${learners.length > 0 ? ` learners=${learners.join(',')}` : ''}`];
  }

  private boot(node: EnvNode): void {
    const snapshot = node.storage.snapshot();
    node.applied = snapshot.data.length > 0 ? decoder.decode(snapshot.data).split(',') : [];
    const random = { nextInt: (bound: number) => node.jitter % bound };
    node.raft = new RaftNode({ ...node.settings, id: node.id, storage: node.storage, random, applied: snapshot.metadata.index });
  }

  private node(arg: string | undefined): EnvNode {
    const node = this.nodes.get(int(arg));
    if (node === undefined) throw new Error(`no node ${arg}`);
    return node;
  }

  private raft(arg: string | undefined): RaftNode {
    const raft = this.node(arg).raft;
    if (raft === null) throw new Error(`node ${arg} is down`);
    return raft;
  }

  /** "all", or a comma-separated list of ids. "all" means the nodes that are up. */
  private ids(arg: string | undefined): NodeId[] {
    if (arg === undefined || arg === 'all') return [...this.nodes.values()].filter((n) => n.raft !== null).map((n) => n.id);
    return arg.split(',').map(int);
  }

  private processReady(id: NodeId): string[] {
    const node = this.node(String(id));
    const raft = node.raft;
    if (raft === null || !raft.hasReady()) return [];
    const rd = raft.ready();
    const lines = formatReady(id, rd);
    this.handleReady(node, rd);
    return lines;
  }

  /** The driver's side of the Ready contract, in its order: persist, send, apply, advance. */
  private handleReady(node: EnvNode, rd: Ready): void {
    if (rd.snapshot !== null) {
      node.storage.applySnapshot(rd.snapshot);
      node.applied = rd.snapshot.data.length > 0 ? decoder.decode(rd.snapshot.data).split(',') : [];
    }
    node.storage.append(rd.entries);
    if (rd.hardState !== null) node.storage.setHardState(rd.hardState);
    this.queue.push(...rd.messages);
    for (const entry of rd.committedEntries) {
      if (entry.type === EntryType.Normal && entry.data.length > 0) node.applied.push(decoder.decode(entry.data));
    }
    node.raft!.advance(rd);
  }

  private deliver(c: Command): string[] {
    const to = c.options.has('to') ? new Set(this.ids(c.options.get('to'))) : null;
    const from = c.options.has('from') ? new Set(this.ids(c.options.get('from'))) : null;
    const type = c.options.get('type');
    const drop = c.args.includes('drop');
    const lines: string[] = [];
    const kept: Message[] = [];
    const selected: Message[] = [];
    for (const m of this.queue) {
      const match = (to === null || to.has(m.to)) && (from === null || from.has(m.from)) && (type === undefined || m.type === type);
      (match ? selected : kept).push(m);
    }
    this.queue = kept;
    for (const m of selected) lines.push(...this.deliverOne(m, drop));
    return lines;
  }

  private deliverOne(m: Message, drop: boolean): string[] {
    const target = this.nodes.get(m.to);
    if (drop || target === undefined || target.raft === null || this.isolated.has(m.from) || this.isolated.has(m.to)) {
      return [`drop ${formatMessage(m)}`];
    }
    target.raft.step(m);
    return [`deliver ${formatMessage(m)}`];
  }

  private stabilize(): string[] {
    const lines: string[] = [];
    for (let round = 0; round < 100; round++) {
      let progressed = false;
      for (const id of this.ids('all')) {
        const out = this.processReady(id);
        if (out.length > 0) progressed = true;
        lines.push(...out);
      }
      if (this.queue.length > 0) {
        progressed = true;
        const messages = this.queue;
        this.queue = [];
        for (const m of messages) lines.push(...this.deliverOne(m, false));
      }
      if (!progressed) return lines;
    }
    throw new Error('stabilize did not settle within 100 rounds');
  }

  private raftState(): string[] {
    return [...this.nodes.values()].map((node) => {
      if (node.raft === null) return `${node.id}: down`;
      const s = node.raft.status();
      const learners = s.confState.learners.length > 0 ? ` learners=${s.confState.learners.join(',')}` : '';
      return `${node.id}: ${s.role} term=${s.term} vote=${s.vote} lead=${s.lead} commit=${s.commit} applied=${s.applied} last=${s.lastIndex} voters=${s.confState.voters.join(',')}${learners}`;
    });
  }

  private raftLog(node: EnvNode): string[] {
    const storage = node.storage;
    const lines = [`snapshot ${formatSnapshot(storage.snapshot())}`, `first=${storage.firstIndex()} last=${storage.lastIndex()}`];
    if (storage.lastIndex() >= storage.firstIndex()) {
      lines.push(formatEntries(storage.entries(storage.firstIndex(), storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER)));
    }
    const hs = storage.hardStateNow();
    lines.push(`hard state term=${hs.term} vote=${hs.vote} commit=${hs.commit}`);
    return lines;
  }

  private status(arg: string | undefined): string[] {
    const s = this.raft(arg).status();
    if (s.progress === null) return [`${s.id} is ${s.role}: no progress`];
    return [...s.progress].map(([id, pr]) => `${id}: ${pr.state} match=${pr.match} next=${pr.next}${pr.isLearner ? ' learner' : ''} inflight-bytes=${pr.inflightBytes}${pr.recentActive ? ' active' : ''}`);
  }

  private restart(node: EnvNode): string[] {
    this.boot(node);
    const raft = node.raft!;
    return [`${node.id} restarted: term=${raft.term} commit=${raft.commitIndex} applied=${raft.appliedIndex} last=${raft.lastIndex}`];
  }

  /** Snapshots the node's state machine at its applied index and drops entries before `index`. */
  private compact(node: EnvNode, index: number): string[] {
    const raft = node.raft;
    if (raft === null) throw new Error(`node ${node.id} is down`);
    const meta = raft.appliedSnapshotMetadata();
    if (meta === null) throw new Error(`node ${node.id} has a Ready outstanding or a snapshot installing`);
    if (meta.index > node.storage.snapshot().metadata.index) node.storage.createSnapshot(meta.index, meta.confState, encoder.encode(node.applied.join(',')));
    node.storage.compact(index);
    return [`snapshot ${formatSnapshot(node.storage.snapshot())}`, `first=${node.storage.firstIndex()} last=${node.storage.lastIndex()}`];
  }
}

function int(text: string | undefined): number {
  const value = Number(text);
  if (text === undefined || !Number.isInteger(value)) throw new Error(`expected an integer, got ${text}`);
  return value;
}
