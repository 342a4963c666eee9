/**
 * The proposals a leader accepted and has not yet seen applied, each waiting for its outcome. A
 * proposal is a batch of entries at consecutive indexes, all of one term; it is decided by its last
 * entry: once that is applied with the proposal's term, the whole batch is (log matching).
 */
import type { Entry } from '../raft/index.ts';
import { assert } from '../util/assert.ts';

/**
 * How an accepted proposal ended:
 * - `applied`: every entry committed and was applied by this node's state machine.
 * - `overwritten`: another leader's entry committed at the batch's last index, so the batch did not
 *   commit as a whole (a prefix of it may have).
 * - `leadership-lost`: this node stopped leading the proposal's term before the batch was applied
 *   here. Whether it commits is not known yet: a new leader may still commit it.
 * - `stopped`: the driver stopped (shutdown or a failed write). Whether it commits is not known.
 */
export interface ProposalOutcome {
  readonly kind: 'applied' | 'overwritten' | 'leadership-lost' | 'stopped';
  /** Where the proposal was accepted: its first entry's index, and its term. */
  readonly index: number;
  readonly term: number;
}

/** Receives a proposal's outcome, exactly once. Must not throw. */
export type ProposalCallback = (outcome: ProposalOutcome) => void;

interface Pending {
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly term: number;
  readonly done: ProposalCallback;
}

export class PendingProposals {
  /** By the index of the batch's last entry. */
  private readonly byLastIndex = new Map<number, Pending>();
  /** Outcomes decided and not yet handed out (the driver calls back only once the Ready is done). */
  private decided: { readonly pending: Pending; readonly outcome: ProposalOutcome }[] = [];

  get size(): number {
    return this.byLastIndex.size;
  }

  add(firstIndex: number, lastIndex: number, term: number, done: ProposalCallback): void {
    assert(firstIndex <= lastIndex, 'a proposal holds at least one entry');
    assert(!this.byLastIndex.has(lastIndex), `two proposals end at index ${lastIndex}`);
    this.byLastIndex.set(lastIndex, { firstIndex, lastIndex, term, done });
  }

  /** Decides the proposals that end at one of these applied entries. */
  applied(entries: readonly Entry[]): void {
    if (this.byLastIndex.size === 0) return;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const pending = this.byLastIndex.get(entry.index);
      if (pending === undefined) continue;
      const kind = entry.term === pending.term ? 'applied' : 'overwritten';
      this.decide(pending, kind);
    }
  }

  /** Decides, as `leadership-lost`, every proposal of a term this node no longer leads. */
  leadershipChanged(term: number, isLeader: boolean): void {
    for (const pending of this.byLastIndex.values()) {
      if (!isLeader || pending.term !== term) this.decide(pending, 'leadership-lost');
    }
  }

  /** Decides every proposal still waiting as `stopped`. */
  stopped(): void {
    for (const pending of this.byLastIndex.values()) this.decide(pending, 'stopped');
  }

  /** Hands out the decided outcomes, in the order they were decided. */
  notify(): void {
    while (this.decided.length > 0) {
      const decided = this.decided;
      this.decided = [];
      for (const { pending, outcome } of decided) pending.done(outcome);
    }
  }

  private decide(pending: Pending, kind: ProposalOutcome['kind']): void {
    assert(this.byLastIndex.get(pending.lastIndex) === pending, 'a proposal is decided twice');
    this.byLastIndex.delete(pending.lastIndex);
    this.decided.push({ pending, outcome: { kind, index: pending.firstIndex, term: pending.term } });
  }
}
