/** ListGroups (16), versions 0-5 (ListGroupsRequest.json); v4+ filter by state (KIP-518), v5+ by type. */
import type { Handler } from '../handler.ts';

export const listGroups: Handler<16> = (ctx, request, info) => {
  const r = ctx.groups.listGroups({ statesFilter: info.apiVersion >= 4 ? request.statesFilter : [], typesFilter: info.apiVersion >= 5 ? request.typesFilter : [] });
  return { throttleTimeMs: 0, errorCode: r.errorCode, groups: r.groups };
};
