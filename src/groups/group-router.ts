/**
 * The consumer-group API of a broker: one GroupCoordinator per `__consumer_offsets` partition this
 * broker coordinates, and a request for a group goes to the coordinator of the group's partition
 * (metadata/offsets-partition.ts). A group whose partition is coordinated elsewhere is answered by a
 * standby coordinator (NOT_COORDINATOR), so clients look the coordinator up again. Requests naming
 * several groups (DescribeGroups, DeleteGroups) are split by partition and answered in their order;
 * ListGroups lists the groups of every coordinator here.
 */
import { PartitionCoordinators } from './partition-coordinators.ts';
import { KafkaErrorCode } from './error-codes.ts';
import type { GroupCoordinator } from './group-coordinator.ts';
import type { TopicPartitionRef } from './group-store.ts';
import type {
  DeletableGroupResult,
  DescribedGroup,
  GroupPartitionLag,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  ListGroupsRequest,
  ListGroupsResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  SyncGroupRequest,
  SyncGroupResponse,
  TxnOffsetCommitRequest,
  TxnOffsetCommitResponse,
} from './group-api.ts';

export class GroupRouter extends PartitionCoordinators<GroupCoordinator> {
  findCoordinator(keyType: number, key: string): { errorCode: number } {
    return this.coordinatorOf(key).findCoordinator(keyType);
  }

  joinGroup(req: JoinGroupRequest): Promise<JoinGroupResponse> {
    return this.coordinatorOf(req.groupId).joinGroup(req);
  }

  syncGroup(req: SyncGroupRequest): Promise<SyncGroupResponse> {
    return this.coordinatorOf(req.groupId).syncGroup(req);
  }

  heartbeat(req: HeartbeatRequest): HeartbeatResponse {
    return this.coordinatorOf(req.groupId).heartbeat(req);
  }

  leaveGroup(req: LeaveGroupRequest): LeaveGroupResponse {
    return this.coordinatorOf(req.groupId).leaveGroup(req);
  }

  offsetCommit(req: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    return this.coordinatorOf(req.groupId).offsetCommit(req);
  }

  txnOffsetCommit(req: TxnOffsetCommitRequest): Promise<TxnOffsetCommitResponse> {
    return this.coordinatorOf(req.groupId).txnOffsetCommit(req);
  }

  /**
   * A commit or abort marker of the producer is visible on `__consumer_offsets` partition
   * `offsetsPartitionIndex`: its coordinator here (if any) applies or drops the producer's pending
   * offsets. Without a coordinator here nothing is held: the one that loads the partition replays
   * the marker. Returns how many offsets were applied.
   */
  completeTransaction(offsetsPartitionIndex: number, producerId: bigint, commit: boolean): number {
    return this.byPartition.get(offsetsPartitionIndex)?.completeTransaction(producerId, commit) ?? 0;
  }

  offsetFetch(req: OffsetFetchRequest): OffsetFetchResponse {
    return this.coordinatorOf(req.groupId).offsetFetch(req);
  }

  describeGroups(groupIds: readonly string[]): DescribedGroup[] {
    return groupIds.map((groupId) => this.coordinatorOf(groupId).describeGroups([groupId])[0]!);
  }

  listGroups(req: ListGroupsRequest): ListGroupsResponse {
    const groups: ListGroupsResponse['groups'][number][] = [];
    let errorCode: number = KafkaErrorCode.NONE;
    for (const c of this.byPartition.values()) {
      const r = c.listGroups(req);
      // A coordinator still loading makes the answer incomplete: say so, as Kafka does.
      if (r.errorCode !== KafkaErrorCode.NONE) errorCode = r.errorCode;
      groups.push(...r.groups);
    }
    return { errorCode, groups: errorCode === KafkaErrorCode.NONE ? groups : [] };
  }

  async deleteGroups(groupIds: readonly string[]): Promise<DeletableGroupResult[]> {
    const byCoordinator = new Map<GroupCoordinator, string[]>();
    for (const id of groupIds) {
      const c = this.coordinatorOf(id);
      byCoordinator.set(c, [...(byCoordinator.get(c) ?? []), id]);
    }
    const results = new Map<string, DeletableGroupResult>();
    await Promise.all([...byCoordinator].map(async ([c, ids]) => (await c.deleteGroups(ids)).forEach((r) => results.set(r.groupId, r))));
    return groupIds.map((id) => results.get(id)!);
  }

  deleteOffsets(groupId: string, partitions: readonly TopicPartitionRef[]): Promise<{ errorCode: number; partitionErrors: number[] }> {
    return this.coordinatorOf(groupId).deleteOffsets(groupId, partitions);
  }

  async removeTopicOffsets(topics: readonly string[]): Promise<number> {
    let removed = 0;
    for (const c of this.byPartition.values()) removed += await c.removeTopicOffsets(topics);
    return removed;
  }

  consumerLag(highWatermark: (topic: string, partition: number) => bigint | number | undefined): GroupPartitionLag[] {
    return [...this.byPartition.values()].flatMap((c) => c.consumerLag(highWatermark));
  }
}
