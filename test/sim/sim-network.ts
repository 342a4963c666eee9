import type { Message, NodeId } from '../../src/raft/index.ts';
import type { Prng } from './prng.ts';

/**
 * The simulated network between nodes. Each send yields zero, one or two deliveries (drop,
 * duplicate), each after its own random delay, so messages also reorder. Links can be cut one
 * direction at a time: cutting both directions between two groups is a symmetric partition,
 * cutting one is an asymmetric one. A message in flight on a link that gets cut is lost. Raft
 * messages and any other traffic between nodes (the controller's forwards) share these links.
 */
export class SimNetwork {
  dropRate = 0;
  duplicateRate = 0;
  minDelayMs = 1;
  maxDelayMs = 10;
  private readonly blocked = new Set<string>();
  private readonly random: Prng;

  constructor(random: Prng) {
    this.random = random;
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  block(from: NodeId, to: NodeId): void {
    this.blocked.add(`${from}>${to}`);
  }

  /** Cuts every link between the two groups, both ways. */
  partition(left: readonly NodeId[], right: readonly NodeId[]): void {
    for (const a of left) {
      for (const b of right) {
        this.block(a, b);
        this.block(b, a);
      }
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  blockedLinks(): string[] {
    return [...this.blocked].sort();
  }

  /** Delivery delays for one send: empty when dropped, two when duplicated. */
  deliveries(message: Message): number[] {
    return this.deliveriesBetween(message.from, message.to);
  }

  /** Delivery delays for one send on the link `from`->`to`, for any kind of message. */
  deliveriesBetween(from: NodeId, to: NodeId): number[] {
    if (this.isBlocked(from, to)) return [];
    if (this.random.chance(this.dropRate)) return [];
    const delays = [this.delay()];
    if (this.random.chance(this.duplicateRate)) delays.push(this.delay());
    return delays;
  }

  private delay(): number {
    return this.random.between(this.minDelayMs, this.maxDelayMs);
  }
}
