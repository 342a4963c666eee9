/**
 * Verifies the JSON Web Tokens that clients present with SASL OAUTHBEARER (KIP-255), using `jose`:
 * the signature against the configured keys (a PEM public key or a JWKS file), the algorithm against an
 * allow-list (never `none`: unsecured tokens, as librdkafka makes by default, are refused), the issuer,
 * the audience, and the time claims with a clock-skew allowance; a token without an expiry is refused.
 * The principal is a configurable claim (`sub` by default). Tokens never reach the logs: a refusal says
 * why in words only.
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, importSPKI, jwtVerify, errors, type JWTPayload, type JWTVerifyGetKey, type CryptoKey, type KeyObject } from 'jose';

export interface JwtSettings {
  /** A PEM public key (SPKI) or a JWKS (JSON with `keys`); '' when the keys come from `jwksUrl`. */
  readonly keyFile: string;
  /** An identity provider's JWKS endpoint; '' when the keys come from `keyFile`. */
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  /** Accepted signature algorithms, such as ['RS256', 'ES256']. */
  readonly algorithms: readonly string[];
  readonly principalClaim: string;
  readonly clockSkewMs: number;
}

/** The verifier's settings from security.authentication.jwt (algorithms comma-separated, skew in ms). */
export function jwtSettings(jwt: { keyFile: string; jwksUrl: string; issuer: string; audience: string; algorithms: string; principalClaim: string; clockSkew: number }): JwtSettings {
  const algorithms = jwt.algorithms.split(',').map((a) => a.trim()).filter((a) => a !== '');
  return { keyFile: jwt.keyFile, jwksUrl: jwt.jwksUrl, issuer: jwt.issuer, audience: jwt.audience, algorithms, principalClaim: jwt.principalClaim, clockSkewMs: jwt.clockSkew };
}

/** What is wrong with the text of a key file (a PEM public key or a JWKS), or null. */
export function jwtKeyFileProblem(text: string): string | null {
  if (isJwks(text)) {
    try {
      const jwks = JSON.parse(text) as { keys?: unknown };
      return Array.isArray(jwks.keys) && jwks.keys.length > 0 ? null : 'a JSON Web Key Set needs a non-empty "keys" array';
    } catch (err) {
      return `not a JSON Web Key Set (${(err as Error).message})`;
    }
  }
  return text.includes('-----BEGIN PUBLIC KEY-----') ? null : 'neither a PEM public key (-----BEGIN PUBLIC KEY-----) nor a JSON Web Key Set';
}

/** A fetched key set is kept 10 minutes; an unknown key id fetches it again, at most every 30 s; a fetch may take 5 s. */
const JWKS_CACHE = { cacheMaxAge: 600_000, cooldownDuration: 30_000, timeoutDuration: 5_000 };

const isJwks = (text: string) => text.trimStart().startsWith('{');

export interface VerifiedToken {
  /** The principal name (the value of the principal claim). */
  readonly principal: string;
  /** When the token expires (ms since the epoch): the SASL session ends then (KIP-368). */
  readonly expiresAtMs: number;
  readonly claims: JWTPayload;
}

export class JwtRefused extends Error {}

export class JwtVerifier {
  private constructor(
    private readonly settings: JwtSettings,
    private readonly key: JWTVerifyGetKey | CryptoKey | KeyObject,
  ) {}

  /** Reads the key file; throws an Error saying what is wrong with it. */
  static async load(settings: JwtSettings, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): Promise<JwtVerifier> {
    if (settings.algorithms.some((a) => a.toLowerCase() === 'none')) throw new Error('algorithm "none" cannot be allowed');
    if (settings.jwksUrl !== '') return new JwtVerifier(settings, createRemoteJWKSet(new URL(settings.jwksUrl), JWKS_CACHE));
    const text = read(settings.keyFile);
    const problem = jwtKeyFileProblem(text);
    if (problem !== null) throw new Error(problem);
    if (isJwks(text)) return new JwtVerifier(settings, createLocalJWKSet(JSON.parse(text) as Parameters<typeof createLocalJWKSet>[0]));
    // One algorithm is enough to import the key; jwtVerify still checks the token's against the list.
    const algorithm = settings.algorithms[0];
    if (algorithm === undefined) throw new Error('no algorithm is allowed');
    return new JwtVerifier(settings, await importSPKI(text, algorithm));
  }

  /** Verifies `token` at time `nowMs`; throws JwtRefused with the reason. */
  async verify(token: string, nowMs = Date.now()): Promise<VerifiedToken> {
    const s = this.settings;
    let payload: JWTPayload;
    try {
      const options = {
        issuer: s.issuer,
        audience: s.audience,
        algorithms: [...s.algorithms],
        clockTolerance: Math.round(s.clockSkewMs / 1000),
        currentDate: new Date(nowMs),
        requiredClaims: ['exp'],
      };
      ({ payload } = typeof this.key === 'function' ? await jwtVerify(token, this.key as JWTVerifyGetKey, options) : await jwtVerify(token, this.key as CryptoKey, options));
    } catch (err) {
      throw new JwtRefused(reason(err));
    }
    const principal = payload[s.principalClaim];
    if (typeof principal !== 'string' || principal === '') throw new JwtRefused(`the token has no ${s.principalClaim} claim naming the principal`);
    return { principal, expiresAtMs: (payload.exp ?? 0) * 1000, claims: payload };
  }
}

function reason(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `the ${err.claim} claim is not acceptable (${err.reason})`;
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm that is not allowed';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key in the key set matches the token';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'not a well-formed signed token';
  if (err instanceof errors.JWKSTimeout) return 'the key set URL did not answer in time';
  if (err instanceof errors.JWKSInvalid) return 'the key set URL did not answer with a key set';
  if (err instanceof errors.JOSENotSupported) return 'the token uses an unsupported algorithm or key type';
  return `the token was refused (${err instanceof Error ? err.name : String(err)})`;
}
