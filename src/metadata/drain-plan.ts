/**
 * Decommissioning: which partitions move off the brokers being drained, and where to. The controller's
 * leader asks this plan every second and submits its moves as reassignments (reassignment.ts), at most
 * `maxMoving` partitions moving at a time over the whole cluster, so that the copies do not take all
 * of the brokers' disks and network from clients.
 *
 * Each replica on a draining broker is replaced in place (so a preferred leader's place goes to its
 * replacement) by a broker that is registered, not draining, reachable, not already a replica of the
 * partition, preferring racks the partition's other replicas do not use (the rack spread placement
 * gave it), then the broker holding the fewest replicas, counting the moves planned in this round.
 * Partitions already moving are left alone until their move ends, unless their target puts a replica on a
 * draining broker: that target is re-planned the same way (a broker that died during a move would
 * otherwise hold it, and the moving budget, for good). Pure: state in, moves out.
 */
import type { ClusterState } from './cluster-state.ts';
import { inFlux, targetOf } from './reassignment.ts';

export interface DrainMove {
  readonly topic: string;
  readonly index: number;
  readonly replicas: number[];
}

export interface DrainOptions {
  /** Partitions moving at once at most, over the cluster (moves already under way count). */
  readonly maxMoving: number;
  /** Whether a broker can take a replica now (reachable). */
  readonly usable: (brokerId: number) => boolean;
  /**
   * Whether a partition may be moved for balance now; default yes. Balancing holds back partitions with
   * a member that is up but not in sync (being refilled after a replaced disk, catching up): a
   * membership change then could leave a member counting votes that member cannot give yet.
   * Decommissioning does not wait (a drained broker's replicas must go).
   */
  readonly settled?: (topic: string, index: number) => boolean;
}

export function drainMoves(state: ClusterState, options: DrainOptions): DrainMove[] {
  const brokers = state.brokers();
  const draining = new Set(brokers.filter((b) => b.draining === true).map((b) => b.id));
  if (draining.size === 0) return [];
  const rackOf = new Map(brokers.map((b) => [b.id, b.rack]));
  const candidates = brokers.filter((b) => !draining.has(b.id) && options.usable(b.id)).map((b) => b.id);
  const load = new Map([...state.brokerLoads()].map(([id, l]) => [id, l.replicas]));
  const topics = state.topics().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const moves: DrainMove[] = [];
  // Moves under way that would put a replica on a draining broker (balancing chose it just before it
  // died, say) never end while it is gone, and they hold the moving budget: they are re-targeted
  // first, whatever the budget, since they replace a move rather than add one.
  for (const topic of topics) {
    for (let index = 0; index < topic.partitions; index++) {
      const target = targetOf(topic, index);
      if (target === undefined || !target.some((id) => draining.has(id))) continue;
      const replicas = replaceDraining(target, draining, candidates, rackOf, load);
      if (replicas !== null) moves.push({ topic: topic.name, index, replicas });
    }
  }
  let budget = options.maxMoving - state.reassignmentCount();
  for (const topic of topics) {
    for (let index = 0; index < topic.partitions && budget > 0; index++) {
      if (inFlux(topic, index)) continue;
      const current = topic.assignments[index]!;
      if (!current.some((id) => draining.has(id))) continue;
      const replicas = replaceDraining(current, draining, candidates, rackOf, load);
      if (replicas === null) continue;
      moves.push({ topic: topic.name, index, replicas });
      budget--;
    }
    if (budget <= 0) break;
  }
  return moves;
}

/**
 * `replicas` with each draining broker replaced in place by a usable one, preferring racks the other
 * replicas do not use, then the fewest replicas (`load`, updated with each pick); null when some
 * draining broker has no replacement.
 */
function replaceDraining(current: readonly number[], draining: ReadonlySet<number>, candidates: readonly number[], rackOf: ReadonlyMap<number, string | null>, load: Map<number, number>): number[] | null {
  const replicas = [...current];
  for (let i = 0; i < replicas.length; i++) {
    if (!draining.has(replicas[i]!)) continue;
    const racks = new Set(replicas.filter((id, j) => j !== i && !draining.has(id)).map((id) => rackOf.get(id) ?? null));
    const pick = candidates
      .filter((id) => !replicas.includes(id))
      .sort((a, b) => Number(racks.has(rackOf.get(a) ?? null)) - Number(racks.has(rackOf.get(b) ?? null)) || (load.get(a) ?? 0) - (load.get(b) ?? 0) || a - b)[0];
    if (pick === undefined) return null;
    replicas[i] = pick;
    load.set(pick, (load.get(pick) ?? 0) + 1);
  }
  return replicas;
}
