/**
 * SaslHandshake (17), version 1 (version 0's raw, unframed tokens are not offered): picks the
 * mechanism for the SaslAuthenticate requests that follow. UNSUPPORTED_SASL_MECHANISM with the
 * enabled list for any other; ILLEGAL_SASL_STATE when the listener has no SASL.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { SASL_STATE, type SaslState } from '../../security/sasl.ts';
import type { Handler } from '../handler.ts';

export const saslHandshake: Handler<17> = (ctx, request, info) => {
  const sasl = ctx.sasl;
  if (!sasl) return { errorCode: KafkaErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
  if (!sasl.mechanisms.includes(request.mechanism)) {
    ctx.log.warn({ conn: info.connection.id, remote: info.connection.remoteAddress, mechanism: request.mechanism, enabled: sasl.mechanisms }, 'SASL mechanism not enabled');
    return { errorCode: KafkaErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: sasl.mechanisms };
  }
  const state = (info.connection.state.get(SASL_STATE) as SaslState | undefined) ?? { mechanism: null, exchange: null, principal: null, expiresAtMs: 0 };
  state.mechanism = request.mechanism;
  state.exchange = null;
  info.connection.state.set(SASL_STATE, state);
  return { errorCode: 0, mechanisms: sasl.mechanisms };
};
