/** DeleteGroups (42), versions 0-2 (DeleteGroupsRequest.json): only empty groups can be deleted. */
import type { Handler } from '../handler.ts';

export const deleteGroups: Handler<42> = async (ctx, request) => ({
  throttleTimeMs: 0,
  results: await ctx.groups.deleteGroups(request.groupsNames),
});
