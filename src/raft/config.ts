import { assert } from '../util/assert.ts';
import type { NodeId } from './messages.ts';
import type { Random } from './random.ts';
import type { LogStorage } from './storage.ts';

/** How one Raft node is set up. Time is counted in ticks: the driver decides how long a tick is. */
export interface RaftConfig {
  /** This node's id, > 0. */
  readonly id: NodeId;
  /** The durable log (read-only for the core). Its initial state gives term, vote, commit and membership. */
  readonly storage: LogStorage;
  /** Draws the election-timeout jitter. */
  readonly random: Random;
  /**
   * Base election timeout in ticks. A follower that hears from no leader for a random number of
   * ticks in [electionTicks, 2 * electionTicks) campaigns. Default 10.
   */
  readonly electionTicks?: number;
  /** A leader sends heartbeats every `heartbeatTicks` ticks. Must be < electionTicks. Default 1. */
  readonly heartbeatTicks?: number;
  /**
   * The last index the application applied before this node (re)started, at least the snapshot
   * index. Committed entries after it are handed out again. Default: the snapshot index.
   */
  readonly applied?: number;
  /** Upper bound on the entry bytes in one append message (always at least one entry). Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** Append messages in flight per follower in replicate state (pipelining depth). Default 256. */
  readonly maxInflightMessages?: number;
  /** Entry bytes in flight per follower. Default 64 MiB. */
  readonly maxInflightBytes?: number;
  /** Payload bytes a leader accepts beyond its commit index before refusing proposals. Default 256 MiB. */
  readonly maxUncommittedBytes?: number;
  /** Committed-entry bytes handed out in one Ready (always at least one entry). Default 64 MiB. */
  readonly maxApplyBytes?: number;
  /** Pre-vote (thesis 9.6): ask before disturbing the cluster with a higher term. Default true. */
  readonly preVote?: boolean;
  /**
   * Check-quorum (thesis 6.2): a leader that has not heard from a majority within an election
   * timeout steps down, and followers that heard from a leader recently ignore vote requests.
   * Default true.
   */
  readonly checkQuorum?: boolean;
  /** Ticks a leader waits for a snapshot to be acknowledged before probing again. Default 20 * electionTicks. */
  readonly snapshotTimeoutTicks?: number;
  /**
   * Ticks a leader waits for the answer to a probe (an append in probe state) before it probes again,
   * empty. A probe to a member that just restarted is typically lost (its broker does not host the
   * group yet); without this the leader probes again only when the member answers a heartbeat, a
   * whole heartbeat interval later, while the group may need that member for a quorum. Default 0:
   * only on heartbeat answers.
   */
  readonly probeRetryTicks?: number;
  /** A learner counts as caught up, and may be promoted, when its match index is within this many entries of the commit index. Default 0. */
  readonly promotionMaxLagEntries?: number;
  /**
   * A node joining a group that has changed membership since it began, with a log that is not the
   * group's (empty, or left from an earlier membership): it neither campaigns nor grants votes
   * until it has applied the commit index of the first append or snapshot a leader sent it. Until
   * then the configuration it reads from its own log may be an old one in which it votes; with
   * other such nodes it could elect a leader missing committed entries. Default false.
   */
  readonly joining?: boolean;
  /**
   * With `joining`: once caught up (RaftNode.caughtUp) the node still does not vote until the host
   * calls endJoining(), so the host can first make the end of joining durable (a marker it removes):
   * a crash in between then restarts the node joining, never voting with a log it has not caught up.
   * Default false: joining ends as soon as the node caught up.
   */
  readonly confirmJoining?: boolean;
  /**
   * A leader's own copy of the entries it appends counts toward the commit index only once the
   * host reports them durable (RaftNode.advance), so the host may send the messages of a leader's
   * Ready while it writes that Ready's entries (RaftNode.mayPipeline; paper 10.2.1): the followers
   * write in parallel with the leader. Default false: the leader counts its copy at once and the host
   * sends every message after the write.
   */
  readonly leaderWritesInParallel?: boolean;
  /**
   * With `joining`, for a node that lost its log and hard state (a replaced disk): the group's voters
   * (itself included). Before it acknowledges or votes anything it learns the current term from a
   * majority of them other than itself (Raft.learningTerm): the term it had may be higher than any
   * it hears otherwise, and acknowledging a deposed leader of an older term would let that leader
   * commit over entries a newer term committed with this node's lost acknowledgement.
   */
  readonly lostLogMembers?: readonly NodeId[];
  /**
   * Bounds the entry bytes a leader sends to learners (replicas being added: moves, balancing), shared
   * by every group of a host so that catching up new replicas cannot take all of the network and
   * disks from clients (Redpanda's raft_learner_recovery_rate). Voters are never held back. Default: none.
   */
  readonly learnerSendBudget?: SendBudget;
}

