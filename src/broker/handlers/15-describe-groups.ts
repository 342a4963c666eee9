/** DescribeGroups (15), versions 0-5 (DescribeGroupsRequest.json). */
import type { Handler } from '../handler.ts';

export const describeGroups: Handler<15> = (ctx, request) => ({
  throttleTimeMs: 0,
  groups: ctx.groups.describeGroups(request.groups).map((g) => ({ ...g, authorizedOperations: -2147483648 })),
});
