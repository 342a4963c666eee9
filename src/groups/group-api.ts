/**
 * Plain request and response shapes of the group coordinator. They are version-neutral: the broker's
 * handlers map each decoded Kafka request version onto them and map the answer back, filling fields a
 * version lacks with the schema default and dropping fields a version does not carry. Buffers in
 * requests are copied when the coordinator keeps them, so handlers may pass views into the frame.
 */

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

// ---------------------------------------------------------------------------------------------- JoinGroup (11)

export interface JoinGroupProtocol {
  readonly name: string;
  readonly metadata: Uint8Array;
}

export interface JoinGroupRequest {
  /** The JoinGroup version: v0 has no rebalance timeout, v4+ gets MEMBER_ID_REQUIRED, v9+ may skip assignment. */
  readonly apiVersion: number;
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  /** -1 (or any value <= 0, or v0) means "not sent": the session timeout is used (Kafka does the same for v0). */
  readonly rebalanceTimeoutMs: number;
  /** '' for a member that has no id yet. */
  readonly memberId: string;
  /** Static membership (v5+); null for dynamic members. */
  readonly groupInstanceId: string | null;
  readonly protocolType: string;
  /** In the member's order of preference. */
  readonly protocols: readonly JoinGroupProtocol[];
  /** From the request header; the member id is `${clientId}-${uuid}` (or `${groupInstanceId}-${uuid}`). */
  readonly clientId: string;
  /** The peer address, shown by DescribeGroups. */
  readonly clientHost: string;
}

export interface JoinGroupResponseMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly metadata: Buffer;
}

export interface JoinGroupResponse {
  readonly errorCode: number;
  /** -1 on error. */
  readonly generationId: number;
  /** v7+; null on error. */
  readonly protocolType: string | null;
  /** Nullable from v7; handlers for v0-6 write '' for null. */
  readonly protocolName: string | null;
  /** '' on error. */
  readonly leader: string;
  /** v9+: the leader must not run the assignment (a static leader replaced while the group is stable). */
  readonly skipAssignment: boolean;
  /** The member's id: the new one with MEMBER_ID_REQUIRED, the one sent on other errors. */
  readonly memberId: string;
  /** Filled for the leader only: every member with its metadata for the selected protocol. */
  readonly members: readonly JoinGroupResponseMember[];
}

// ---------------------------------------------------------------------------------------------- SyncGroup (14)

export interface SyncGroupAssignment {
  readonly memberId: string;
  readonly assignment: Uint8Array;
}

export interface SyncGroupRequest {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** v5+; null when not sent. Checked against the group's (INCONSISTENT_GROUP_PROTOCOL 23). */
  readonly protocolType: string | null;
  /** v5+; null when not sent. Checked against the group's (INCONSISTENT_GROUP_PROTOCOL 23). */
  readonly protocolName: string | null;
  /** The leader's assignments; empty for followers. */
  readonly assignments: readonly SyncGroupAssignment[];
}

export interface SyncGroupResponse {
  readonly errorCode: number;
  /** v5+. */
  readonly protocolType: string | null;
  /** v5+. */
  readonly protocolName: string | null;
  /** The member's assignment; empty on error. */
  readonly assignment: Buffer;
}

// ---------------------------------------------------------------------------------------------- Heartbeat (12)

