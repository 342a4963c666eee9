/**
 * DescribeGroups (15), versions 0-5 (DescribeGroupsRequest.json). With authorization each group needs
 * DESCRIBE (else it is answered GROUP_AUTHORIZATION_FAILED and nothing else); authorized_operations
 * (v3+) when the client asks.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { Handler } from '../handler.ts';
import { allowed, authorizedOperations, Op, Resource } from '../access.ts';

export const describeGroups: Handler<15> = (ctx, request, info) => {
  const permitted = request.groups.filter((g) => allowed(ctx, info, Op.DESCRIBE, Resource.GROUP, g));
  const described = new Map(ctx.groups.describeGroups(permitted).map((g) => [g.groupId, g]));
  return {
    throttleTimeMs: 0,
    groups: request.groups.map((groupId) => {
      const g = described.get(groupId);
      if (g === undefined) {
        return { errorCode: KafkaErrorCode.GROUP_AUTHORIZATION_FAILED, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: authorizedOperations(ctx, info, false, Resource.GROUP, groupId) };
      }
      return { ...g, authorizedOperations: authorizedOperations(ctx, info, request.includeAuthorizedOperations, Resource.GROUP, groupId) };
    }),
  };
};
