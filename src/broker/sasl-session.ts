/**
 * One step of a connection's SASL exchange, shared by SaslAuthenticate (36) and the raw tokens that
 * follow a SaslHandshake v0 (the request router): run the step, and when the exchange ends record the
 * principal, or log the refusal and close the connection after failedAttemptDelay.
 */
import { PRINCIPAL_STATE } from '../security/principal.ts';
import type { SaslState } from '../security/sasl.ts';
import type { ConnectionInfo } from '../net/connection.ts';
import type { BrokerContext } from './context.ts';
import { admitConnection } from './tenant-access.ts';
import { pause } from '../io/clock-waits.ts';

export type SessionStep =
  | { readonly kind: 'continue'; readonly serverMessage: Buffer }
  | { readonly kind: 'authenticated'; readonly serverMessage: Buffer; readonly lifetimeMs: number }
  | { readonly kind: 'refused'; readonly serverMessage: Buffer; readonly reason: string };

export async function saslStep(ctx: BrokerContext, connection: ConnectionInfo, state: SaslState & { mechanism: string }, message: Buffer): Promise<SessionStep> {
  const now = ctx.now();
  state.exchange ??= ctx.sasl!.begin(state.mechanism);
  const outcome = await state.exchange.step(message, now);
  if (!outcome.done) return { kind: 'continue', serverMessage: outcome.serverMessage };
  state.exchange = null;
  let reason = outcome.ok ? null : `Authentication failed: ${outcome.reason}`;
  // Re-authentication must keep the principal (KIP-368).
  if (outcome.ok && state.principal !== null && state.principal !== outcome.principal) reason = `re-authentication as ${outcome.principal} on a connection of ${state.principal}`;
  if (reason === null) {
    const before = connection.state.get(PRINCIPAL_STATE);
    connection.state.set(PRINCIPAL_STATE, outcome.principal!);
    // Multi-tenancy: the connection's tenant, refused past its connection limit (a no-op on re-authentication).
    reason = admitConnection(ctx, connection, { claims: outcome.claims });
    if (reason !== null) connection.state.set(PRINCIPAL_STATE, before);
  }
  if (reason !== null) {
    // Slows password guessing: the answer, and the closed connection, come only after the delay.
    await pause(ctx.clock, ctx.config.security.authentication.failedAttemptDelay);
    refuseSasl(ctx, connection, reason);
    ctx.metrics.authenticationFailed(state.mechanism);
    return { kind: 'refused', serverMessage: outcome.serverMessage, reason };
  }
  state.principal = outcome.principal!;
  state.expiresAtMs = outcome.expiresAtMs!;
  ctx.log.debug({ conn: connection.id, principal: state.principal, mechanism: state.mechanism }, 'SASL authenticated');
  return { kind: 'authenticated', serverMessage: outcome.serverMessage, lifetimeMs: Number.isFinite(state.expiresAtMs) ? Math.max(1, state.expiresAtMs - now) : 0 };
}

/** Logs why a connection's authentication failed and closes it once its answer is written. */
export function refuseSasl(ctx: BrokerContext, connection: ConnectionInfo, reason: string): void {
  ctx.log.warn({ conn: connection.id, remote: connection.remoteAddress, reason }, 'SASL authentication failed');
  connection.closeAfterFlush('SASL authentication failed');
}
