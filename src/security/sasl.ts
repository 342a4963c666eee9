/**
 * SASL on the Kafka listener (KIP-43 / KIP-152): with security.authentication.method `jwt` a client
 * must authenticate before anything but ApiVersions, SaslHandshake and SaslAuthenticate; the request
 * router enforces that (closing the connection, as Kafka does), the two handlers drive the exchange
 * below. OAUTHBEARER (KIP-255, RFC 7628) is the mechanism: one client message carrying a JWT, answered
 * with success or failure. A session lasts until the token expires (KIP-368): past that, the
 * connection must re-authenticate before its next request, or it is closed.
 */
import type { JwtVerifier } from './jwt-verifier.ts';
import { JwtRefused } from './jwt-verifier.ts';

export const OAUTHBEARER = 'OAUTHBEARER';
/** The key of a connection's SASL state in its per-connection state map. */
export const SASL_STATE = 'sasl';

export interface SaslState {
  /** The mechanism the handshake chose, or null before it. */
  mechanism: string | null;
  /** `User:<name>` once authenticated. */
  principal: string | null;
  /** When the session ends (ms since the epoch). */
  expiresAtMs: number;
}

/** The token of an OAUTHBEARER client-first message (`n,,\x01auth=Bearer <token>\x01...\x01`), or why it is malformed. */
export function oauthBearerToken(message: Buffer): { token: string } | { error: string } {
  const text = message.toString('utf8');
  const parts = text.split('\x01');
  // GS2 header, key=value pairs, then the empty pair that ends the message.
  if (parts.length < 3 || parts[parts.length - 1] !== '' || parts[parts.length - 2] !== '') return { error: 'not an OAUTHBEARER client message' };
  if (!/^[ny],(a=[^,]*)?,$/.test(parts[0]!)) return { error: 'the OAUTHBEARER message has no valid GS2 header' };
  const auth = parts.slice(1, -2).find((kv) => kv.startsWith('auth='));
  const match = auth === undefined ? null : /^auth=Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(auth);
  if (match === null) return { error: 'the OAUTHBEARER message carries no "auth=Bearer <token>"' };
  return { token: match[1]! };
}

export interface SaslOutcome {
  readonly ok: boolean;
  /** The principal, on success. */
  readonly principal?: string;
  readonly expiresAtMs?: number;
  /** Why it failed, for the client and the log (never the token). */
  readonly reason?: string;
  /** The server's last message: on OAUTHBEARER failure, the RFC 7628 error JSON. */
  readonly serverMessage: Buffer;
}

/** The mechanisms a listener offers and how each authenticates. */
export class SaslAuthenticator {
  constructor(private readonly jwt: JwtVerifier) {}

  /** The principal (`User:<name>`) of a bearer token, or null when it is refused (HTTP admin API). */
  async bearerPrincipal(token: string, nowMs = Date.now()): Promise<string | null> {
    try {
      return `User:${(await this.jwt.verify(token, nowMs)).principal}`;
    } catch (err) {
      if (err instanceof JwtRefused) return null;
      throw err;
    }
  }

  get mechanisms(): string[] {
    return [OAUTHBEARER];
  }

  async authenticate(mechanism: string, message: Buffer, nowMs: number): Promise<SaslOutcome> {
    if (mechanism !== OAUTHBEARER) return { ok: false, reason: `mechanism ${mechanism} is not enabled`, serverMessage: Buffer.alloc(0) };
    const parsed = oauthBearerToken(message);
    if ('error' in parsed) return { ok: false, reason: parsed.error, serverMessage: invalidToken() };
    try {
      const verified = await this.jwt.verify(parsed.token, nowMs);
      return { ok: true, principal: `User:${verified.principal}`, expiresAtMs: verified.expiresAtMs, serverMessage: Buffer.alloc(0) };
    } catch (err) {
      if (!(err instanceof JwtRefused)) throw err;
      return { ok: false, reason: err.message, serverMessage: invalidToken() };
    }
  }
}

function invalidToken(): Buffer {
  return Buffer.from(JSON.stringify({ status: 'invalid_token' }));
}
