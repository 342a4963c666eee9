/**
 * The certificate, key and CA bundle of security.tls, read and checked before anything listens: a
 * broker asked for TLS never starts (or reloads) with files that would leave a port open or broken.
 * Every problem names the key, the file and what is wrong; the key's passphrase never appears.
 *
 * Checks: each file exists and is readable; the certificate file holds PEM certificates (the first is
 * this broker's, the rest its chain); the key parses (with the passphrase when it is encrypted) and
 * belongs to the certificate; the certificate is valid now; and, given a CA bundle, the certificate
 * chains up to one of its certificates.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface TlsFileSettings {
  readonly certFile: string;
  readonly keyFile: string;
  readonly keyPassphrase: string;
  readonly caFile: string;
}

export type TlsKey = 'security.tls.certFile' | 'security.tls.keyFile' | 'security.tls.caFile' | 'security.tls.keyPassphrase';

export interface TlsProblem {
  readonly key: TlsKey;
  readonly file: string;
  readonly problem: string;
}

/** What a TLS context is built from, with facts about the certificate for logs and metrics. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly passphrase: string | undefined;
  /** The CA bundle (PEM), or undefined without caFile. */
  readonly ca: Buffer | undefined;
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly fingerprint256: string;
}

export class TlsMaterialError extends Error {
  constructor(readonly problems: readonly TlsProblem[]) {
    super(problems.map((p) => `${p.key}: ${JSON.stringify(p.file)}: ${p.problem}`).join('; '));
    this.name = 'TlsMaterialError';
  }
}

/** Longest chain walked from the certificate to the CA bundle. */
const MAX_CHAIN = 10;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Reads and checks the files at time `now`; throws TlsMaterialError listing every problem found. */
export function loadTlsMaterial(settings: TlsFileSettings, now: Date = new Date(), read: (path: string) => Buffer = readFileSync): TlsMaterial {
  const problems: TlsProblem[] = [];
  const file = (key: TlsKey, path: string): Buffer | undefined => {
    try {
      return read(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push({ key, file: path, problem: code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not readable (permission denied)' : code === 'EISDIR' ? 'a directory, not a file' : String((err as Error).message) });
      return undefined;
    }
  };
  const certPem = file('security.tls.certFile', settings.certFile);
  const keyPem = file('security.tls.keyFile', settings.keyFile);
  const caPem = settings.caFile === '' ? undefined : file('security.tls.caFile', settings.caFile);

  const chain = certPem === undefined ? [] : certificates('security.tls.certFile', settings.certFile, certPem, problems);
  const cas = caPem === undefined ? [] : certificates('security.tls.caFile', settings.caFile, caPem, problems);
  let key: KeyObject | undefined;
  if (keyPem !== undefined) {
    try {
      key = createPrivateKey(settings.keyPassphrase === '' ? keyPem : { key: keyPem, passphrase: settings.keyPassphrase });
    } catch (err) {
      // Without a passphrase OpenSSL reports an encrypted key as "interrupted or cancelled" (nobody
      // answered its prompt); the PEM label says so plainly.
      const encrypted = keyPem.includes('ENCRYPTED') || /decrypt/i.test(String((err as Error).message));
      problems.push({
        key: encrypted ? 'security.tls.keyPassphrase' : 'security.tls.keyFile',
        file: settings.keyFile,
        problem: encrypted ? (settings.keyPassphrase === '' ? 'the key is encrypted: set security.tls.keyPassphrase' : 'the passphrase does not decrypt the key') : 'not a PEM private key',
      });
    }
  }
  const leaf = chain[0];
  if (leaf !== undefined) {
    const notBefore = new Date(leaf.validFrom);
    const notAfter = new Date(leaf.validTo);
    if (now > notAfter) problems.push({ key: 'security.tls.certFile', file: settings.certFile, problem: `the certificate expired on ${notAfter.toISOString()}` });
    if (now < notBefore) problems.push({ key: 'security.tls.certFile', file: settings.certFile, problem: `the certificate is not valid before ${notBefore.toISOString()}` });
    if (key !== undefined && !leaf.checkPrivateKey(key)) {
      problems.push({ key: 'security.tls.keyFile', file: settings.keyFile, problem: `the key does not belong to the certificate in ${settings.certFile}` });
    }
    if (cas.length > 0 && !chainsTo(leaf, chain.slice(1), cas)) {
      problems.push({ key: 'security.tls.caFile', file: settings.caFile, problem: `no certificate in it signed the certificate in ${settings.certFile} (issuer ${leaf.issuer.replace(/\n/g, ', ')})` });
    }
  }
  if (problems.length > 0 || leaf === undefined || key === undefined || certPem === undefined || keyPem === undefined) throw new TlsMaterialError(problems);
  return {
    cert: certPem,
    key: keyPem,
    passphrase: settings.keyPassphrase === '' ? undefined : settings.keyPassphrase,
    ca: caPem,
    subject: leaf.subject.replace(/\n/g, ', '),
    issuer: leaf.issuer.replace(/\n/g, ', '),
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    fingerprint256: leaf.fingerprint256,
  };
}

function certificates(key: TlsKey, path: string, pem: Buffer, problems: TlsProblem[]): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    problems.push({ key, file: path, problem: 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)' });
    return [];
  }
  const out: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      out.push(new X509Certificate(block));
    } catch {
      problems.push({ key, file: path, problem: `certificate ${i + 1} does not parse` });
    }
  }
  return out;
}

/** Whether `leaf` chains, through `intermediates`, up to a certificate of `cas` that signed the last link. */
function chainsTo(leaf: X509Certificate, intermediates: readonly X509Certificate[], cas: readonly X509Certificate[]): boolean {
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    if (cas.some((ca) => signedBy(current, ca))) return true;
    const next = intermediates.find((c) => c !== current && signedBy(current, c));
    if (next === undefined) return false;
    current = next;
  }
  return false;
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}
