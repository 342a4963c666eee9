/**
 * SCRAM (RFC 5802, Kafka's SCRAM-SHA-256 and SCRAM-SHA-512, KIP-84): deriving stored credentials from
 * a password, and the server's side of one authentication exchange:
 *   client-first  n,,n=<user>,r=<client nonce>
 *   server-first  r=<client nonce><server nonce>,s=<salt>,i=<iterations>
 *   client-final  c=<gs2 header, base64>,r=<nonce>,p=<proof>
 *   server-final  v=<server signature>
 * The server keeps StoredKey and ServerKey only; the proof shows the client knows the salted password
 * without sending it. A user without a credential goes through the same exchange with a made-up
 * credential and fails at the proof, as a wrong password does, so answers do not tell which users exist.
 * Channel binding is not offered (`p=` is refused; `y` and `n` are accepted).
 */
import { randomBytes } from 'node:crypto';
import { ScramMechanism, type ScramCredential, type ScramMechanismName } from '../metadata/scram-credentials.ts';
import { clientProof, decodeSaslName, hash, hashBytes, hmac, safeEqual, saltPassword, scramAttributes, scramKeys, serverSignature } from '../protocol/sasl/scram-math.ts';

/** Kafka's default iteration count for new credentials. */
export const DEFAULT_SCRAM_ITERATIONS = 4096;

export function randomSalt(mechanism: ScramMechanismName): Buffer {
  return randomBytes(hashBytes(mechanism));
}

/** The credential stored for a salted password (what AlterUserScramCredentials carries). */
export function credentialFromSaltedPassword(user: string, mechanism: ScramMechanismName, salt: Buffer, iterations: number, saltedPassword: Buffer): ScramCredential {
  const { storedKey, serverKey } = scramKeys(mechanism, saltedPassword);
  return { user, mechanism: ScramMechanism[mechanism], iterations, salt: salt.toString('base64'), storedKey: storedKey.toString('base64'), serverKey: serverKey.toString('base64') };
}

/** Whether `password` is the one `credential` was made from (SASL PLAIN against SCRAM credentials). */
export async function passwordMatches(mechanism: ScramMechanismName, credential: ScramCredential, password: string): Promise<boolean> {
  const salted = await saltPassword(mechanism, password, Buffer.from(credential.salt, 'base64'), credential.iterations);
  return safeEqual(scramKeys(mechanism, salted).storedKey, Buffer.from(credential.storedKey, 'base64'));
}

export class ScramRefused extends Error {}

interface ClientFirst {
  readonly gs2Header: string;
  readonly bare: string;
  readonly user: string;
  readonly nonce: string;
}

/** The client-first message's parts, or ScramRefused saying what is wrong with it. */
export function parseClientFirst(message: string): ClientFirst {
  const m = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/s.exec(message);
  if (m === null) throw new ScramRefused('not a SCRAM client-first message (no GS2 header)');
  if (m[1]!.startsWith('p=')) throw new ScramRefused('channel binding is not supported');
  const bare = m[3]!;
  const attrs = scramAttributes(bare);
  if (attrs === null || attrs.length < 2 || attrs[0]![0] === 'm') throw new ScramRefused('malformed SCRAM client-first message');
  if (attrs[0]![0] !== 'n' || attrs[1]![0] !== 'r') throw new ScramRefused('the SCRAM client-first message must start with n= and r=');
  const user = decodeSaslName(attrs[0]![1]);
  if (user === null || user === '') throw new ScramRefused('malformed user name in the SCRAM client-first message');
  const authzid = m[2] === undefined ? null : decodeSaslName(m[2].slice(2));
  if (authzid !== null && authzid !== user) throw new ScramRefused('an authorization id other than the user name is not supported');
  const nonce = attrs[1]![1];
  if (nonce === '' || !/^[\x21-\x2b\x2d-\x7e]+$/.test(nonce)) throw new ScramRefused('malformed nonce in the SCRAM client-first message');
  // Extensions: Kafka's tokenauth (delegation tokens) is not offered here; others are ignored, as RFC 5802 allows.
  if (attrs.slice(2).some(([k, v]) => k === 't' || v.startsWith('tokenauth'))) throw new ScramRefused('delegation token authentication is not supported');
  return { gs2Header: `${m[1]},${m[2] ?? ''},`, bare, user, nonce };
}