export interface HeartbeatRequest {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface HeartbeatResponse {
  readonly errorCode: number;
}

// ---------------------------------------------------------------------------------------------- LeaveGroup (13)

export interface LeaveGroupMember {
  /** May be '' when `groupInstanceId` names the member (v3+ admin removal). */
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface LeaveGroupRequest {
  readonly groupId: string;
  /** v0-2: one entry built from the request's member_id (groupInstanceId null); v3+: the members array. */
  readonly members: readonly LeaveGroupMember[];
}

export interface LeaveGroupMemberResponse {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly errorCode: number;
}

export interface LeaveGroupResponse {
  /** Top-level error. For v0-2 answer `leaveGroupV0ErrorCode(response)`. */
  readonly errorCode: number;
  readonly members: readonly LeaveGroupMemberResponse[];
}

/** The single error a v0-2 LeaveGroup response carries: the top-level one, else the member's. */
export function leaveGroupV0ErrorCode(response: LeaveGroupResponse): number {
  if (response.errorCode !== 0) return response.errorCode;
  return response.members[0]?.errorCode ?? 0;
}

// ---------------------------------------------------------------------------------------------- OffsetCommit (8)

export interface OffsetCommitRequestPartition {
  readonly partitionIndex: number;
  readonly committedOffset: bigint;
  /** v6+; -1 when unknown or not sent. */
  readonly committedLeaderEpoch: number;
  /** v1 only; -1 (the default) means "now". */
  readonly commitTimestampMs: number;
  /** Null is stored as ''. */
  readonly committedMetadata: string | null;
}

export interface OffsetCommitRequestTopic {
  readonly name: string;
  readonly partitions: readonly OffsetCommitRequestPartition[];
}

export interface OffsetCommitRequest {
  /** v9+ answers GROUP_ID_NOT_FOUND instead of ILLEGAL_GENERATION for a member commit to an unknown group. */
  readonly apiVersion: number;
  readonly groupId: string;
  /** -1 for simple (admin, standalone consumer) commits; v0 sends none: pass -1. */
  readonly generationId: number;
  /** '' for simple commits. */
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly topics: readonly OffsetCommitRequestTopic[];
}

export interface OffsetCommitResponsePartition {
  readonly partitionIndex: number;
  readonly errorCode: number;
}

export interface OffsetCommitResponseTopic {
  readonly name: string;
  readonly partitions: readonly OffsetCommitResponsePartition[];
}

export interface OffsetCommitResponse {
  readonly topics: readonly OffsetCommitResponseTopic[];
}

// ---------------------------------------------------------------------------------------------- TxnOffsetCommit (28)

export interface TxnOffsetCommitRequest {
  /** Authorized by the handler (WRITE on the transactional id); not checked here. */
  readonly transactionalId: string;
  readonly groupId: string;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  /** v3+ (KIP-447); -1 before, or when the producer does not name its consumer's generation. */
  readonly generationId: number;
  /** v3+; '' before. */
  readonly memberId: string;
  /** v3+; null before. */
  readonly groupInstanceId: string | null;
  /** `commitTimestampMs` is -1 (now): TxnOffsetCommit carries no timestamp. */
  readonly topics: readonly OffsetCommitRequestTopic[];
}

/** Per partition, as OffsetCommit answers. */
export type TxnOffsetCommitResponse = OffsetCommitResponse;

// ---------------------------------------------------------------------------------------------- OffsetFetch (9)

export interface OffsetFetchRequestTopic {
  readonly name: string;
  readonly partitionIndexes: readonly number[];
}

export interface OffsetFetchRequest {
  /** One group: v0-7 carry one; v8+ handlers call once per entry of `groups`. */
  readonly groupId: string;
  /** Null (v2+) means every partition the group has committed. */
  readonly topics: readonly OffsetFetchRequestTopic[] | null;
  /** v7+ (KIP-447): partitions with a pending transactional offset answer UNSTABLE_OFFSET_COMMIT. */
  readonly requireStable: boolean;
}

export interface OffsetFetchResponsePartition {
  readonly partitionIndex: number;
  /** -1 when nothing was committed (with errorCode 0, as Kafka answers). */
  readonly committedOffset: bigint;
  /** v5+; -1 when unknown. */
  readonly committedLeaderEpoch: number;
  readonly metadata: string;
  readonly errorCode: number;
}

export interface OffsetFetchResponseTopic {
  readonly name: string;
  readonly partitions: readonly OffsetFetchResponsePartition[];
}

export interface OffsetFetchResponse {
  /** Group-level error (v2+; v8+ per group). v0/v1 handlers use the per-partition codes. */
  readonly errorCode: number;
  readonly topics: readonly OffsetFetchResponseTopic[];
}

// ---------------------------------------------------------------------------------------------- DescribeGroups (15)

export interface DescribedGroupMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  /** Empty unless the group is Stable (as Kafka answers). */
  readonly memberMetadata: Buffer;
  /** Empty unless the group is Stable. */
  readonly memberAssignment: Buffer;
}

export interface DescribedGroup {
  readonly errorCode: number;
  readonly groupId: string;
  /** An unknown group is described as 'Dead' with error 0, as Kafka does for v0-5. */
  readonly groupState: GroupState;
  readonly protocolType: string;
  /** The selected protocol while Stable, else ''. */
  readonly protocolData: string;
  readonly members: readonly DescribedGroupMember[];
}

// ---------------------------------------------------------------------------------------------- ListGroups (16)

export interface ListGroupsRequest {
  /** v4+; empty means all states. Matched case-insensitively. */
  readonly statesFilter: readonly string[];
  /** v5+; empty means all types. Every group here is of type 'classic'. */
  readonly typesFilter: readonly string[];
}

export interface ListedGroup {
  readonly groupId: string;
  readonly protocolType: string;
  /** v4+. */
  readonly groupState: GroupState;
  /** v5+. */
  readonly groupType: 'classic';
}

export interface ListGroupsResponse {
  readonly errorCode: number;
  readonly groups: readonly ListedGroup[];
}

// ---------------------------------------------------------------------------------------------- DeleteGroups (42)

export interface DeletableGroupResult {
  readonly groupId: string;
  readonly errorCode: number;
}

// ---------------------------------------------------------------------------------------------- FindCoordinator (10)

/** FindCoordinator key types (KIP-98): 0 = group, 1 = transaction. */
export const COORDINATOR_KEY_TYPE_GROUP = 0;
export const COORDINATOR_KEY_TYPE_TRANSACTION = 1;

// ---------------------------------------------------------------------------------------------- Lag and inspection

export interface GroupPartitionLag {
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  readonly committedOffset: bigint;
  readonly highWatermark: bigint;
  /** highWatermark - committedOffset, never below 0 (a negative committed offset counts as 0). */
  readonly lag: bigint;
}

export interface GroupMemberSnapshot {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly protocols: readonly string[];
  readonly assignment: Buffer;
  readonly awaitingJoin: boolean;
  readonly awaitingSync: boolean;
}

/** A read-only view of one group, for the admin HTTP API, the CLI and tests. */
export interface GroupSnapshot {
  readonly groupId: string;
  readonly state: GroupState;
  readonly stateTimestampMs: number;
  readonly generationId: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly leaderId: string | null;
  readonly members: readonly GroupMemberSnapshot[];
  readonly pendingMemberIds: readonly string[];
  readonly committedOffsetCount: number;
}
