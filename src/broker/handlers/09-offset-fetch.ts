/**
 * OffsetFetch (9), versions 0-9 (OffsetFetchRequest.json). No committed offset is offset -1 with error 0
 * (not an error). v8+ batch several groups (KIP-709) with a per-group layout.
 */
import type { Handler } from '../handler.ts';

export const offsetFetch: Handler<9> = (ctx, request, info) => {
  if (info.apiVersion >= 8) {
    return {
      throttleTimeMs: 0,
      groups: request.groups.map((g) => {
        const r = ctx.groups.offsetFetch({ groupId: g.groupId, topics: g.topics, requireStable: request.requireStable });
        return { groupId: g.groupId, errorCode: r.errorCode, topics: r.topics };
      }),
    };
  }
  const r = ctx.groups.offsetFetch({ groupId: request.groupId, topics: request.topics, requireStable: info.apiVersion >= 7 && request.requireStable });
  return {
    throttleTimeMs: 0,
    errorCode: info.apiVersion >= 2 ? r.errorCode : 0,
    topics: r.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        ...p,
        committedLeaderEpoch: info.apiVersion >= 5 ? p.committedLeaderEpoch : -1,
        // v0/v1 have no group-level error: carry it per partition.
        errorCode: p.errorCode !== 0 || info.apiVersion >= 2 ? p.errorCode : r.errorCode,
      })),
    })),
  };
};
