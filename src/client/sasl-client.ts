/**
 * The client's side of SASL on a new connection (KIP-152): SaslHandshake v1, then SaslAuthenticate
 * with PLAIN or OAUTHBEARER (one message each) or SCRAM-SHA-256/512 (client-first, client-final, and the server's
 * signature checked, so a broker that does not know the password cannot pass for one that does).
 * Passwords stay in memory; errors never carry them.
 */
import { randomBytes } from 'node:crypto';
import { clientProof, encodeSaslName, safeEqual, saltPassword, scramAttributes, scramKeys, serverSignature, type ScramHashName } from '../protocol/sasl/scram-math.ts';
import { StreamBusError } from '../util/errors.ts';
import { kafkaErrorName } from './kafka-error.ts';

/** A user name and password (PLAIN, SCRAM), or a bearer token (OAUTHBEARER, RFC 7628: a signed JWT). */
export type SaslCredentials = PasswordCredentials | { readonly mechanism: 'OAUTHBEARER'; readonly token: string };

export interface PasswordCredentials {
  readonly mechanism: 'PLAIN' | ScramHashName;
  readonly username: string;
  readonly password: string;
}

/** SaslHandshake and SaslAuthenticate on the connection being opened. */
export interface SaslRequests {
  handshake(mechanism: string): Promise<{ errorCode: number; mechanisms: string[] }>;
  authenticate(authBytes: Buffer): Promise<{ errorCode: number; errorMessage: string | null; authBytes: Buffer }>;
}

const refused = (message: string) => new StreamBusError('SB_ERR_SASL', message);

export async function saslAuthenticate(send: SaslRequests, credentials: SaslCredentials, address: string): Promise<void> {
  const handshake = await send.handshake(credentials.mechanism);
  if (handshake.errorCode !== 0) {
    throw refused(`${address} does not offer SASL ${credentials.mechanism} (${kafkaErrorName(handshake.errorCode)}; offered: ${handshake.mechanisms.join(', ') || 'none'})`);
  }
  const step = async (message: string): Promise<string> => {
    const r = await send.authenticate(Buffer.from(message, 'utf8'));
    const who = credentials.mechanism === 'OAUTHBEARER' ? 'a bearer token' : credentials.username;
    if (r.errorCode !== 0) throw refused(`SASL ${credentials.mechanism} authentication as ${who} to ${address} failed: ${r.errorMessage ?? kafkaErrorName(r.errorCode)}`);
    return r.authBytes.toString('utf8');
  };
  if (credentials.mechanism === 'OAUTHBEARER') {
    await step(`n,,\x01auth=Bearer ${credentials.token}\x01\x01`);
    return;
  }
  if (credentials.mechanism === 'PLAIN') {
    await step(`\0${credentials.username}\0${credentials.password}`);
    return;
  }
  const mechanism = credentials.mechanism;
  const nonce = randomBytes(24).toString('base64');
  const firstBare = `n=${encodeSaslName(credentials.username)},r=${nonce}`;
  const serverFirst = await step(`n,,${firstBare}`);
  const attrs = new Map(scramAttributes(serverFirst) ?? []);
  const combined = attrs.get('r');
  const salt = attrs.get('s');
  const iterations = Number(attrs.get('i'));
  if (combined === undefined || !combined.startsWith(nonce) || salt === undefined || !Number.isSafeInteger(iterations) || iterations < 1) {
    throw refused(`${address} answered SCRAM with a malformed server-first message`);
  }
  const salted = await saltPassword(mechanism, credentials.password, Buffer.from(salt, 'base64'), iterations);
  const { clientKey, storedKey, serverKey } = scramKeys(mechanism, salted);
  const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${combined}`;
  const authMessage = `${firstBare},${serverFirst},${withoutProof}`;
  const serverFinal = await step(`${withoutProof},p=${clientProof(mechanism, clientKey, storedKey, authMessage).toString('base64')}`);
  const verifier = /^v=(.*)$/.exec(serverFinal)?.[1];
  if (verifier === undefined || !safeEqual(Buffer.from(verifier, 'base64'), serverSignature(mechanism, serverKey, authMessage))) {
    throw refused(`${address} could not prove it knows ${credentials.username}'s SCRAM credential`);
  }
}
