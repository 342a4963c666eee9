/**
 * Records of the `__consumer_offsets` log, in Apache Kafka's own layout so that the log compacts by
 * key and reads like Kafka's. Every key and value starts with an int16 schema version; the rest is a
 * big-endian struct. `string` = int16 length + UTF-8 (-1 = null where nullable), `bytes` = int32
 * length + bytes, arrays = int32 count + elements.
 *
 * Keys
 *   version 0 or 1  OffsetCommitKey    group string, topic string, partition int32   (we write 1)
 *   version 2       GroupMetadataKey   group string
 *   other versions  not ours (Kafka's KIP-848 records and later): decoded as 'unknown', skipped on load
 *
 * OffsetCommitValue (we write version 3; 0-3 are read)
 *   v0, v2  offset int64, metadata string, commit_timestamp int64
 *   v1      offset int64, metadata string, commit_timestamp int64, expire_timestamp int64
 *   v3      offset int64, leader_epoch int32, metadata string, commit_timestamp int64
 *
 * GroupMetadataValue (we write version 3; 0-3 are read)
 *   protocol_type string, generation int32, protocol string|null, leader string|null,
 *   current_state_timestamp int64 (v2+), members [MemberMetadata]
 *   MemberMetadata: member_id string, group_instance_id string|null (v3+), client_id string,
 *   client_host string, rebalance_timeout int32 (v1+), session_timeout int32, subscription bytes,
 *   assignment bytes
 *
 * A null value is a tombstone: it deletes the key's offset or group. Records are written whole (one
 * batch per append), so a torn write is the log's business; a record that does not parse here is
 * corrupt data and fails with SB_ERR_CORRUPT rather than being skipped.
 */
import { assert } from '../util/assert.ts';
import { RECORD_STRING_BYTES_MAX, StructReader, StructWriter } from '../protocol/kafka/record-struct.ts';
import { OFFSETS_TOPIC } from '../metadata/topic-name.ts';

export { RECORD_STRING_BYTES_MAX } from '../protocol/kafka/record-struct.ts';

/** Whether `s` fits a record string field. Flexible request versions can carry longer strings. */
export function fitsRecordString(s: string, reserveBytes = 0): boolean {
  // Cheap bound first: a UTF-16 unit takes at most 3 UTF-8 bytes.
  if (s.length * 3 + reserveBytes <= RECORD_STRING_BYTES_MAX) return true;
  return Buffer.byteLength(s, 'utf8') + reserveBytes <= RECORD_STRING_BYTES_MAX;
}

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;
export const OFFSET_COMMIT_VALUE_VERSION = 3;
export const GROUP_METADATA_VALUE_VERSION = 3;

export type CoordinatorKey =
  | { readonly kind: 'offset'; readonly version: number; readonly group: string; readonly topic: string; readonly partition: number }
  | { readonly kind: 'group'; readonly version: number; readonly group: string }
  | { readonly kind: 'unknown'; readonly version: number };

export interface OffsetCommitValue {
  readonly offset: bigint;
  /** -1 when unknown (and for versions before 3). */
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestampMs: number;
  /** Only version 1 stores it; -1 otherwise. */
  readonly expireTimestampMs: number;
}

export interface GroupMemberRecord {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  /** The member's metadata for the group's selected protocol. */
  readonly subscription: Uint8Array;
  readonly assignment: Uint8Array;
}

export interface GroupMetadataValue {
  readonly protocolType: string;
  readonly generation: number;
  readonly protocol: string | null;
  readonly leader: string | null;
  /** -1 when unknown (versions before 2). */
  readonly currentStateTimestampMs: number;
  readonly members: readonly GroupMemberRecord[];
}

// ---------------------------------------------------------------------------------------------- writing

export function encodeOffsetCommitKey(group: string, topic: string, partition: number): Buffer {
  assert(partition >= 0, 'partition must not be negative');
  return new StructWriter().int16(OFFSET_COMMIT_KEY_VERSION).string(group).string(topic).int32(partition).finish();
}

