/**
 * SaslHandshake (17), versions 0-1: picks the mechanism for the exchange that follows: with v1 in
 * SaslAuthenticate requests, with v0 as bare size-prefixed tokens (the request router takes those;
 * librdkafka needs v0 listed before it uses SCRAM at all, then speaks v1). UNSUPPORTED_SASL_MECHANISM
 * with the enabled list for any other; ILLEGAL_SASL_STATE when the listener has no SASL.
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
  state.rawTokens = info.apiVersion === 0;
  info.connection.state.set(SASL_STATE, state);
  return { errorCode: 0, mechanisms: sasl.mechanisms };
};
