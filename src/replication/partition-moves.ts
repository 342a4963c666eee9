/**
 * Moves a partition's Raft group towards the replicas the controller wants (metadata/reassignment.ts),
 * one membership change at a time, from its leader. Every step is a single-server change (Raft
 * thesis 4.1), so any majority of the old voters overlaps any majority of the new ones:
 *
 *   1. every wanted broker that is not a member joins as a learner (it copies the log, or installs a
 *      snapshot, without voting or counting for commitment);
 *   2. each such learner becomes a voter once it has caught up (the core refuses earlier);
 *   3. only when every wanted broker votes do the others leave: a learner of a cancelled move first,
 *      then the voters not wanted; the leader hands its leadership to a caught-up wanted voter
 *      before it would remove itself, so the partition does not wait out an election.
 *   4. when the voters are exactly the wanted brokers, the leader reports it and the controller makes
 *      the target the partition's assignment.
 * So a partition never has fewer voters than the smaller of its old and new replica counts, and a
 * crash at any point leaves a group whose configuration is in its own log: the next leader takes
 * the next step from there (or back, after a cancel).
 */
import { desiredReplicas, inFlux } from '../metadata/reassignment.ts';
import type { ConfState } from '../raft/index.ts';
import type { MetadataService } from './metadata-service.ts';
import type { PartitionReplica } from './partition-replica.ts';

export type MoveStep =
  | { readonly kind: 'add-learner'; readonly id: number }
  | { readonly kind: 'promote'; readonly id: number }
  | { readonly kind: 'remove'; readonly id: number }
  | { readonly kind: 'transfer'; readonly to: number }
  /** The voters are the wanted replicas and a move is recorded: report it done. */
  | { readonly kind: 'complete' }
  /** The voters are the wanted replicas and nothing is moving. */
  | { readonly kind: 'none' }
  | { readonly kind: 'wait'; readonly why: string };

export interface MoveInput {
  /** This broker, the group's leader. */
  readonly self: number;
  readonly conf: ConfState;
  /** The replicas the group should end with (the target of a move, else the assignment). */
  readonly desired: readonly number[];
  /** Whether the controller records a move (a target) for the partition. */
  readonly moving: boolean;
  /** Whether a member holds the leader's committed log now. */
  readonly caughtUp: (id: number) => boolean;
}

/** The next membership step for the group's leader (see above). */
export function nextMoveStep(input: MoveInput): MoveStep {
  const { self, conf, desired, moving, caughtUp } = input;
  const wanted = new Set(desired);
  const member = (id: number) => conf.voters.includes(id) || conf.learners.includes(id);
  const joining = desired.find((id) => !member(id));
  if (joining !== undefined) return { kind: 'add-learner', id: joining };
  const learner = conf.learners.find((id) => wanted.has(id));
  if (learner !== undefined) return caughtUp(learner) ? { kind: 'promote', id: learner } : { kind: 'wait', why: `replica ${learner} is catching up` };
  const strayLearner = conf.learners.find((id) => !wanted.has(id));
  if (strayLearner !== undefined) return { kind: 'remove', id: strayLearner };
  const leaving = conf.voters.filter((id) => !wanted.has(id));
  const other = leaving.find((id) => id !== self);
  if (other !== undefined) return { kind: 'remove', id: other };
  if (leaving.length > 0) {
    // Only this leader is left to go: hand over first. The preferred (first wanted) replica if it is ready.
    const heir = desired.find((id) => id !== self && conf.voters.includes(id) && caughtUp(id));
    return heir === undefined ? { kind: 'wait', why: 'no wanted replica has caught up to take over' } : { kind: 'transfer', to: heir };
  }
  return moving ? { kind: 'complete' } : { kind: 'none' };
}

export interface PartitionMoverOptions {
  readonly brokerId: number;
  readonly metadata: MetadataService;
  readonly log: { info(fields: object, message: string): void; warn(fields: object, message: string): void };
}

/** Takes the next membership step of the partitions this broker leads and reports finished moves. */
export class PartitionMover {
  /** Groups whose finished move is being reported to the controller. */
  private readonly reporting = new Set<number>();

  constructor(private readonly options: PartitionMoverOptions) {}

  /** One step for a partition led here, if its group is not what the controller wants. Cheap when it is. */
  step(replica: PartitionReplica): void {
    if (!replica.writable) return;
    const { metadata, brokerId, log } = this.options;
    const topic = metadata.state.topic(replica.partition.topic);
    if (topic === undefined) return;
    const index = replica.partition.index;
    const desired = desiredReplicas(topic, index);
    const moving = inFlux(topic, index);
    const raft = replica.driver.raft;
    const conf = raft.confState();
    if (!moving && conf.learners.length === 0 && sameMembers(conf.voters, desired)) return;
    const status = raft.status();
    const caughtUp = (id: number) => id === brokerId || (status.progress?.get(id)?.match ?? -1) >= status.commit;
    const step = nextMoveStep({ self: brokerId, conf, desired, moving, caughtUp });
    const where = { topic: topic.name, partition: index, group: replica.groupId, voters: conf.voters, learners: conf.learners, desired };
    switch (step.kind) {
      case 'add-learner':
      case 'promote':
      case 'remove': {
        const type = step.kind === 'add-learner' ? 'addLearner' : step.kind === 'promote' ? 'promoteLearner' : 'removeNode';
        const result = replica.driver.proposeConfChange({ type, nodeId: step.id }, () => undefined);
        // Refusals (a change still pending, a learner behind) are retried at the next sample.
        if (result.accepted) log.info({ ...where, change: type, broker: step.id }, 'partition move: membership change proposed');
        return;
      }
      case 'transfer':
        replica.driver.transferLeader(step.to);
        log.info({ ...where, to: step.to }, 'partition move: leadership handed over before this replica leaves');
        return;
      case 'complete': {
        if (this.reporting.has(replica.groupId)) return;
        this.reporting.add(replica.groupId);
        void metadata
          .submit({ type: 'complete-reassignment', name: topic.name, index, replicas: [...desired] })
          .then((result) => {
            if (result.error === null) log.info(where, 'partition move complete');
            else if (result.error !== 'NO_REASSIGNMENT_IN_PROGRESS') log.warn({ ...where, error: result.error, reason: result.message }, 'partition move done but not recorded yet; retrying');
          })
          .finally(() => this.reporting.delete(replica.groupId));
        return;
      }
      case 'none':
      case 'wait':
        return;
    }
  }
}

function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && b.every((id) => a.includes(id));
}
