/**
 * ApiVersions (18): the supported-versions table. Versions 0-4 (v4 has v3's layout); v3+ carries client software name and
 * version (KIP-511), which we only log at debug. The response header is always v0 (the codec handles it).
 */
import { apiVersionsResponseBody } from '../../protocol/kafka/api-versions.ts';
import type { Handler } from '../handler.ts';

export const apiVersions: Handler<18> = (ctx, request, info) => {
  if (info.apiVersion >= 3) {
    ctx.log.debug({ conn: info.connection.id, client: request.clientSoftwareName, clientVersion: request.clientSoftwareVersion }, 'client connected');
  }
  return apiVersionsResponseBody();
};
