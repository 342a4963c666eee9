/**
 * Which `__consumer_offsets` partition holds a consumer group: Kafka's rule, the Java String hashCode
 * of the group id (over UTF-16 code units, 32-bit overflow), made non-negative, modulo the partition
 * count. Clients never compute it (they ask FindCoordinator), but every broker must agree, and using
 * Kafka's rule keeps a group on the partition a Kafka operator would expect.
 */
export function offsetsPartitionFor(groupId: string, partitions: number): number {
  let hash = 0;
  for (let i = 0; i < groupId.length; i++) hash = (Math.imul(hash, 31) + groupId.charCodeAt(i)) | 0;
  // Kafka's Utils.abs: Integer.MIN_VALUE maps to 0.
  const positive = hash === -2147483648 ? 0 : Math.abs(hash);
  return positive % Math.max(1, partitions);
}
