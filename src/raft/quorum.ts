import { assert } from '../util/assert.ts';
import type { NodeId } from './messages.ts';

/**
 * Majority arithmetic over one voter set. With single-server membership changes there is only
 * ever one voter set in force, so no joint quorums are needed.
 */

export function majority(voterCount: number): number {
  assert(voterCount > 0, 'a quorum needs at least one voter');
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The highest index that a majority of voters have stored: sort the voters' match indexes in
 * descending order and take the one at position majority - 1.
 * `scratch` is a reusable buffer (avoids an allocation per acknowledgement on the hot path).
 */
export function committedIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number, scratch: number[]): number {
  const n = voters.length;
  assert(n > 0, 'no voters');
  scratch.length = n;
  for (let i = 0; i < n; i++) scratch[i] = matchOf(voters[i]!);
  // Insertion sort, descending: voter sets are small (1 to 7).
  for (let i = 1; i < n; i++) {
    const value = scratch[i]!;
    let j = i - 1;
    while (j >= 0 && scratch[j]! < value) {
      scratch[j + 1] = scratch[j]!;
      j--;
    }
    scratch[j + 1] = value;
  }
  return scratch[majority(n) - 1]!;
}

export type VoteResult = 'won' | 'lost' | 'pending';

/** Outcome of an election given the votes received so far (true = granted). Non-voters' votes are ignored. */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const needed = majority(voters.length);
  if (granted >= needed) return 'won';
  if (voters.length - rejected < needed) return 'lost';
  return 'pending';
}

/** Whether a majority of voters satisfies `active` (check-quorum). */
export function quorumActive(voters: readonly NodeId[], active: (id: NodeId) => boolean): boolean {
  let count = 0;
  for (const id of voters) if (active(id)) count++;
  return count >= majority(voters.length);
}
