/**
 * Where the replicas of new partitions go. Pure and deterministic: the same brokers, load, counts and
 * start index give the same assignments, so the controller can carry the result inside a command and
 * every replica of its log applies the same placement.
 *
 * The rules, strongest first:
 * 1. A partition's replicas are distinct brokers.
 * 2. They span min(replicationFactor, racks) racks, as Kafka's rack-aware assignment does, so losing one
 *    rack (an availability zone) costs a partition as few replicas as the racks allow. Brokers without a
 *    rack count together as one rack.
 * 3. Preferred-leader counts (first replica) per broker, counting the partitions that already exist, stay
 *    within one of each other: the leader is always a broker leading the fewest.
 * 4. Replica counts stay within one of each other inside every rack and, when all racks have the same
 *    number of brokers (or there are no racks), across the whole cluster. With uneven racks rule 2 wins
 *    and brokers in smaller racks carry more, as in Kafka. Where counts are already uneven (a broker just
 *    joined), new replicas go to the least loaded brokers first.
 * 5. Remaining ties go to the unit nearest after position (startIndex + partition), so topics created one
 *    after another do not all start on the same broker.
 *
 * Method: each partition is placed twice over the same small problem (pickUnits): first over racks (how
 * many replicas each rack takes, and which rack leads), then over the brokers of each chosen rack.
 */
import { assert } from '../util/assert.ts';
import { pickUnits, type Unit } from './unit-picking.ts';

export interface PlacementBroker {
  readonly id: number;
  readonly rack: string | null;
}

/** What a broker already holds: replicas of any partition, and partitions it is the preferred leader of. */
export interface BrokerLoad {
  readonly replicas: number;
  readonly leaders: number;
}

export interface PlacementRequest {
  readonly brokers: readonly PlacementBroker[];
  /** Load per broker id; a broker missing here holds nothing yet. */
  readonly load: ReadonlyMap<number, BrokerLoad>;
  readonly partitions: number;
  readonly replicationFactor: number;
  readonly startIndex: number;
}

export type Placement =
  | { error: null; assignments: number[][] }
  | { error: 'INVALID_REPLICATION_FACTOR'; message: string };

export function placeReplicas(request: PlacementRequest): Placement {
  const { partitions, replicationFactor, startIndex } = request;
  assert(Number.isInteger(partitions) && partitions >= 0, `partition count ${partitions} is not a count`);
  assert(Number.isInteger(startIndex) && startIndex >= 0, `start index ${startIndex} is not an index`);
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    return { error: 'INVALID_REPLICATION_FACTOR', message: 'Replication factor must be larger than 0.' };
  }
  if (replicationFactor > request.brokers.length) {
    return {
      error: 'INVALID_REPLICATION_FACTOR',
      message: `Replication factor: ${replicationFactor} larger than available brokers: ${request.brokers.length}.`,
    };
  }
  const cluster = new ClusterLoad(request.brokers, request.load);
  const assignments: number[][] = [];
  for (let p = 0; p < partitions; p++) {
    const replicas = cluster.place(replicationFactor, startIndex + p);
    assert(replicas.length === replicationFactor, 'a placed partition has the wrong replica count');
    assert(new Set(replicas).size === replicationFactor, 'a placed partition repeats a broker');
    assignments.push(replicas);
  }
  return { error: null, assignments };
}

/** Working counts while a request is placed. */
class ClusterLoad {
  /** Each rack's brokers (ids in ascending order), racks in order of their lowest broker id. */
  private readonly racks: number[][] = [];
  private readonly replicas = new Map<number, number>();
  private readonly leaders = new Map<number, number>();

  constructor(brokers: readonly PlacementBroker[], load: ReadonlyMap<number, BrokerLoad>) {
    const sorted = [...brokers].sort((a, b) => a.id - b.id);
    const rackIndex = new Map<string | null, number>();
    for (const b of sorted) {
      assert(!this.replicas.has(b.id), `broker ${b.id} is listed twice`);
      this.replicas.set(b.id, load.get(b.id)?.replicas ?? 0);
      this.leaders.set(b.id, load.get(b.id)?.leaders ?? 0);
      if (!rackIndex.has(b.rack)) {
        rackIndex.set(b.rack, this.racks.length);
        this.racks.push([]);
      }
      this.racks[rackIndex.get(b.rack)!]!.push(b.id);
    }
  }

  /** One partition's replicas, leader first, followers alternating between racks; counts them in. */
  place(replicationFactor: number, position: number): number[] {
    const fewestLed = Math.min(...this.leaders.values());
    const canLead = (id: number) => this.leaders.get(id) === fewestLed;
    // Only racks holding a broker that leads the fewest may lead, so rule 3 holds whatever rack wins.
    const rackUnits = this.racks.map((members) => this.unitOf(members));
    const leadingRacks = this.racks.flatMap((members, r) => (members.some(canLead) ? [r] : []));
    const plan = pickUnits(rackUnits, replicationFactor, leadingRacks, position);
    assert(plan.leader !== null, 'no rack can lead');
    const chosenPerRack = this.racks.map((members, r) => {
      if (plan.counts[r] === 0) return [];
      const brokerUnits = members.map((id) => this.unitOf([id]));
      const leaders = r === plan.leader ? members.flatMap((id, i) => (canLead(id) ? [i] : [])) : null;
      const pick = pickUnits(brokerUnits, plan.counts[r]!, leaders, position);
      const order = pick.leader === null ? [] : [pick.leader];
      for (let k = 0; k < members.length; k++) {
        const i = (position + k) % members.length;
        if (pick.counts[i] === 1 && i !== pick.leader) order.push(i);
      }
      return order.map((i) => members[i]!);
    });
    // Leader first, then one broker per rack in turn starting after the leader's rack, as Kafka
    // alternates racks, so any prefix of the list spans as many racks as it can.
    const replicas: number[] = [];
    for (let round = 0; replicas.length < replicationFactor; round++) {
      for (let k = 0; k < this.racks.length; k++) {
        const id = chosenPerRack[(plan.leader + k) % this.racks.length]![round];
        if (id !== undefined) replicas.push(id);
      }
    }
    this.leaders.set(replicas[0]!, this.leaders.get(replicas[0]!)! + 1);
    for (const id of replicas) this.replicas.set(id, this.replicas.get(id)! + 1);
    return replicas;
  }

  private unitOf(members: readonly number[]): Unit {
    let replicas = 0;
    let leaders = 0;
    for (const id of members) {
      replicas += this.replicas.get(id)!;
      leaders += this.leaders.get(id)!;
    }
    return { replicas, leaders, size: members.length };
  }
}
