/**
 * The arithmetic and message syntax of SCRAM (RFC 5802) that both ends share: Hi (PBKDF2), the keys
 * derived from a salted password, the client proof and server signature over the auth message, the
 * escaping of user names, and `k=v,...` attribute lists. Kafka's mechanisms are SCRAM-SHA-256 and
 * SCRAM-SHA-512 (KIP-84).
 */
import { createHash, createHmac, pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

export type ScramHashName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
export const SCRAM_MECHANISM_NAMES: readonly ScramHashName[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

const HASH: Record<ScramHashName, { name: 'sha256' | 'sha512'; bytes: number }> = {
  'SCRAM-SHA-256': { name: 'sha256', bytes: 32 },
  'SCRAM-SHA-512': { name: 'sha512', bytes: 64 },
};

const pbkdf2Async = promisify(pbkdf2);

export const hashBytes = (mechanism: ScramHashName): number => HASH[mechanism].bytes;
export const hmac = (mechanism: ScramHashName, key: Buffer, text: string | Buffer): Buffer => createHmac(HASH[mechanism].name, key).update(text).digest();
export const hash = (mechanism: ScramHashName, data: Buffer): Buffer => createHash(HASH[mechanism].name).update(data).digest();

/** Hi(password, salt, i): PBKDF2 with the mechanism's HMAC, run off the event loop. */
export function saltPassword(mechanism: ScramHashName, password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, HASH[mechanism].bytes, HASH[mechanism].name);
}

/** ClientKey, StoredKey = H(ClientKey) and ServerKey of a salted password. */
export function scramKeys(mechanism: ScramHashName, saltedPassword: Buffer): { clientKey: Buffer; storedKey: Buffer; serverKey: Buffer } {
  const clientKey = hmac(mechanism, saltedPassword, 'Client Key');
  return { clientKey, storedKey: hash(mechanism, clientKey), serverKey: hmac(mechanism, saltedPassword, 'Server Key') };
}

export function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage). */
export function clientProof(mechanism: ScramHashName, clientKey: Buffer, storedKey: Buffer, authMessage: string): Buffer {
  return xor(clientKey, hmac(mechanism, storedKey, authMessage));
}

/** ServerSignature = HMAC(ServerKey, AuthMessage). */
export function serverSignature(mechanism: ScramHashName, serverKey: Buffer, authMessage: string): Buffer {
  return hmac(mechanism, serverKey, authMessage);
}

/** A user name as a saslname: `,` as `=2C`, `=` as `=3D`. */
export function encodeSaslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** The user name of a saslname, or null when an `=` is not part of `=2C` or `=3D`. */
export function decodeSaslName(text: string): string | null {
  if (/=(?!2C|3D)/.test(text)) return null;
  return text.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/** `k=v,k=v` attributes in order; null when a part is not of that form. */
export function scramAttributes(text: string): [string, string][] | null {
  const out: [string, string][] = [];
  for (const part of text.split(',')) {
    const m = /^([A-Za-z])=(.*)$/s.exec(part);
    if (m === null) return null;
    out.push([m[1]!, m[2]!]);
  }
  return out;
}
