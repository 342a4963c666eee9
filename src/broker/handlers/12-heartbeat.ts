/** Heartbeat (12), versions 0-4 (HeartbeatRequest.json). */
import type { Handler } from '../handler.ts';

export const heartbeat: Handler<12> = (ctx, request) => ({
  throttleTimeMs: 0,
  errorCode: ctx.groups.heartbeat({
    groupId: request.groupId,
    generationId: request.generationId,
    memberId: request.memberId,
    groupInstanceId: request.groupInstanceId,
  }).errorCode,
});
