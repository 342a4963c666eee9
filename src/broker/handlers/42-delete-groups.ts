/**
 * DeleteGroups (42), versions 0-2 (DeleteGroupsRequest.json): only empty groups can be deleted. With
 * authorization each group needs DELETE (else GROUP_AUTHORIZATION_FAILED).
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { allowed, Op, Resource } from '../access.ts';

export const deleteGroups: Handler<42> = async (ctx, request, info) => {
  const permitted = request.groupsNames.filter((g) => allowed(ctx, info, Op.DELETE, Resource.GROUP, g));
  const deleted = new Map((await ctx.groups.deleteGroups(permitted)).map((r) => [r.groupId, r]));
  return {
    throttleTimeMs: 0,
    results: request.groupsNames.map((groupId) => deleted.get(groupId) ?? { groupId, errorCode: KafkaErrorCode.GROUP_AUTHORIZATION_FAILED }),
  };
};
