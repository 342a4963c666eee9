/** Heartbeat (12), versions 0-4 (HeartbeatRequest.json). With authorization the group needs READ. */
import type { Handler } from '../handler.ts';
import { allowed, Op, Resource } from '../access.ts';
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';

export const heartbeat: Handler<12> = (ctx, request, info) => ({
  throttleTimeMs: 0,
  errorCode: !allowed(ctx, info, Op.READ, Resource.GROUP, request.groupId) ? KafkaErrorCode.GROUP_AUTHORIZATION_FAILED : ctx.groups.heartbeat({
    groupId: request.groupId,
    generationId: request.generationId,
    memberId: request.memberId,
    groupInstanceId: request.groupInstanceId,
  }).errorCode,
});
