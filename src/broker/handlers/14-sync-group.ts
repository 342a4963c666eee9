/**
 * SyncGroup (14), versions 0-5 (SyncGroupRequest.json): the leader's assignments in, each member's out.
 * With authorization the group needs READ.
 */
import type { Handler } from '../handler.ts';
import { allowed, Op, Resource } from '../access.ts';
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';

export const syncGroup: Handler<14> = async (ctx, request, info) => {
  if (!allowed(ctx, info, Op.READ, Resource.GROUP, request.groupId)) {
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.GROUP_AUTHORIZATION_FAILED, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
  }
  const r = await ctx.groups.syncGroup({
    groupId: request.groupId,
    generationId: request.generationId,
    memberId: request.memberId,
    groupInstanceId: request.groupInstanceId,
    protocolType: info.apiVersion >= 5 ? request.protocolType : null,
    protocolName: info.apiVersion >= 5 ? request.protocolName : null,
    assignments: request.assignments,
  });
  return {
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    protocolType: info.apiVersion >= 5 ? r.protocolType : null,
    protocolName: info.apiVersion >= 5 ? r.protocolName : null,
    assignment: r.assignment,
  };
};
