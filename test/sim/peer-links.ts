// The links between simulated nodes as a broker's transport sees them (src/replication/multi-raft.ts
// peerState): when a node restarts, each other node's link to it comes up again a little later, and
// then its driver hears peerReconnected (a leader forgets what the peer acknowledged: the new process
// may have lost it, on a replaced disk). Messages the peer's earlier process sent travelled on its old
// connection, which died with it: they may still arrive before the link comes up, never after.
import type { NodeId } from '../../src/raft/index.ts';
import type { ManualClock } from '../helpers/manual-clock.ts';
import type { Prng } from './prng.ts';
import type { SimNode } from './sim-node.ts';

/** Longest delay, in simulated ms, between a restart and a peer seeing the link come up. */
export const RECONNECT_MAX_MS = 60;

export class PeerLinks {
  /** `${to}<${from}` -> the first incarnation of `from` whose messages `to` still accepts. */
  private readonly floors = new Map<string, number>();

  constructor(
    private readonly clock: ManualClock,
    private readonly random: Prng,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * `node` (re)started: every other up node's link to it comes up after its own small random delay,
   * which may be after the first messages between them arrived (the race a joining node's heartbeat
   * clamp covers). A node that restarts meanwhile has a new process: its own restart handles it.
   */
  restarted(node: SimNode, others: readonly SimNode[]): void {
    const incarnation = node.incarnation;
    for (const other of others) {
      if (other === node || !other.up) continue;
      const otherIncarnation = other.incarnation;
      this.clock.setTimer(this.random.between(0, RECONNECT_MAX_MS), () => {
        if (other.driver === null || other.incarnation !== otherIncarnation) return;
        const key = linkKey(node.id, other.id);
        this.floors.set(key, Math.max(this.floors.get(key) ?? 0, incarnation));
        this.log(`link ${other.id}->${node.id} up: peerReconnected(${node.id}) on node ${other.id}`);
        other.driver.peerReconnected(node.id);
      });
    }
  }

  /** Whether a message sent by incarnation `incarnation` of `from` may still reach `to`. */
  accepts(from: NodeId, incarnation: number, to: NodeId): boolean {
    return incarnation >= (this.floors.get(linkKey(from, to)) ?? 0);
  }
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${to}<${from}`;
}
