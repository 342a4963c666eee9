/**
 * ListGroups (16), versions 0-5 (ListGroupsRequest.json); v4+ filter by state (KIP-518), v5+ by type.
 * With authorization, DESCRIBE on the cluster lists every group; otherwise the groups the client may
 * DESCRIBE.
 */
import { CLUSTER_RESOURCE } from '../../metadata/acls.ts';
import type { Handler } from '../handler.ts';
import { Op, Resource, visible } from '../access.ts';

export const listGroups: Handler<16> = (ctx, request, info) => {
  const r = ctx.groups.listGroups({ statesFilter: info.apiVersion >= 4 ? request.statesFilter : [], typesFilter: info.apiVersion >= 5 ? request.typesFilter : [] });
  const everything = visible(ctx, info, Op.DESCRIBE, Resource.CLUSTER, CLUSTER_RESOURCE);
  return { throttleTimeMs: 0, errorCode: r.errorCode, groups: everything ? r.groups : r.groups.filter((g) => visible(ctx, info, Op.DESCRIBE, Resource.GROUP, g.groupId)) };
};
