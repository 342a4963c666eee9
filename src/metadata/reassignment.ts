/**
 * Partition reassignment as the controller records it (Kafka's KIP-455 model): a partition being
 * moved keeps its current replica list in `assignments` and has a target list in `reassignments`
 * until the partition's leader reports that its Raft group's voters are exactly the target; then the
 * target becomes the assignment. Cancelling removes the target, and the leader moves the group back
 * to the assignment. Either way the Raft group changes one member at a time (a new replica joins as
 * a learner, is promoted once caught up, and replicas leave last), driven by the leader
 * (replication/partition-moves.ts), so a crash at any point resumes from the group's own log.
 *
 * While a partition moves, it is hosted by every broker of the union of both lists, and Kafka clients
 * see that union as its replicas (target first), with the adding and removing replicas listed by
 * ListPartitionReassignments.
 *
 * A move replaced or cancelled before it finished may have made brokers of its target members of
 * the group already (learners, or voters). They stay in the replica set (`leaving`) until the leader
 * reports the group's voters are the wanted ones, so no broker deletes its copy while the group may
 * still count on it: a voter that came back empty could vote with a log it no longer has.
 *
 * The group's first configuration: a replica joining later starts from the voters the group was
 * created with and replays every membership change from the log (or installs a snapshot carrying
 * the configuration of its point). Those voters are the assignment at creation, kept in
 * `initialVoters` once a completed move replaced the assignment.
 */
import type { TopicRecord } from './cluster-state.ts';

/** The target replicas of a partition being moved, or undefined. */
export function targetOf(topic: TopicRecord, index: number): readonly number[] | undefined {
  return topic.reassignments?.[index];
}

/** The replicas the partition's group should end with: the target while moving, else the assignment. */
export function desiredReplicas(topic: TopicRecord, index: number): readonly number[] {
  return targetOf(topic, index) ?? topic.assignments[index] ?? [];
}

/** Brokers of a replaced or cancelled target that may still be members of the group (see above). */
export function leavingOf(topic: TopicRecord, index: number): readonly number[] | undefined {
  return topic.leaving?.[index];
}

/** Whether the partition's group is being changed: a target, or brokers of an abandoned one still to leave. */
export function inFlux(topic: TopicRecord, index: number): boolean {
  return targetOf(topic, index) !== undefined || leavingOf(topic, index) !== undefined;
}

/** Every broker that holds or will hold a replica: the wanted ones first, then those leaving. */
export function replicaSet(topic: TopicRecord, index: number): readonly number[] {
  const current = topic.assignments[index] ?? [];
  if (!inFlux(topic, index)) return current;
  const wanted = desiredReplicas(topic, index);
  const out = [...wanted];
  for (const id of [...current, ...(leavingOf(topic, index) ?? [])]) if (!out.includes(id)) out.push(id);
  return out;
}

/** The brokers a move adds (wanted, not yet assigned) and removes (assigned or left over, not wanted). */
export function movingReplicas(topic: TopicRecord, index: number): { adding: number[]; removing: number[] } {
  const current = topic.assignments[index] ?? [];
  const wanted = desiredReplicas(topic, index);
  return { adding: wanted.filter((id) => !current.includes(id)), removing: replicaSet(topic, index).filter((id) => !wanted.includes(id)) };
}

/** The voters of the partition's Raft group when it was created (see above). */
export function initialVoters(topic: TopicRecord, index: number): readonly number[] {
  return topic.initialVoters?.[index] ?? topic.assignments[index] ?? [];
}

/**
 * Whether the partition's group may have changed membership since it began: a move is recorded, done
 * (its first voters were kept) or under way. A replica made from nothing then joins without voting
 * until it caught up (replication/partition-replicas.ts).
 */
export function hasHistory(topic: TopicRecord, index: number): boolean {
  return topic.initialVoters?.[index] !== undefined || inFlux(topic, index);
}

/** The partitions of a topic being moved, in index order. */
export function partitionsMoving(topic: TopicRecord): number[] {
  const indexes = new Set([...Object.keys(topic.reassignments ?? {}), ...Object.keys(topic.leaving ?? {})].map(Number));
  return [...indexes].sort((a, b) => a - b);
}

/** Why a target replica list is refused (Kafka's INVALID_REPLICA_ASSIGNMENT), or null. */
export function targetProblem(replicas: readonly number[], isRegistered: (id: number) => boolean): string | null {
  if (replicas.length === 0) return 'The target replica list is empty.';
  const seen = new Set<number>();
  for (const id of replicas) {
    if (!isRegistered(id)) return `The target replica list includes broker ${id}, but no such broker is registered.`;
    if (seen.has(id)) return `The target replica list includes broker ${id} more than once.`;
    seen.add(id);
  }
  return null;
}
