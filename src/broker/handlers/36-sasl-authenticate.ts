/**
 * SaslAuthenticate (36), versions 0-2: the steps of the exchange SaslHandshake chose (security/sasl.ts):
 * one for OAUTHBEARER and PLAIN, two for SCRAM (each answered with the server's next message).
 * Success records the principal and, for tokens, the session's end (session_lifetime_ms from v1,
 * KIP-368; a client re-authenticates on the same connection before it; 0 when the session does not
 * end). Failure answers SASL_AUTHENTICATION_FAILED with the reason after
 * security.authentication.failedAttemptDelay (slowing password guessing), logs it (never a token or
 * password), and closes the connection, as Kafka does. A listener without SASL answers ILLEGAL_SASL_STATE.
 */
import { KafkaErrorCode } from '../../protocol/kafka/error-codes.ts';
import { PRINCIPAL_STATE } from '../../security/principal.ts';
import { SASL_STATE, type SaslState } from '../../security/sasl.ts';
import type { Handler } from '../handler.ts';

export const saslAuthenticate: Handler<36> = async (ctx, request, info) => {
  const { connection } = info;
  const state = connection.state.get(SASL_STATE) as SaslState | undefined;
  const refuse = (errorCode: number, errorMessage: string) => {
    ctx.log.warn({ conn: connection.id, remote: connection.remoteAddress, reason: errorMessage }, 'SASL authentication failed');
    connection.closeAfterFlush('SASL authentication failed');
    return { errorCode, errorMessage, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n };
  };
  // A listener without SASL answers as Kafka's does, and keeps the connection.
  if (!ctx.sasl) return { errorCode: KafkaErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SASL is not enabled on this listener', authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n };
  if (state === undefined || state.mechanism === null) return refuse(KafkaErrorCode.ILLEGAL_SASL_STATE, 'SaslAuthenticate before a SaslHandshake');
  const now = ctx.now();
  state.exchange ??= ctx.sasl.begin(state.mechanism);
  const outcome = await state.exchange.step(request.authBytes, now);
  if (!outcome.done) return { errorCode: 0, errorMessage: null, authBytes: outcome.serverMessage, sessionLifetimeMs: 0n };
  state.exchange = null;
  if (!outcome.ok) {
    await new Promise((resolve) => setTimeout(resolve, ctx.config.security.authentication.failedAttemptDelay));
    return { ...refuse(KafkaErrorCode.SASL_AUTHENTICATION_FAILED, `Authentication failed: ${outcome.reason}`), authBytes: outcome.serverMessage };
  }
  // Re-authentication must keep the principal (KIP-368).
  if (state.principal !== null && state.principal !== outcome.principal) return refuse(KafkaErrorCode.SASL_AUTHENTICATION_FAILED, `re-authentication as ${outcome.principal} on a connection of ${state.principal}`);
  state.principal = outcome.principal!;
  state.expiresAtMs = outcome.expiresAtMs!;
  connection.state.set(PRINCIPAL_STATE, state.principal);
  ctx.log.debug({ conn: connection.id, principal: state.principal }, 'SASL authenticated');
  const lifetime = Number.isFinite(state.expiresAtMs) ? Math.max(1, state.expiresAtMs - now) : 0;
  return { errorCode: 0, errorMessage: null, authBytes: outcome.serverMessage, sessionLifetimeMs: BigInt(lifetime) };
};
