import type { ConfState, NodeId } from './messages.ts';
import type { ProgressState } from './progress.ts';
import type { Role } from './ready.ts';

/** A leader's view of one member's replication. */
export interface PeerStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly recentActive: boolean;
  readonly isLearner: boolean;
  /** Entry bytes sent and not yet acknowledged. */
  readonly inflightBytes: number;
}

/** A copy of a node's state, for metrics, admin APIs and operators' decisions (e.g. when to promote). */
export interface Status {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly lead: NodeId;
  readonly role: Role;
  /** The target of a leadership transfer in progress, or 0. */
  readonly leadTransferee: NodeId;
  readonly confState: ConfState;
  /** Per member, only on the leader (null elsewhere). */
  readonly progress: ReadonlyMap<NodeId, PeerStatus> | null;
}
