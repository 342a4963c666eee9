/**
 * Partition balancing (cluster.partitionBalancing): which replicas move so that every active broker
 * (registered, not draining, reachable) holds as many replicas as any other within one, for example
 * after a broker was recommissioned empty. The controller's leader asks this plan when nothing is
 * draining; each move is a reassignment (reassignment.ts) that replaces one replica of one partition
 * in place: from a broker holding the most replicas to one holding the fewest.
 *
 * A move is only made when it narrows the spread (most - fewest > 1), so the plan ends, and only when
 * it keeps the partition's rack spread (the new broker's rack is not already among the partition's
 * other replicas, unless the leaving broker shares it), so balancing never undoes rack-aware placement.
 * Partitions already moving are left alone and count against `maxMoving`. Pure: state in, moves out.
 */
import type { ClusterState } from './cluster-state.ts';
import type { DrainMove, DrainOptions } from './drain-plan.ts';
import { inFlux, replicaSet } from './reassignment.ts';

export function balanceMoves(state: ClusterState, options: DrainOptions): DrainMove[] {
  let budget = options.maxMoving - state.reassignmentCount();
  if (budget <= 0) return [];
  const brokers = state.brokers().filter((b) => b.draining !== true && options.usable(b.id));
  if (brokers.length < 2) return [];
  const rackOf = new Map(state.brokers().map((b) => [b.id, b.rack]));
  const load = new Map(brokers.map((b) => [b.id, 0]));
  const topics = state.topics().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const t of topics) for (let p = 0; p < t.partitions; p++) for (const id of replicaSet(t, p)) if (load.has(id)) load.set(id, load.get(id)! + 1);
  const moves: DrainMove[] = [];
  const planned = new Set<string>();
  while (budget > 0) {
    const ranked = [...load].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    const [to, fewest] = ranked[0]!;
    const [from, most] = ranked[ranked.length - 1]!;
    if (most - fewest <= 1) break;
    let move: DrainMove | null = null;
    for (const t of topics) {
      for (let index = 0; index < t.partitions && move === null; index++) {
        const key = `${t.name}\u0000${index}`;
        if (planned.has(key) || inFlux(t, index) || options.settled?.(t.name, index) === false) continue;
        const current = t.assignments[index]!;
        const at = current.indexOf(from);
        if (at < 0 || current.includes(to)) continue;
        const otherRacks = current.filter((id) => id !== from).map((id) => rackOf.get(id) ?? null);
        const toRack = rackOf.get(to) ?? null;
        if (otherRacks.includes(toRack) && toRack !== (rackOf.get(from) ?? null)) continue;
        const replicas = [...current];
        replicas[at] = to;
        move = { topic: t.name, index, replicas };
        planned.add(key);
      }
      if (move !== null) break;
    }
    if (move === null) break;
    moves.push(move);
    load.set(from, most - 1);
    load.set(to, fewest + 1);
    budget--;
  }
  return moves;
}
