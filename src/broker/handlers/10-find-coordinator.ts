/**
 * FindCoordinator (10), versions 0-5 (FindCoordinatorRequest.json). This broker coordinates every group.
 * v0-3 carry one key (v0 has no key_type: always a group); v4+ a batch of coordinator_keys (KIP-699) answered one by one.
 */
import type { Handler } from '../handler.ts';

export const findCoordinator: Handler<10> = (ctx, request, info) => {
  const node = { nodeId: ctx.nodeId, host: ctx.advertisedHost, port: ctx.advertisedPort };
  if (info.apiVersion >= 4) {
    return {
      throttleTimeMs: 0,
      coordinators: request.coordinatorKeys.map((key) => {
        const { errorCode } = ctx.groups.findCoordinator(request.keyType);
        return errorCode === 0 ? { key, ...node, errorCode, errorMessage: null } : { key, nodeId: -1, host: '', port: -1, errorCode, errorMessage: null };
      }),
    };
  }
  const { errorCode } = ctx.groups.findCoordinator(request.keyType);
  return errorCode === 0
    ? { throttleTimeMs: 0, errorCode, errorMessage: null, ...node }
    : { throttleTimeMs: 0, errorCode, errorMessage: null, nodeId: -1, host: '', port: -1 };
};
