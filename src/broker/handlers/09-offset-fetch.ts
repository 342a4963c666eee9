/**
 * OffsetFetch (9), versions 0-9 (OffsetFetchRequest.json). No committed offset is offset -1 with error 0
 * (not an error). v8+ batch several groups (KIP-709) with a per-group layout.
 * With authorization the group needs DESCRIBE (else GROUP_AUTHORIZATION_FAILED) and each topic named
 * DESCRIBE (else its partitions are TOPIC_AUTHORIZATION_FAILED); asked for every topic, the answer
 * leaves out the topics the client may not describe.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import type { OffsetFetchRequest, OffsetFetchResponse } from '../../groups/group-api.ts';
import type { BrokerContext } from '../context.ts';
import type { Handler, RequestInfo } from '../handler.ts';
import { allowed, Op, Resource, visible } from '../access.ts';

function authorizedFetch(ctx: BrokerContext, info: RequestInfo, req: OffsetFetchRequest): OffsetFetchResponse {
  if (!allowed(ctx, info, Op.DESCRIBE, Resource.GROUP, req.groupId)) {
    const errorCode = KafkaErrorCode.GROUP_AUTHORIZATION_FAILED;
    const topics = (req.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode })) }));
    return { errorCode, topics };
  }
  if (req.topics === null) {
    const r = ctx.groups.offsetFetch(req);
    return { ...r, topics: r.topics.filter((t) => visible(ctx, info, Op.DESCRIBE, Resource.TOPIC, t.name)) };
  }
  const permitted = req.topics.filter((t) => allowed(ctx, info, Op.DESCRIBE, Resource.TOPIC, t.name));
  const r = ctx.groups.offsetFetch({ ...req, topics: permitted });
  const refused = req.topics
    .filter((t) => !permitted.includes(t))
    .map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED })) }));
  return { ...r, topics: [...r.topics, ...refused] };
}

export const offsetFetch: Handler<9> = (ctx, request, info) => {
  if (info.apiVersion >= 8) {
    return {
      throttleTimeMs: 0,
      groups: request.groups.map((g) => {
        const r = authorizedFetch(ctx, info, { groupId: g.groupId, topics: g.topics, requireStable: request.requireStable });
        return { groupId: g.groupId, errorCode: r.errorCode, topics: r.topics };
      }),
    };
  }
  const r = authorizedFetch(ctx, info, { groupId: request.groupId, topics: request.topics, requireStable: info.apiVersion >= 7 && request.requireStable });
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