export function encodeGroupMetadataKey(group: string): Buffer {
  return new StructWriter().int16(GROUP_METADATA_KEY_VERSION).string(group).finish();
}

export function encodeOffsetCommitValue(value: OffsetCommitValue): Buffer {
  return new StructWriter()
    .int16(OFFSET_COMMIT_VALUE_VERSION)
    .int64(value.offset)
    .int32(value.leaderEpoch)
    .string(value.metadata)
    .int64(value.commitTimestampMs)
    .finish();
}

export function encodeGroupMetadataValue(value: GroupMetadataValue): Buffer {
  const w = new StructWriter()
    .int16(GROUP_METADATA_VALUE_VERSION)
    .string(value.protocolType)
    .int32(value.generation)
    .string(value.protocol)
    .string(value.leader)
    .int64(value.currentStateTimestampMs)
    .int32(value.members.length);
  for (const m of value.members) {
    w.string(m.memberId)
      .string(m.groupInstanceId)
      .string(m.clientId)
      .string(m.clientHost)
      .int32(m.rebalanceTimeoutMs)
      .int32(m.sessionTimeoutMs)
      .bytes(m.subscription)
      .bytes(m.assignment);
  }
  return w.finish();
}

// ---------------------------------------------------------------------------------------------- reading

export function decodeKey(buf: Buffer): CoordinatorKey {
  const r = new StructReader(buf, `${OFFSETS_TOPIC} key`);
  const version = r.int16();
  if (version === 0 || version === 1) {
    const group = r.string();
    const topic = r.string();
    const partition = r.int32();
    r.end();
    if (partition < 0) r.fail(`negative partition ${partition}`);
    return { kind: 'offset', version, group, topic, partition };
  }
  if (version === 2) {
    const group = r.string();
    r.end();
    return { kind: 'group', version, group };
  }
  if (version < 0) r.fail(`negative key version ${version}`);
  return { kind: 'unknown', version };
}

export function decodeOffsetCommitValue(buf: Buffer): OffsetCommitValue {
  const r = new StructReader(buf, `${OFFSETS_TOPIC} offset commit value`);
  const version = r.int16();
  if (version < 0 || version > 3) r.fail(`unsupported version ${version}`);
  const offset = r.int64();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  const metadata = r.string();
  const commitTimestampMs = r.timestamp();
  const expireTimestampMs = version === 1 ? r.timestamp() : -1;
  r.end();
  return { offset, leaderEpoch, metadata, commitTimestampMs, expireTimestampMs };
}

export function decodeGroupMetadataValue(buf: Buffer): GroupMetadataValue {
  const r = new StructReader(buf, `${OFFSETS_TOPIC} group metadata value`);
  const version = r.int16();
  if (version < 0 || version > 3) r.fail(`unsupported version ${version}`);
  const protocolType = r.string();
  const generation = r.int32();
  const protocol = r.nullableString();
  const leader = r.nullableString();
  const currentStateTimestampMs = version >= 2 ? r.timestamp() : -1;
  const count = r.count();
  const members: GroupMemberRecord[] = [];
  for (let i = 0; i < count; i++) {
    const memberId = r.string();
    const groupInstanceId = version >= 3 ? r.nullableString() : null;
    const clientId = r.string();
    const clientHost = r.string();
    const rebalanceTimeoutMs = version >= 1 ? r.int32() : -1;
    const sessionTimeoutMs = r.int32();
    const subscription = r.bytes();
    const assignment = r.bytes();
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      // Version 0 had no rebalance timeout; Kafka then uses the session timeout.
      rebalanceTimeoutMs: rebalanceTimeoutMs === -1 ? sessionTimeoutMs : rebalanceTimeoutMs,
      sessionTimeoutMs,
      subscription,
      assignment,
    });
  }
  r.end();
  return { protocolType, generation, protocol, leader, currentStateTimestampMs, members };
}