/**
 * One SCRAM exchange on one connection: `first` answers the client-first message, `final` checks the
 * client-final one and answers with the server signature. `lookup` gives the stored credential of a
 * user, undefined for none; `fakeKey` (random per broker) makes up stable salts for unknown users.
 */
export class ScramServer {
  private state: { first: ClientFirst; serverFirst: string; credential: ScramCredential; known: boolean } | null = null;

  constructor(
    readonly mechanism: ScramMechanismName,
    private readonly lookup: (user: string) => ScramCredential | undefined,
    private readonly fakeKey: Buffer,
  ) {}

  first(message: string): string {
    if (this.state !== null) throw new ScramRefused('a second SCRAM client-first message');
    const first = parseClientFirst(message);
    const stored = this.lookup(first.user);
    const credential = stored ?? this.madeUp(first.user);
    const serverFirst = `r=${first.nonce}${randomBytes(18).toString('base64')},s=${credential.salt},i=${credential.iterations}`;
    this.state = { first, serverFirst, credential, known: stored !== undefined };
    return serverFirst;
  }

  /** The server-final message and the authenticated user, or ScramRefused. */
  final(message: string): { serverFinal: string; user: string } {
    const s = this.state;
    if (s === null) throw new ScramRefused('a SCRAM client-final message before the client-first one');
    this.state = null;
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) throw new ScramRefused('the SCRAM client-final message has no proof');
    const withoutProof = message.slice(0, proofAt);
    const attrs = scramAttributes(withoutProof);
    if (attrs === null || attrs.length < 2 || attrs[0]![0] !== 'c' || attrs[1]![0] !== 'r') throw new ScramRefused('malformed SCRAM client-final message');
    if (attrs[0]![1] !== Buffer.from(s.first.gs2Header).toString('base64')) throw new ScramRefused('the channel binding does not match the client-first message');
    const combined = s.serverFirst.slice(2, s.serverFirst.indexOf(','));
    // Kafka's check: the nonce must end with the server's (librdkafka repeats its own nonce in front).
    if (!attrs[1]![1].endsWith(combined)) throw new ScramRefused('the nonce does not match');
    const proof = Buffer.from(message.slice(proofAt + 3), 'base64');
    const authMessage = `${s.first.bare},${s.serverFirst},${withoutProof}`;
    const storedKey = Buffer.from(s.credential.storedKey, 'base64');
    if (proof.length !== storedKey.length) throw new ScramRefused('invalid credentials');
    // The proof is ClientKey XOR HMAC(StoredKey, AuthMessage): undo the XOR and hash what is left.
    const clientKey = clientProof(this.mechanism, proof, storedKey, authMessage);
    if (!safeEqual(hash(this.mechanism, clientKey), storedKey) || !s.known) throw new ScramRefused('invalid credentials');
    const signature = serverSignature(this.mechanism, Buffer.from(s.credential.serverKey, 'base64'), authMessage);
    return { serverFinal: `v=${signature.toString('base64')}`, user: s.first.user };
  }

  /** A credential that no password matches, the same for the same user every time (no oracle in the salt). */
  private madeUp(user: string): ScramCredential {
    const seed = hmac(this.mechanism, this.fakeKey, `${this.mechanism}\0${user}`);
    return {
      user,
      mechanism: ScramMechanism[this.mechanism],
      iterations: DEFAULT_SCRAM_ITERATIONS,
      salt: seed.toString('base64'),
      storedKey: hash(this.mechanism, seed).toString('base64'),
      serverKey: seed.toString('base64'),
    };
  }
}
