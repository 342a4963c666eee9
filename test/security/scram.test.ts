// Goal: SCRAM is RFC 5802 arithmetic (the RFC 7677 SCRAM-SHA-256 example reproduced), the server side
// accepts the right password through the CLI's client side for both mechanisms and refuses a wrong
// one, an unknown user (at the proof, with a stable made-up salt) and a replayed or tampered final
// message; PLAIN checks a password against a stored credential; and no bytes a client sends make the
// SCRAM or PLAIN readers throw anything but a refusal.
// Method: pure calls; the client of src/client/sasl-client.ts wired straight to a ScramServer;
// fast-check over arbitrary and near-valid messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clientProof, saltPassword, scramKeys, serverSignature } from '../../src/protocol/sasl/scram-math.ts';
import { credentialFromSaltedPassword, passwordMatches, ScramRefused, ScramServer } from '../../src/security/scram.ts';
import { plainCredentials } from '../../src/security/sasl.ts';
import { saslAuthenticate } from '../../src/client/sasl-client.ts';
import type { ScramCredential, ScramMechanismName } from '../../src/metadata/scram-credentials.ts';

test('the RFC 7677 SCRAM-SHA-256 example', async () => {
  const salted = await saltPassword('SCRAM-SHA-256', 'pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096);
  const { clientKey, storedKey, serverKey } = scramKeys('SCRAM-SHA-256', salted);
  const auth =
    'n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  assert.equal(clientProof('SCRAM-SHA-256', clientKey, storedKey, auth).toString('base64'), 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
  assert.equal(serverSignature('SCRAM-SHA-256', serverKey, auth).toString('base64'), '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
});

async function stored(user: string, mechanism: ScramMechanismName, password: string): Promise<ScramCredential> {
  const salt = Buffer.from(`salt-of-${user}`);
  return credentialFromSaltedPassword(user, mechanism, salt, 4096, await saltPassword(mechanism, password, salt, 4096));
}

/** The client against a server, as over a connection; resolves with the server's user or rejects. */
async function exchange(mechanism: ScramMechanismName, credentials: Map<string, ScramCredential>, username: string, password: string): Promise<string> {
  const server = new ScramServer(mechanism, (u) => credentials.get(u), Buffer.alloc(32, 7));
  let user: string | null = null;
  let round = 0;
  await saslAuthenticate(
    {
      handshake: async () => ({ errorCode: 0, mechanisms: [mechanism] }),
      authenticate: async (bytes) => {
        try {
          if (round++ === 0) return { errorCode: 0, errorMessage: null, authBytes: Buffer.from(server.first(bytes.toString())) };
          const done = server.final(bytes.toString());
          user = done.user;
          return { errorCode: 0, errorMessage: null, authBytes: Buffer.from(done.serverFinal) };
        } catch (err) {
          if (!(err instanceof ScramRefused)) throw err;
          return { errorCode: 58, errorMessage: err.message, authBytes: Buffer.alloc(0) };
        }
      },
    },
    { mechanism, username, password },
    'test',
  );
  return user!;
}

test('both mechanisms: the right password passes, a wrong one and an unknown user fail at the proof', async () => {
  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    const credentials = new Map([['al,i=ce', await stored('al,i=ce', mechanism, 'secret')]]);
    assert.equal(await exchange(mechanism, credentials, 'al,i=ce', 'secret'), 'al,i=ce', 'names with , and = are escaped and read back');
    await assert.rejects(exchange(mechanism, credentials, 'al,i=ce', 'guess'), /invalid credentials/);
    await assert.rejects(exchange(mechanism, credentials, 'bob', 'secret'), /invalid credentials/);
  }
});

test('an unknown user gets the same salt every time, and a tampered or replayed final message fails', async () => {
  const server = () => new ScramServer('SCRAM-SHA-256', () => undefined, Buffer.alloc(32, 1));
  const salt = (first: string) => /s=([^,]*)/.exec(first)![1];
  assert.equal(salt(server().first('n,,n=ghost,r=abc')), salt(server().first('n,,n=ghost,r=xyz')));
  assert.notEqual(salt(server().first('n,,n=ghost,r=abc')), salt(server().first('n,,n=other,r=abc')));
  const s = new ScramServer('SCRAM-SHA-256', () => undefined, Buffer.alloc(32, 1));
  const first = s.first('n,,n=ghost,r=abc');
  const nonce = /r=([^,]*)/.exec(first)![1];
  assert.throws(() => s.final(`c=biws,r=${nonce},p=${Buffer.alloc(32).toString('base64')}`), /invalid credentials/);
  assert.throws(() => s.final(`c=biws,r=${nonce},p=AAAA`), /before the client-first/, 'one exchange, one final message');
  const t = new ScramServer('SCRAM-SHA-256', () => undefined, Buffer.alloc(32, 1));
  t.first('n,,n=ghost,r=abc');
  assert.throws(() => t.final('c=biws,r=abcWRONG,p=AAAA'), /nonce does not match/);
  const u = new ScramServer('SCRAM-SHA-256', () => undefined, Buffer.alloc(32, 1));
  const n2 = /r=([^,]*)/.exec(u.first('y,,n=ghost,r=abc'))![1];
  assert.throws(() => u.final(`c=biws,r=${n2},p=AAAA`), /channel binding does not match/, 'c= must repeat the GS2 header');
});

test('client-first messages are read strictly', () => {
  const s = () => new ScramServer('SCRAM-SHA-512', () => undefined, Buffer.alloc(32));
  for (const [bad, why] of [
    ['', /GS2 header/],
    ['p=tls-unique,,n=a,r=b', /channel binding is not supported/],
    ['n,,r=b,n=a', /must start with n= and r=/],
    ['n,,n=a=b,r=c', /malformed user name/],
    ['n,a=other,n=a,r=b', /authorization id/],
    ['n,,n=a,r=', /malformed nonce/],
    ['n,,n=a,r=b,t=tokenauth', /delegation token/],
    ['n,,m=ext,n=a,r=b', /malformed/],
  ] as const) {
    assert.throws(() => s().first(bad), (err: Error) => err instanceof ScramRefused && why.test(err.message), bad);
  }
});

test('PLAIN: a password against a stored credential; messages read strictly', async () => {
  const c = await stored('carol', 'SCRAM-SHA-512', 'pw');
  assert.equal(await passwordMatches('SCRAM-SHA-512', c, 'pw'), true);
  assert.equal(await passwordMatches('SCRAM-SHA-512', c, 'pW'), false);
  assert.deepEqual(plainCredentials(Buffer.from('\0carol\0pw')), { user: 'carol', password: 'pw' });
  assert.deepEqual(plainCredentials(Buffer.from('carol\0carol\0pw')), { user: 'carol', password: 'pw' });
  for (const bad of ['carol\0pw', 'x\0carol\0pw', '\0\0pw', '\0carol\0', '\0a\0b\0c']) assert.ok('error' in plainCredentials(Buffer.from(bad)), JSON.stringify(bad));
});

test('no client message makes the SCRAM or PLAIN readers throw anything but a refusal', () => {
  const part = fc.oneof(fc.constantFrom('n,,', 'y,,', 'n=', 'r=', 'c=biws', 'p=', ',', '=2C', '=3D', '='), fc.string({ maxLength: 12 }));
  const message = fc.oneof(fc.string({ maxLength: 80 }), fc.array(part, { maxLength: 10 }).map((parts) => parts.join('')));
  fc.assert(
    fc.property(message, message, (first, final) => {
      const s = new ScramServer('SCRAM-SHA-256', (u) => (u === 'a' ? { user: 'a', mechanism: 1, iterations: 4096, salt: 'AAAA', storedKey: 'AAAA', serverKey: 'AAAA' } : undefined), Buffer.alloc(32));
      for (const step of [() => s.first(first), () => s.final(final)]) {
        try {
          step();
        } catch (err) {
          assert.ok(err instanceof ScramRefused, String(err));
        }
      }
      const p = plainCredentials(Buffer.from(first));
      assert.ok('user' in p || 'error' in p);
    }),
    { numRuns: 4000 },
  );
});
