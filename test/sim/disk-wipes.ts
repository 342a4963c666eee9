// Which node may lose its disk, and when it has recovered. A wiped node comes back empty under its
// old id and must not count as holding what it acknowledged before: the join protocol (RaftConfig
// joining) is what keeps the cluster safe meanwhile. Losing more logs than a majority can spare is
// data loss no protocol can undo, and a joining node neither votes nor campaigns until a leader
// caught it up: until then it is as good as down, and the other voters must be able to elect a
// leader without it. Hence at most one wiped node recovers at a time, a voter is wiped only among
// three or more, and the voters do not change around it. While a membership change is in flight,
// a member may hold the longest log and yet not campaign (removed, or promoted without knowing it
// yet) while the others, still counting it, need its vote, which it refuses to a shorter log: with
// a joining voter besides, no one can win. So no disk is replaced while the configurations the
// nodes hold differ, and while one recovers the operator removes no voter and promotes no one but it.
import { applyConfChange, confChangeProblem, decodeConfChange, EntryType } from '../../src/raft/index.ts';
import type { ConfChangeType, ConfState, Entry, NodeId } from '../../src/raft/index.ts';
import type { SimNode } from './sim-node.ts';

interface Recovering {
  readonly node: SimNode;
  /** The highest index any node had reported committed when it was wiped. */
  readonly committedAtWipe: number;
}

export class DiskWipes {
  /** Disks replaced so far. */
  count = 0;
  /** Wiped nodes that finished recovering. */
  recovered = 0;
  private recovering: Recovering | null = null;

  /** Whether `node` may be wiped now (see above). */
  mayWipe(node: SimNode, nodes: readonly SimNode[]): boolean {
    if (this.recovering !== null && this.recovering.node !== node) return false;
    const confs = possibleConfs(nodes);
    const voters = confs[0]!.voters;
    if (confs.some((conf) => !sameVoters(conf.voters, voters))) return false;
    return !voters.includes(node.id) || voters.length >= 3;
  }

  /** Whether the operator may make this membership change now (see above). */
  mayChange(type: ConfChangeType, nodeId: NodeId): boolean {
    const r = this.recovering;
    if (r === null || type === 'addLearner') return true;
    return type === 'promoteLearner' && nodeId === r.node.id;
  }

  wiped(node: SimNode, committedAtWipe: number): void {
    this.count++;
    this.recovering = { node, committedAtWipe };
  }

  /**
   * After every event: the recovering node is done once it no longer joins and has applied (so
   * durably holds, in its log or a snapshot) everything committed when it was wiped.
   */
  check(): void {
    const r = this.recovering;
    if (r === null || !r.node.up || r.node.joining || r.node.sm.appliedIndex < r.committedAtWipe) return;
    this.recovering = null;
    this.recovered++;
  }
}

/**
 * Every configuration some node applied or holds in its log (committed or not, durable or not):
 * any of them may come into force.
 */
/** The voters every up node agrees on (mayWipe checked that they agree). */
export function agreedVoters(nodes: readonly SimNode[]): readonly NodeId[] {
  return possibleConfs(nodes)[0]!.voters;
}

function possibleConfs(nodes: readonly SimNode[]): ConfState[] {
  const confs: ConfState[] = [];
  for (const node of nodes) {
    let conf: ConfState;
    let tail: readonly Entry[];
    const raft = node.raft;
    node.disk.loadFaults = false;
    if (raft !== null) {
      conf = raft.confState();
      tail = raft.lastIndex > raft.appliedIndex ? (raft.entries(raft.appliedIndex + 1, raft.lastIndex + 1) ?? []) : [];
    } else {
      const storage = node.disk.storage;
      conf = storage.snapshot().metadata.confState;
      tail = storage.lastIndex() >= storage.firstIndex() ? storage.entries(storage.firstIndex(), storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER) : [];
    }
    node.disk.loadFaults = true;
    confs.push(conf);
    for (const entry of tail) {
      if (entry.type !== EntryType.ConfChange) continue;
      const change = decodeConfChange(entry.data);
      // A stale branch may hold a change that no longer applies: it never comes into force.
      if (confChangeProblem(conf, change) !== null) continue;
      conf = applyConfChange(conf, change);
      confs.push(conf);
    }
  }
  return confs;
}

function sameVoters(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
