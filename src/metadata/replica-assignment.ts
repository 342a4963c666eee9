/**
 * Checks on a replica assignment (replica broker ids per partition, first = preferred leader), whether the
 * broker placed it or a client sent it in CreateTopics or CreatePartitions. The messages are Kafka's (its
 * controller's ReplicationControlManager), so tools that match on them keep working.
 */

/** Why the assignment is refused (as INVALID_REPLICA_ASSIGNMENT), or null when it is valid. */
export function assignmentProblem(
  assignments: readonly (readonly number[])[],
  replicationFactor: number,
  isRegistered: (brokerId: number) => boolean,
): string | null {
  for (const replicas of assignments) {
    if (replicas.length === 0) return 'The manual partition assignment includes an empty replica list.';
    if (replicas.length !== replicationFactor) {
      return (
        `The manual partition assignment includes a partition with ${replicas.length} replica(s), but this is not ` +
        `consistent with previous partitions, which have ${replicationFactor} replica(s).`
      );
    }
    const seen = new Set<number>();
    for (const id of replicas) {
      if (!isRegistered(id)) return `The manual partition assignment includes broker ${id}, but no such broker is registered.`;
      if (seen.has(id)) return `The manual partition assignment includes the broker ${id} more than once.`;
      seen.add(id);
    }
  }
  return null;
}

/** Why the number of assignments does not match the partitions being added, or null when it does. */
export function assignmentCountProblem(assignments: readonly (readonly number[])[], added: number): string | null {
  if (assignments.length === added) return null;
  return `Attempted to add ${added} additional partition(s), but only ${assignments.length} assignment(s) were specified.`;
}
