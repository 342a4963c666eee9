/** SyncGroup (14), versions 0-5 (SyncGroupRequest.json): the leader's assignments in, each member's out. */
import type { Handler } from '../handler.ts';

export const syncGroup: Handler<14> = async (ctx, request, info) => {
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
