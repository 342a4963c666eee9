/**
 * The one table of API versions this broker supports. ApiVersions responses are built from it, and
 * the broker refuses (UNSUPPORTED_VERSION or close) any request outside it, so what we advertise and
 * what we decode cannot drift apart. Advertise only what is implemented: clients pick versions from
 * these ranges (kafkajs takes min(its max, our max) and ignores our min; librdkafka intersects).
 * The ranges are Apache Kafka 3.9's for every API implemented here (docs/compatibility.md has the
 * table and the reasons where they differ).
 */
import { assert } from '../../util/assert.ts';
import { API_BY_KEY, API_KEYS, encodeApiVersionsResponse } from './generated/index.ts';
import type { ApiVersionsResponse } from './generated/index.ts';
import type { Input } from './types.ts';
import { Writer } from './writer.ts';

export interface ApiVersionRange {
  readonly min: number;
  readonly max: number;
}

/** apiKey -> supported version range. */
export const SUPPORTED_API_VERSIONS: Readonly<Record<number, ApiVersionRange>> = {
  // Produce 0-2 and Fetch 0-3 carry message format v0/v1: listed (librdkafka before 2.8 compresses
  // only when Produce v0 is listed: librdkafka issue 4956, KAFKA-18659) and answered with a
  // well-formed response whose partitions carry UNSUPPORTED_VERSION, never a closed connection.
  [API_KEYS.Produce]: { min: 0, max: 11 },
  // Fetch 17 adds a field for KRaft voters (KIP-853) that no client sends.
  [API_KEYS.Fetch]: { min: 0, max: 16 },
  [API_KEYS.ListOffsets]: { min: 0, max: 9 },
  [API_KEYS.Metadata]: { min: 0, max: 12 },
  [API_KEYS.OffsetCommit]: { min: 0, max: 9 },
  [API_KEYS.OffsetFetch]: { min: 0, max: 9 },
  // FindCoordinator 6 is for share groups (KIP-932), which this broker does not have.
  [API_KEYS.FindCoordinator]: { min: 0, max: 5 },
  [API_KEYS.JoinGroup]: { min: 0, max: 9 },
  [API_KEYS.Heartbeat]: { min: 0, max: 4 },
  [API_KEYS.LeaveGroup]: { min: 0, max: 5 },
  [API_KEYS.SyncGroup]: { min: 0, max: 5 },
  [API_KEYS.DescribeGroups]: { min: 0, max: 5 },
  [API_KEYS.ListGroups]: { min: 0, max: 5 },
  [API_KEYS.SaslHandshake]: { min: 0, max: 1 },
  [API_KEYS.ApiVersions]: { min: 0, max: 4 },
  [API_KEYS.CreateTopics]: { min: 0, max: 7 },
  [API_KEYS.DeleteTopics]: { min: 0, max: 6 },
  [API_KEYS.DeleteRecords]: { min: 0, max: 2 },
  [API_KEYS.InitProducerId]: { min: 0, max: 5 },
  [API_KEYS.OffsetForLeaderEpoch]: { min: 0, max: 4 },
  // AddPartitionsToTxn 4-5 carry batches of transactions between brokers (KIP-890); clients send 0-3.
  [API_KEYS.AddPartitionsToTxn]: { min: 0, max: 3 },
  [API_KEYS.AddOffsetsToTxn]: { min: 0, max: 4 },
  [API_KEYS.EndTxn]: { min: 0, max: 4 },
  [API_KEYS.WriteTxnMarkers]: { min: 0, max: 1 },
  [API_KEYS.TxnOffsetCommit]: { min: 0, max: 4 },
  [API_KEYS.DescribeAcls]: { min: 0, max: 3 },
  [API_KEYS.CreateAcls]: { min: 0, max: 3 },
  [API_KEYS.DeleteAcls]: { min: 0, max: 3 },
  [API_KEYS.DescribeConfigs]: { min: 0, max: 4 },
  [API_KEYS.AlterConfigs]: { min: 0, max: 2 },
  [API_KEYS.DescribeLogDirs]: { min: 0, max: 4 },
  [API_KEYS.SaslAuthenticate]: { min: 0, max: 2 },
  [API_KEYS.CreatePartitions]: { min: 0, max: 3 },
  [API_KEYS.DeleteGroups]: { min: 0, max: 2 },
  [API_KEYS.ElectLeaders]: { min: 0, max: 2 },
  [API_KEYS.IncrementalAlterConfigs]: { min: 0, max: 1 },
  [API_KEYS.AlterPartitionReassignments]: { min: 0, max: 0 },
  [API_KEYS.ListPartitionReassignments]: { min: 0, max: 0 },
  [API_KEYS.OffsetDelete]: { min: 0, max: 0 },
  [API_KEYS.DescribeClientQuotas]: { min: 0, max: 1 },
  [API_KEYS.AlterClientQuotas]: { min: 0, max: 1 },
  [API_KEYS.DescribeUserScramCredentials]: { min: 0, max: 0 },
  [API_KEYS.AlterUserScramCredentials]: { min: 0, max: 0 },
  [API_KEYS.DescribeCluster]: { min: 0, max: 1 },
  [API_KEYS.DescribeProducers]: { min: 0, max: 0 },
  [API_KEYS.DescribeTransactions]: { min: 0, max: 0 },
  [API_KEYS.ListTransactions]: { min: 0, max: 1 },
  [API_KEYS.DescribeTopicPartitions]: { min: 0, max: 0 },
};

// Every advertised range must lie inside what the generated codecs can decode.
for (const [key, range] of Object.entries(SUPPORTED_API_VERSIONS)) {
  const api = API_BY_KEY[Number(key)];
  assert(api !== undefined, `supported API ${key} has no codec`);
  assert(range.min <= range.max, `API ${key}: min > max`);
  assert(range.min >= api.minVersion && range.max <= api.maxVersion, `API ${key}: range outside the schema`);
}

export function isSupportedVersion(apiKey: number, apiVersion: number): boolean {
  const r = SUPPORTED_API_VERSIONS[apiKey];
  return r !== undefined && apiVersion >= r.min && apiVersion <= r.max;
}

/** The ApiVersions entries (sorted by key) for the response body. */
export function apiVersionEntries(): { apiKey: number; minVersion: number; maxVersion: number }[] {
  return Object.entries(SUPPORTED_API_VERSIONS)
    .map(([k, r]) => ({ apiKey: Number(k), minVersion: r.min, maxVersion: r.max }))
    .sort((a, b) => a.apiKey - b.apiKey);
}

/** A successful ApiVersions response body listing the table. */
export function apiVersionsResponseBody(throttleTimeMs = 0): Input<ApiVersionsResponse> {
  return { errorCode: 0, apiKeys: apiVersionEntries(), throttleTimeMs };
}

const UNSUPPORTED_VERSION = 35;

/**
 * The whole response frame (size prefix included) to an ApiVersions request of a version we do not
 * support: header v0 and a v0-layout body with error 35 and only the ApiVersions entry, which is what
 * Kafka sends so that the client can retry with a version in range (KIP-511).
 */
export function apiVersionsUnsupportedFrame(correlationId: number): Buffer {
  const own = SUPPORTED_API_VERSIONS[API_KEYS.ApiVersions]!;
  const w = new Writer(64);
  w.int32(0);
  w.int32(correlationId);
  encodeApiVersionsResponse(w, { errorCode: UNSUPPORTED_VERSION, apiKeys: [{ apiKey: API_KEYS.ApiVersions, minVersion: own.min, maxVersion: own.max }] }, 0);
  const out = w.toBuffer();
  out.writeInt32BE(out.length - 4, 0);
  return out;
}
