/**
 * The problem replica placement solves at two levels, over racks and then over the brokers of a rack:
 * give `count` replicas to units of `size` brokers each (at most `size` per unit, over as many distinct
 * units as possible) and, when asked, choose the unit that leads, so that replicas and leaders per
 * broker stay even.
 *
 * Why it stays even (without racks, every unit one broker): call "high" the units above the minimum of a
 * count. If the units high in leaders and those high in replicas are nested sets (one contains the
 * other), some choice for the next partition, of any size, keeps both counts within one and the sets
 * nested: the leader is one of the fewest-leading units, followers take the fewest replicas and, among
 * equals, the most leaders (leaders and replicas pile up on the same units), and which leader works
 * depends on the sets, so every kind of candidate is tried and the most even outcome kept.
 */
import { assert } from '../util/assert.ts';

export interface Unit {
  readonly replicas: number;
  readonly leaders: number;
  /** Brokers in the unit: the most replicas one partition may put there, and the divisor for evenness. */
  readonly size: number;
}

export interface UnitPick {
  /** The leading unit, or null when no leader was asked for. */
  leader: number | null;
  /** Replicas per unit, summing to the count asked for. */
  counts: number[];
}

/**
 * leaderCandidates: indexes of the units allowed to lead, or null for a leaderless pick. Ties go to the
 * unit nearest after `position` (modulo the unit count).
 */
export function pickUnits(units: readonly Unit[], count: number, leaderCandidates: readonly number[] | null, position: number): UnitPick {
  assert(count >= 1 && count <= units.reduce((sum, u) => sum + u.size, 0), `cannot place ${count} replicas on these units`);
  if (leaderCandidates === null) return { leader: null, counts: fill(units, count, null, position) };
  assert(leaderCandidates.length > 0, 'no unit may lead');
  const tried = new Set<string>();
  let best: { pick: UnitPick; score: number[] } | null = null;
  for (let k = 0; k < units.length; k++) {
    const leader = (position + k) % units.length;
    if (!leaderCandidates.includes(leader)) continue;
    // Units with equal loads and size are interchangeable: trying the first of each kind is enough.
    const { replicas, leaders, size } = units[leader]!;
    const kind = `${replicas}/${leaders}/${size}`;
    if (tried.has(kind)) continue;
    tried.add(kind);
    const counts = fill(units, count, leader, position);
    const score = unevenness(units, counts, leader);
    if (best === null || lexicographicLess(score, best.score)) best = { pick: { leader, counts }, score };
  }
  assert(best !== null, 'no leader candidate was tried');
  return best.pick;
}

/** The leader's replica, then one per distinct unit while units last, then more on units with room. */
function fill(units: readonly Unit[], count: number, leader: number | null, position: number): number[] {
  const counts = new Array<number>(units.length).fill(0);
  let placed = 0;
  if (leader !== null) {
    counts[leader] = 1;
    placed = 1;
  }
  const distinct = Math.min(count, units.length);
  while (placed < count) {
    const spreading = placed < distinct;
    let pick = -1;
    for (let k = 0; k < units.length; k++) {
      const u = (position + k) % units.length;
      if (spreading ? counts[u] !== 0 : counts[u]! >= units[u]!.size) continue;
      if (pick === -1 || lighter(units, counts, u, pick)) pick = u;
    }
    assert(pick !== -1, 'no unit has room left');
    counts[pick]!++;
    placed++;
  }
  return counts;
}

/** Fewer replicas per broker first; among equals, more leaders per broker (see the file comment). */
function lighter(units: readonly Unit[], counts: readonly number[], a: number, b: number): boolean {
  const ua = units[a]!;
  const ub = units[b]!;
  const replicasA = (ua.replicas + counts[a]!) * ub.size;
  const replicasB = (ub.replicas + counts[b]!) * ua.size;
  if (replicasA !== replicasB) return replicasA < replicasB;
  return ua.leaders * ub.size > ub.leaders * ua.size;
}

/**
 * How uneven the units would be after this pick, smaller is better: the spread of replicas per broker,
 * the spread of leaders per broker, whether the high sets are nested (see the file comment), then sums of
 * squares, which still tell apart picks on a cluster that is uneven already.
 */
function unevenness(units: readonly Unit[], counts: readonly number[], leader: number): number[] {
  const replicas = units.map((u, i) => (u.replicas + counts[i]!) / u.size);
  const leaders = units.map((u, i) => (u.leaders + (i === leader ? 1 : 0)) / u.size);
  return [
    spread(replicas),
    spread(leaders),
    nested(replicas, leaders) ? 0 : 1,
    units.reduce((sum, u, i) => sum + u.size * replicas[i]! ** 2, 0),
    units.reduce((sum, u, i) => sum + u.size * leaders[i]! ** 2, 0),
  ];
}

function spread(values: readonly number[]): number {
  return Math.max(...values) - Math.min(...values);
}

/** Whether the members above their minimum in `a` and those above it in `b` are nested sets. */
function nested(a: readonly number[], b: readonly number[]): boolean {
  const aMin = Math.min(...a);
  const bMin = Math.min(...b);
  let highInAOnly = false;
  let highInBOnly = false;
  for (let i = 0; i < a.length; i++) {
    const aHigh = a[i]! > aMin;
    const bHigh = b[i]! > bMin;
    if (aHigh && !bHigh) highInAOnly = true;
    if (bHigh && !aHigh) highInBOnly = true;
  }
  return !(highInAOnly && highInBOnly);
}

function lexicographicLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}
