/**
 * Certificates for TLS tests, made with the deployment guide's own openssl commands (CA, then a broker
 * key, request and CA-signed certificate), with -subj so they run unattended, plus client certificates,
 * a second CA, an expired certificate and an encrypted key. Everything lands in a fresh temporary folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  readonly dir: string;
  /** The guide's ca.crt / ca.key. */
  readonly ca: string;
  readonly caKey: string;
  /** The guide's broker.crt / broker.key (CN broker, SAN 127.0.0.1 and localhost). */
  readonly brokerCert: string;
  readonly brokerKey: string;
  /**
   * Signs `name`'s certificate with the CA (or `otherCa`), valid `days` (negative: already expired);
   * with `brokerNames`, it names 127.0.0.1 and localhost like the broker's (a replacement broker certificate).
   */
  client(name: string, options?: { days?: number; otherCa?: boolean; brokerNames?: boolean }): { cert: string; key: string };
  /** A second CA, unrelated to the first. */
  readonly otherCa: string;
  /** The broker key encrypted with `passphrase`. */
  encryptedKey(passphrase: string): string;
  remove(): void;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-certs-'));
  // The guide: Create CA.
  openssl(dir, 'genrsa', '-out', 'ca.key', '4096');
  openssl(dir, 'req', '-x509', '-new', '-nodes', '-key', 'ca.key', '-sha256', '-days', '3650', '-out', 'ca.crt', '-subj', '/CN=StreamBus Test CA');
  // The guide: Create broker certificate (with the names tests connect to).
  openssl(dir, 'genrsa', '-out', 'broker.key', '4096');
  openssl(dir, 'req', '-new', '-key', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=broker');
  openssl(dir, 'x509', '-req', '-in', 'broker.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.crt', '-days', '365', '-sha256', '-extfile', sanFile(dir));
  openssl(dir, 'genrsa', '-out', 'other-ca.key', '2048');
  openssl(dir, 'req', '-x509', '-new', '-nodes', '-key', 'other-ca.key', '-sha256', '-days', '3650', '-out', 'other-ca.crt', '-subj', '/CN=Other CA');
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    brokerCert: join(dir, 'broker.crt'),
    brokerKey: join(dir, 'broker.key'),
    otherCa: join(dir, 'other-ca.crt'),
    client(name, { days = 30, otherCa = false, brokerNames = false } = {}) {
      const ca = otherCa ? 'other-ca' : 'ca';
      openssl(dir, 'genrsa', '-out', `${name}.key`, '2048');
      openssl(dir, 'req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=Test/CN=${name}`);
      const names = brokerNames ? ['-extfile', sanFile(dir)] : [];
      openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', String(days), '-sha256', ...names);
      return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
    },
    encryptedKey(passphrase) {
      openssl(dir, 'pkey', '-in', 'broker.key', '-aes256', '-passout', `pass:${passphrase}`, '-out', 'broker-encrypted.key');
      return join(dir, 'broker-encrypted.key');
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function sanFile(dir: string): string {
  const path = join(dir, 'san.ext');
  writeFileSync(path, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  return path;
}

/** The guide's production security settings (TLS with client certificates, mtls authentication) as environment variables. */
export function guideTlsEnv(certs: TestCerts, cert = certs.brokerCert, key = certs.brokerKey): Record<string, string> {
  return {
    STREAMBUS_SECURITY_TLS_ENABLED: 'true',
    STREAMBUS_SECURITY_TLS_CERT_FILE: cert,
    STREAMBUS_SECURITY_TLS_KEY_FILE: key,
    STREAMBUS_SECURITY_TLS_CA_FILE: certs.ca,
    STREAMBUS_SECURITY_TLS_CLIENT_AUTH_REQUIRED: 'true',
    STREAMBUS_SECURITY_AUTHENTICATION_ENABLED: 'true',
    STREAMBUS_SECURITY_AUTHENTICATION_METHOD: 'mtls',
  };
}
