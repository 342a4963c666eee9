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
import { passwordMatches, ScramRefused, ScramServer } from './scram.ts';
import type { ScramCredential, ScramMechanismName } from '../metadata/scram-credentials.ts';

export const OAUTHBEARER = 'OAUTHBEARER';
/** The key of a connection's SASL state in its per-connection state map. */
export const SASL_STATE = 'sasl';

export interface SaslState {
  /** The mechanism the handshake chose, or null before it. */
  mechanism: string | null;
  /** The exchange under way (SCRAM takes two requests), or null. */
  exchange: SaslExchange | null;
  /** After a SaslHandshake v0: the client's next frames are bare tokens, not Kafka requests, until authenticated. */
  rawTokens?: boolean;
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
  /** When the session ends (ms since the epoch); Infinity when it does not (SCRAM, PLAIN). */
  readonly expiresAtMs?: number;
  /** The verified token's claims (OAUTHBEARER), for what else they say (the tenant). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Why it failed, for the client and the log (never a token or password). */
  readonly reason?: string;
  /** The server's last message: on OAUTHBEARER failure, the RFC 7628 error JSON. */
  readonly serverMessage: Buffer;
}

/** One step of an exchange: more to come (with the server's challenge), or the outcome. */
export type SaslStep = { readonly done: false; readonly serverMessage: Buffer } | ({ readonly done: true } & SaslOutcome);

/** One authentication on one connection, for the mechanism its SaslHandshake chose. */
export interface SaslExchange {
  step(message: Buffer, nowMs: number): Promise<SaslStep>;
}

export const PLAIN = 'PLAIN';

export interface SaslOptions {
  /** OAUTHBEARER with JWTs (method jwt). */
  readonly jwt?: JwtVerifier;
  /** SCRAM mechanisms offered (methods scram-sha-256 / scram-sha-512), against stored credentials. */
  readonly scram?: readonly ScramMechanismName[];
  /** PLAIN (method plain, over TLS), against the same stored SCRAM credentials. */
  readonly plain?: boolean;
  /** The stored SCRAM credential of a user, if any. */
  readonly credential?: (user: string, mechanism: ScramMechanismName) => ScramCredential | undefined;
  /** Random, per broker: made-up salts for unknown users (scram.ts). */
  readonly fakeKey?: Buffer;
}

const fail = (reason: string, serverMessage: Buffer = Buffer.alloc(0)): SaslStep => ({ done: true, ok: false, reason, serverMessage });

/** The mechanisms a listener offers and how each authenticates. */
export class SaslAuthenticator {
  constructor(private readonly options: SaslOptions) {}

  /** The principal (`User:<name>`) of a bearer token, or null when refused or without JWT (HTTP admin API). */
  async bearerPrincipal(token: string, nowMs = Date.now()): Promise<string | null> {
    if (this.options.jwt === undefined) return null;
    try {
      return `User:${(await this.options.jwt.verify(token, nowMs)).principal}`;
    } catch (err) {
      if (err instanceof JwtRefused) return null;
      throw err;
    }
  }

  get mechanisms(): string[] {
    return [...(this.options.jwt ? [OAUTHBEARER] : []), ...(this.options.scram ?? []), ...(this.options.plain ? [PLAIN] : [])];
  }

  /** A new exchange for a mechanism the handshake accepted (one of `mechanisms`). */
  begin(mechanism: string): SaslExchange {
    const { jwt, credential, fakeKey } = this.options;
    if (mechanism === OAUTHBEARER && jwt) return { step: async (message, nowMs) => oauthBearer(jwt, message, nowMs) };
    const scram = this.options.scram?.find((m) => m === mechanism);
    if (scram !== undefined && credential && fakeKey) return scramExchange(new ScramServer(scram, (user) => credential(user, scram), fakeKey));
    if (mechanism === PLAIN && this.options.plain && credential) return { step: async (message) => plain(message, credential) };
    return { step: async () => fail(`mechanism ${mechanism} is not enabled`) };
  }
}

async function oauthBearer(jwt: JwtVerifier, message: Buffer, nowMs: number): Promise<SaslStep> {
  const parsed = oauthBearerToken(message);
  if ('error' in parsed) return fail(parsed.error, invalidToken());
  try {
    const verified = await jwt.verify(parsed.token, nowMs);
    return { done: true, ok: true, principal: `User:${verified.principal}`, expiresAtMs: verified.expiresAtMs, claims: verified.claims, serverMessage: Buffer.alloc(0) };
  } catch (err) {
    if (!(err instanceof JwtRefused)) throw err;
    return fail(err.message, invalidToken());
  }
}

/** Two round trips: client-first -> server-first, client-final -> server-final. */
function scramExchange(server: ScramServer): SaslExchange {
  let round = 0;
  return {
    async step(message) {
      try {
        if (round++ === 0) return { done: false, serverMessage: Buffer.from(server.first(message.toString('utf8'))) };
        const { serverFinal, user } = server.final(message.toString('utf8'));
        return { done: true, ok: true, principal: `User:${user}`, expiresAtMs: Number.POSITIVE_INFINITY, serverMessage: Buffer.from(serverFinal) };
      } catch (err) {
        if (!(err instanceof ScramRefused)) throw err;
        return fail(err.message);
      }
    },
  };
}

/** The user and password of a PLAIN message (`[authzid] NUL authcid NUL passwd`, RFC 4616), or why it is malformed. */
export function plainCredentials(message: Buffer): { user: string; password: string } | { error: string } {
  const parts = message.toString('utf8').split('\0');
  if (parts.length !== 3) return { error: 'not a PLAIN message (authzid NUL user NUL password)' };
  const [authzid, user, password] = parts as [string, string, string];
  if (user === '' || password === '') return { error: 'the PLAIN message has an empty user or password' };
  if (authzid !== '' && authzid !== user) return { error: 'an authorization id other than the user name is not supported' };
  return { user, password };
}

/** PLAIN against a stored SCRAM credential (the strongest mechanism the user has). */
async function plain(message: Buffer, credential: (user: string, mechanism: ScramMechanismName) => ScramCredential | undefined): Promise<SaslStep> {
  const parsed = plainCredentials(message);
  if ('error' in parsed) return fail(parsed.error);
  for (const mechanism of ['SCRAM-SHA-512', 'SCRAM-SHA-256'] as const) {
    const stored = credential(parsed.user, mechanism);
    if (stored === undefined) continue;
    if (await passwordMatches(mechanism, stored, parsed.password)) return { done: true, ok: true, principal: `User:${parsed.user}`, expiresAtMs: Number.POSITIVE_INFINITY, serverMessage: Buffer.alloc(0) };
    break;
  }
  return fail('invalid credentials');
}

function invalidToken(): Buffer {
  return Buffer.from(JSON.stringify({ status: 'invalid_token' }));
}