/** A shared allowance of bytes (a token bucket refilled with time, owned by the host). */
export interface SendBudget {
  /** Takes `bytes` if any allowance is left (it may go into debt); false: send nothing now. */
  take(bytes: number): boolean;
}

export interface ResolvedRaftConfig {
  readonly id: NodeId;
  readonly storage: LogStorage;
  readonly random: Random;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly applied: number | undefined;
  readonly joining: boolean;
  readonly confirmJoining: boolean;
  readonly leaderWritesInParallel: boolean;
  readonly lostLogMembers: readonly NodeId[] | undefined;
  readonly maxMessageBytes: number;
  readonly maxInflightMessages: number;
  readonly maxInflightBytes: number;
  readonly maxUncommittedBytes: number;
  readonly maxApplyBytes: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly snapshotTimeoutTicks: number;
  /** 0: a lost probe is retried on heartbeat answers only. */
  readonly probeRetryTicks: number;
  readonly promotionMaxLagEntries: number;
  readonly learnerSendBudget: SendBudget | undefined;
}

export const DEFAULT_ELECTION_TICKS = 10;
export const DEFAULT_HEARTBEAT_TICKS = 1;
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_INFLIGHT_MESSAGES = 256;
export const DEFAULT_MAX_INFLIGHT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_UNCOMMITTED_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_APPLY_BYTES = 64 * 1024 * 1024;

function positiveInteger(value: number, name: string): number {
  assert(Number.isInteger(value) && value > 0, `${name} must be a positive integer`);
  return value;
}

/** Fills defaults and asserts the limits are consistent with each other. */
export function resolveConfig(config: RaftConfig): ResolvedRaftConfig {
  positiveInteger(config.id, 'id');
  const electionTicks = positiveInteger(config.electionTicks ?? DEFAULT_ELECTION_TICKS, 'electionTicks');
  const heartbeatTicks = positiveInteger(config.heartbeatTicks ?? DEFAULT_HEARTBEAT_TICKS, 'heartbeatTicks');
  assert(heartbeatTicks < electionTicks, 'heartbeatTicks must be smaller than electionTicks');
  const maxMessageBytes = positiveInteger(config.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, 'maxMessageBytes');
  const maxInflightBytes = positiveInteger(config.maxInflightBytes ?? DEFAULT_MAX_INFLIGHT_BYTES, 'maxInflightBytes');
  assert(maxMessageBytes <= maxInflightBytes, 'one message must fit in the in-flight byte limit');
  const maxUncommittedBytes = positiveInteger(config.maxUncommittedBytes ?? DEFAULT_MAX_UNCOMMITTED_BYTES, 'maxUncommittedBytes');
  const snapshotTimeoutTicks = positiveInteger(config.snapshotTimeoutTicks ?? 20 * electionTicks, 'snapshotTimeoutTicks');
  const probeRetryTicks = config.probeRetryTicks ?? 0;
  assert(Number.isInteger(probeRetryTicks) && probeRetryTicks >= 0, 'probeRetryTicks must be >= 0');
  const promotionMaxLagEntries = config.promotionMaxLagEntries ?? 0;
  assert(Number.isInteger(promotionMaxLagEntries) && promotionMaxLagEntries >= 0, 'promotionMaxLagEntries must be >= 0');
  if (config.applied !== undefined) assert(Number.isInteger(config.applied) && config.applied >= 0, 'applied must be >= 0');
  return {
    id: config.id,
    storage: config.storage,
    random: config.random,
    electionTicks,
    heartbeatTicks,
    applied: config.applied,
    joining: config.joining ?? false,
    confirmJoining: config.confirmJoining ?? false,
    leaderWritesInParallel: config.leaderWritesInParallel ?? false,
    lostLogMembers: config.lostLogMembers,
    maxMessageBytes,
    maxInflightMessages: positiveInteger(config.maxInflightMessages ?? DEFAULT_MAX_INFLIGHT_MESSAGES, 'maxInflightMessages'),
    maxInflightBytes,
    maxUncommittedBytes,
    maxApplyBytes: positiveInteger(config.maxApplyBytes ?? DEFAULT_MAX_APPLY_BYTES, 'maxApplyBytes'),
    preVote: config.preVote ?? true,
    checkQuorum: config.checkQuorum ?? true,
    snapshotTimeoutTicks,
    probeRetryTicks,
    promotionMaxLagEntries,
    learnerSendBudget: config.learnerSendBudget,
  };
}
