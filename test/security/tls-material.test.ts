// Goal: the TLS files are checked before anything listens, and each problem names the key, the file and
// what is wrong: missing and unreadable files, something that is not a certificate or a key, a key of
// another certificate, an expired or not yet valid certificate, a certificate that the CA bundle did not
// sign, an encrypted key without or with a wrong passphrase (the passphrase never appears). Good files
// load, with the facts logs and metrics use.
// Method: certificates made with the deployment guide's openssl commands (test/helpers/certs.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTlsMaterial, TlsMaterialError, type TlsFileSettings } from '../../src/security/tls-material.ts';
import { makeTestCerts, type TestCerts } from '../helpers/certs.ts';

let certs: TestCerts;
before(() => {
  certs = makeTestCerts();
});
after(() => certs.remove());

const good = (): TlsFileSettings => ({ certFile: certs.brokerCert, keyFile: certs.brokerKey, keyPassphrase: '', caFile: certs.ca });

function problems(settings: Partial<TlsFileSettings>, now?: Date): string[] {
  try {
    loadTlsMaterial({ ...good(), ...settings }, now);
  } catch (err) {
    assert.ok(err instanceof TlsMaterialError);
    return err.problems.map((p) => `${p.key} ${p.file}: ${p.problem}`);
  }
  return [];
}

test('the guide-made broker certificate, key and CA load', () => {
  const m = loadTlsMaterial(good());
  assert.match(m.subject, /CN=broker/);
  assert.match(m.issuer, /StreamBus Test CA/);
  assert.ok(m.notAfter.getTime() > Date.now() + 300 * 86_400_000);
  assert.match(m.fingerprint256, /^[0-9A-F:]+$/);
  assert.ok(m.ca !== undefined);
});

test('missing, unreadable and wrong files are named with their key', () => {
  const missing = join(certs.dir, 'nope.crt');
  assert.deepEqual(problems({ certFile: missing }), [`security.tls.certFile ${missing}: no such file`]);
  assert.deepEqual(problems({ caFile: certs.dir }), [`security.tls.caFile ${certs.dir}: a directory, not a file`]);
  const junk = join(certs.dir, 'junk.pem');
  writeFileSync(junk, 'hello');
  assert.match(problems({ certFile: junk })[0]!, /certFile .*junk\.pem: holds no PEM certificate/);
  assert.match(problems({ keyFile: junk })[0]!, /keyFile .*junk\.pem: not a PEM private key/);
  if (process.getuid?.() !== 0) {
    const locked = join(certs.dir, 'locked.key');
    writeFileSync(locked, 'x', { mode: 0o000 });
    assert.match(problems({ keyFile: locked })[0]!, /keyFile .*locked\.key: not readable/);
  }
});

test('a key of another certificate, an expired or future certificate, and another CA are refused', () => {
  const alice = certs.client('alice');
  assert.deepEqual(problems({ keyFile: alice.key }), [`security.tls.keyFile ${alice.key}: the key does not belong to the certificate in ${certs.brokerCert}`]);
  const expired = certs.client('expired', { days: -1 });
  assert.match(problems({ certFile: expired.cert, keyFile: expired.key })[0]!, /certFile .*expired\.crt: the certificate expired on /);
  assert.match(problems({}, new Date(Date.now() - 86_400_000))[0]!, /certFile .*broker\.crt: the certificate is not valid before /);
  assert.match(problems({ caFile: certs.otherCa })[0]!, /caFile .*other-ca\.crt: no certificate in it signed the certificate in .*broker\.crt \(issuer CN=StreamBus Test CA\)/);
  // Several problems at once are all reported.
  assert.equal(problems({ keyFile: alice.key, caFile: certs.otherCa }).length, 2);
});

test('an encrypted key needs its passphrase, which never appears in a problem', () => {
  const encrypted = certs.encryptedKey('s3cret-pass');
  assert.equal(loadTlsMaterial({ ...good(), keyFile: encrypted, keyPassphrase: 's3cret-pass' }).passphrase, 's3cret-pass');
  assert.deepEqual(problems({ keyFile: encrypted }), [`security.tls.keyPassphrase ${encrypted}: the key is encrypted: set security.tls.keyPassphrase`]);
  const wrong = problems({ keyFile: encrypted, keyPassphrase: 'wrong-pass' });
  assert.deepEqual(wrong, [`security.tls.keyPassphrase ${encrypted}: the passphrase does not decrypt the key`]);
  assert.ok(!wrong.join().includes('wrong-pass'));
});

test('a chain in the certificate file leads to the CA', () => {
  // The broker certificate followed by the CA itself: still chains (the CA is in the bundle).
  const bundle = join(certs.dir, 'chain.crt');
  writeFileSync(bundle, Buffer.concat([readFileSync(certs.brokerCert), readFileSync(certs.ca)]));
  assert.deepEqual(problems({ certFile: bundle }), []);
});
