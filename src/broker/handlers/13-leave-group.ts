/**
 * LeaveGroup (13), versions 0-5 (LeaveGroupRequest.json). v0-2 name one member; v3+ a list (KIP-345),
 * with per-member errors. v0-2 answers carry a single error code. With authorization the group needs READ.
 */
import { leaveGroupV0ErrorCode } from '../../groups/group-api.ts';
import type { Handler } from '../handler.ts';
import { allowed, Op, Resource } from '../access.ts';
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';

export const leaveGroup: Handler<13> = (ctx, request, info) => {
  if (!allowed(ctx, info, Op.READ, Resource.GROUP, request.groupId)) return { throttleTimeMs: 0, errorCode: KafkaErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
  const members = info.apiVersion >= 3 ? request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId })) : [{ memberId: request.memberId, groupInstanceId: null }];
  const r = ctx.groups.leaveGroup({ groupId: request.groupId, members });
  if (info.apiVersion < 3) return { throttleTimeMs: 0, errorCode: leaveGroupV0ErrorCode(r), members: [] };
  return { throttleTimeMs: 0, errorCode: r.errorCode, members: r.members };
};
