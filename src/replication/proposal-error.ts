/** Why a proposal made through RaftDriver.proposeAndWait did not apply (codes in docs/errors.md). */
import type { RefusalReason } from '../raft/index.ts';
import { assert } from '../util/assert.ts';
import { StreamBusError } from '../util/errors.ts';
import type { ProposalOutcome } from './pending-proposals.ts';

export type ProposalFailure = RefusalReason | Exclude<ProposalOutcome['kind'], 'applied'>;

export class ProposalError extends StreamBusError {
  readonly reason: ProposalFailure;

  private constructor(code: 'SB_ERR_RAFT_PROPOSAL_REFUSED' | 'SB_ERR_RAFT_PROPOSAL_LOST', reason: ProposalFailure, message: string) {
    super(code, message);
    this.name = 'ProposalError';
    this.reason = reason;
  }

  /** Refused at once: nothing was appended. */
  static refused(reason: RefusalReason): ProposalError {
    return new ProposalError('SB_ERR_RAFT_PROPOSAL_REFUSED', reason, `proposal refused: ${reason}`);
  }

  /** Accepted at (index, term) but not applied. */
  static lost(outcome: ProposalOutcome): ProposalError {
    assert(outcome.kind !== 'applied', 'an applied proposal is not an error');
    return new ProposalError('SB_ERR_RAFT_PROPOSAL_LOST', outcome.kind, `proposal at index ${outcome.index} term ${outcome.term} not applied: ${outcome.kind}`);
  }
}
