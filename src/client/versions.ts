/**
 * The API versions this client implements, and the choice of version per broker: the highest version
 * inside both the client's range and the range the broker advertised in ApiVersions. A version is listed
 * here only when every method that sends it builds the right body and reads the right fields for it
 * (for example OffsetFetch v8 moves everything into a `groups` array, FindCoordinator v4 batches keys).
 *
 * Deliberately left out: Fetch >= 13 (addresses partitions by topic id), OffsetCommit v9 and
 * OffsetFetch v9 (KIP-848 member epochs), which the classic group protocol used here does not need.
 */
import { API_KEYS } from '../protocol/kafka/generated/index.ts';
import { StreamBusError } from '../util/errors.ts';

export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

export const CLIENT_API_VERSIONS: Readonly<Record<number, VersionRange>> = {
  [API_KEYS.Produce]: { min: 3, max: 9 },
  [API_KEYS.Fetch]: { min: 4, max: 12 },
  [API_KEYS.ListOffsets]: { min: 1, max: 7 },
  [API_KEYS.Metadata]: { min: 1, max: 12 },
  [API_KEYS.OffsetCommit]: { min: 2, max: 8 },
  [API_KEYS.OffsetFetch]: { min: 1, max: 8 },
  [API_KEYS.FindCoordinator]: { min: 1, max: 4 },
  [API_KEYS.JoinGroup]: { min: 2, max: 7 },
  [API_KEYS.Heartbeat]: { min: 0, max: 4 },
  [API_KEYS.LeaveGroup]: { min: 0, max: 4 },
  [API_KEYS.SyncGroup]: { min: 0, max: 5 },
  [API_KEYS.DescribeGroups]: { min: 0, max: 5 },
  [API_KEYS.ListGroups]: { min: 0, max: 4 },
  [API_KEYS.SaslHandshake]: { min: 1, max: 1 },
  [API_KEYS.SaslAuthenticate]: { min: 0, max: 2 },
  [API_KEYS.ApiVersions]: { min: 0, max: 3 },
  [API_KEYS.CreateTopics]: { min: 2, max: 7 },
  [API_KEYS.DeleteTopics]: { min: 1, max: 6 },
  // ACL APIs from v1, the first with pattern types (KIP-290).
  [API_KEYS.DescribeAcls]: { min: 1, max: 3 },
  [API_KEYS.CreateAcls]: { min: 1, max: 3 },
  [API_KEYS.DeleteAcls]: { min: 1, max: 3 },
  [API_KEYS.DeleteRecords]: { min: 0, max: 2 },
  [API_KEYS.DescribeConfigs]: { min: 1, max: 4 },
  [API_KEYS.CreatePartitions]: { min: 0, max: 3 },
  [API_KEYS.DeleteGroups]: { min: 0, max: 2 },
  [API_KEYS.IncrementalAlterConfigs]: { min: 0, max: 1 },
  [API_KEYS.DescribeCluster]: { min: 0, max: 1 },
  [API_KEYS.DescribeClientQuotas]: { min: 0, max: 1 },
  [API_KEYS.AlterClientQuotas]: { min: 0, max: 1 },
  [API_KEYS.DescribeUserScramCredentials]: { min: 0, max: 0 },
  [API_KEYS.AlterUserScramCredentials]: { min: 0, max: 0 },
  // Partition moves, for the benchmarks and admin tools built on this client.
  [API_KEYS.AlterPartitionReassignments]: { min: 0, max: 0 },
  [API_KEYS.ListPartitionReassignments]: { min: 0, max: 0 },
  // ListTransactions v1 adds the duration filter (KIP-994).
  [API_KEYS.DescribeTransactions]: { min: 0, max: 0 },
  [API_KEYS.ListTransactions]: { min: 0, max: 1 },
};

/** What a broker advertised: apiKey -> range. */
export type BrokerVersions = ReadonlyMap<number, VersionRange>;

/** The highest version both sides support, or null when the ranges do not meet (or either lacks the API). */
export function pickVersion(apiKey: number, broker: BrokerVersions): number | null {
  const ours = CLIENT_API_VERSIONS[apiKey];
  const theirs = broker.get(apiKey);
  if (!ours || !theirs) return null;
  const max = Math.min(ours.max, theirs.max);
  return max >= Math.max(ours.min, theirs.min) ? max : null;
}

/** Thrown when the broker does not offer a version of `apiName` this client implements. */
export function unsupportedApi(apiName: string, address: string): StreamBusError {
  return new StreamBusError('SB_ERR_UNSUPPORTED_VERSION', `the broker at ${address} does not support ${apiName} in a version this client implements`);
}
