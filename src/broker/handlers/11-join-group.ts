/**
 * JoinGroup (11), versions 0-9 (JoinGroupRequest.json), mapped onto the group coordinator. The response
 * may be held until the rebalance completes (the coordinator parks it); the connection keeps later
 * responses behind it, as Kafka does. Before v7 the protocol name is a non-null string.
 * With authorization the group needs READ (else GROUP_AUTHORIZATION_FAILED).
 */
import type { Handler } from '../handler.ts';
import { allowed, Op, Resource } from '../access.ts';
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';

export const joinGroup: Handler<11> = async (ctx, request, info) => {
  if (!allowed(ctx, info, Op.READ, Resource.GROUP, request.groupId)) {
    return {
      throttleTimeMs: 0,
      errorCode: KafkaErrorCode.GROUP_AUTHORIZATION_FAILED,
      generationId: -1,
      protocolType: null,
      protocolName: info.apiVersion >= 7 ? null : '',
      leader: '',
      skipAssignment: false,
      memberId: '',
      members: [],
    };
  }
  const r = await ctx.groups.joinGroup({
    apiVersion: info.apiVersion,
    groupId: request.groupId,
    sessionTimeoutMs: request.sessionTimeoutMs,
    rebalanceTimeoutMs: info.apiVersion >= 1 ? request.rebalanceTimeoutMs : -1,
    memberId: request.memberId,
    groupInstanceId: request.groupInstanceId,
    protocolType: request.protocolType,
    protocols: request.protocols,
    clientId: info.header.clientId ?? '',
    clientHost: info.connection.remoteAddress,
  });
  return {
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    generationId: r.generationId,
    protocolType: info.apiVersion >= 7 ? r.protocolType : null,
    protocolName: info.apiVersion >= 7 ? r.protocolName : (r.protocolName ?? ''),
    leader: r.leader,
    skipAssignment: info.apiVersion >= 9 ? r.skipAssignment : false,
    memberId: r.memberId,
    members: r.members,
  };
};
