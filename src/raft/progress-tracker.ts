import { assert } from '../util/assert.ts';
import type { ConfState, NodeId } from './messages.ts';
import { Progress } from './progress.ts';
import { committedIndex, quorumActive, voteResult } from './quorum.ts';
import type { VoteResult } from './quorum.ts';

/**
 * The membership in force (voters and learners), one Progress per member, and the votes of the
 * election in progress. Progress is only meaningful on the leader; other roles keep the map so
 * membership questions have one answer.
 */
export class ProgressTracker {
  conf: ConfState;
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  private readonly maxInflightCount: number;
  private readonly maxInflightBytes: number;
  private readonly scratch: number[] = [];
  private readonly matchOf = (id: NodeId): number => this.progress.get(id)!.match;

  constructor(conf: ConfState, maxInflightCount: number, maxInflightBytes: number) {
    this.maxInflightCount = maxInflightCount;
    this.maxInflightBytes = maxInflightBytes;
    this.conf = { voters: [], learners: [] };
    this.setConf(conf, 1);
  }

  isVoter(id: NodeId): boolean {
    return this.conf.voters.includes(id);
  }

  isLearner(id: NodeId): boolean {
    return this.conf.learners.includes(id);
  }

  /**
   * Installs a membership. Members that stay keep their progress; new members start probing at
   * `nextIndex` and count as recently active so check-quorum gives them one round to answer.
   */
  setConf(conf: ConfState, nextIndex: number): void {
    assert(conf.voters.length > 0, 'a configuration needs a voter');
    for (const id of conf.voters) assert(!conf.learners.includes(id), `node ${id} is both voter and learner`);
    const members = new Set<NodeId>([...conf.voters, ...conf.learners]);
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      const isLearner = conf.learners.includes(id);
      const existing = this.progress.get(id);
      if (existing !== undefined) {
        existing.isLearner = isLearner;
        continue;
      }
      const pr = new Progress(nextIndex, isLearner, this.maxInflightCount, this.maxInflightBytes);
      pr.recentActive = true;
      this.progress.set(id, pr);
    }
    this.conf = { voters: [...conf.voters], learners: [...conf.learners] };
  }

  /** Fresh progress for every member (on a role change): next = lastIndex + 1, nothing known to match. */
  resetProgress(lastIndex: number): void {
    for (const [id, old] of this.progress) {
      const pr = new Progress(lastIndex + 1, old.isLearner, this.maxInflightCount, this.maxInflightBytes);
      this.progress.set(id, pr);
    }
  }

  /** The highest index stored on a majority of voters. */
  committed(): number {
    return committedIndex(this.conf.voters, this.matchOf, this.scratch);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records a vote; a voter's first answer in an election counts, repeats are ignored. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteResult {
    return voteResult(this.conf.voters, this.votes);
  }

  /**
   * Check-quorum: whether a majority of voters (counting `selfId` as always active) was heard from
   * since the last call; clears the marks for the next round.
   */
  quorumActiveAndReset(selfId: NodeId): boolean {
    const active = quorumActive(this.conf.voters, (id) => id === selfId || this.progress.get(id)!.recentActive);
    for (const [id, pr] of this.progress) pr.recentActive = id === selfId;
    return active;
  }
}
