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
import { SASL_STATE, type SaslState } from '../../security/sasl.ts';
import type { Handler } from '../handler.ts';
import { refuseSasl, saslStep } from '../sasl-session.ts';

export const saslAuthenticate: Handler<36> = async (ctx, request, info) => {
  const { connection } = info;
  const state = connection.state.get(SASL_STATE) as SaslState | undefined;
  const answer = (errorCode: number, errorMessage: string | null, authBytes: Buffer = Buffer.alloc(0), lifetimeMs = 0) => ({ errorCode, errorMessage, authBytes, sessionLifetimeMs: BigInt(lifetimeMs) });
  // A listener without SASL answers as Kafka's does, and keeps the connection.
  if (!ctx.sasl) return answer(KafkaErrorCode.ILLEGAL_SASL_STATE, 'SASL is not enabled on this listener');
  if (state === undefined || state.mechanism === null) {
    refuseSasl(ctx, connection, 'SaslAuthenticate before a SaslHandshake');
    return answer(KafkaErrorCode.ILLEGAL_SASL_STATE, 'SaslAuthenticate before a SaslHandshake');
  }
  const step = await saslStep(ctx, connection, state as SaslState & { mechanism: string }, request.authBytes);
  switch (step.kind) {
    case 'continue':
      return answer(0, null, step.serverMessage);
    case 'refused':
      return answer(KafkaErrorCode.SASL_AUTHENTICATION_FAILED, step.reason, step.serverMessage);
    case 'authenticated':
      return answer(0, null, step.serverMessage, step.lifetimeMs);
  }
};
