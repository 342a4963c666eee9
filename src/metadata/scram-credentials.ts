/**
 * SCRAM credentials (RFC 5802, KIP-554) as the cluster metadata keeps them: per user and mechanism the
 * salt, the iteration count and the two keys the server needs (StoredKey and ServerKey), never the
 * password nor the salted password. Kafka's mechanism codes and iteration bounds. Pure: the keys are
 * derived by the security layer (src/security/scram.ts) before a command carries them.
 */

/** Kafka's ScramMechanism codes. */
export const ScramMechanism = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 } as const;
export type ScramMechanismName = keyof typeof ScramMechanism;
export type ScramMechanismCode = (typeof ScramMechanism)[ScramMechanismName];

/** Kafka's bounds on the iteration count of a stored credential. */
export const MIN_SCRAM_ITERATIONS = 4096;
export const MAX_SCRAM_ITERATIONS = 16384;

export interface ScramCredential {
  readonly user: string;
  readonly mechanism: ScramMechanismCode;
  readonly iterations: number;
  /** Base64. */
  readonly salt: string;
  /** Base64: H(ClientKey). */
  readonly storedKey: string;
  /** Base64: HMAC(SaltedPassword, "Server Key"). */
  readonly serverKey: string;
}

export function scramMechanismName(code: number): ScramMechanismName | undefined {
  return (Object.keys(ScramMechanism) as ScramMechanismName[]).find((name) => ScramMechanism[name] === code);
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Why a credential cannot be stored (Kafka's UNACCEPTABLE_CREDENTIAL or UNSUPPORTED_SASL_MECHANISM), or null. */
export function scramCredentialProblem(c: ScramCredential): { error: 'UNSUPPORTED_SASL_MECHANISM' | 'UNACCEPTABLE_CREDENTIAL'; message: string } | null {
  if (scramMechanismName(c.mechanism) === undefined) return { error: 'UNSUPPORTED_SASL_MECHANISM', message: `Unknown SCRAM mechanism ${c.mechanism}.` };
  if (c.user === '') return { error: 'UNACCEPTABLE_CREDENTIAL', message: 'Username must not be empty.' };
  if (!Number.isInteger(c.iterations) || c.iterations < MIN_SCRAM_ITERATIONS || c.iterations > MAX_SCRAM_ITERATIONS) {
    return { error: 'UNACCEPTABLE_CREDENTIAL', message: `Iterations ${c.iterations} not between ${MIN_SCRAM_ITERATIONS} and ${MAX_SCRAM_ITERATIONS}.` };
  }
  for (const field of ['salt', 'storedKey', 'serverKey'] as const) {
    if (!BASE64.test(c[field])) return { error: 'UNACCEPTABLE_CREDENTIAL', message: `The ${field} is not base64.` };
  }
  return null;
}
