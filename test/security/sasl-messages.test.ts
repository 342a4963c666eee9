// Goal: the OAUTHBEARER client message (RFC 7628) is read strictly: the token of a well-formed message,
// a reason for every malformed one, and never an exception for any bytes a client may send.
// Method: hand-made messages, then fast-check over arbitrary bytes and near-valid strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { oauthBearerToken } from '../../src/security/sasl.ts';

const msg = (s: string) => Buffer.from(s);

test('the token of a well-formed client message', () => {
  assert.deepEqual(oauthBearerToken(msg('n,,\x01auth=Bearer abc.def.ghi\x01\x01')), { token: 'abc.def.ghi' });
  assert.deepEqual(oauthBearerToken(msg('n,a=user@example.com,\x01host=x\x01auth=Bearer a-b_c.d~e+f/g=\x01port=9092\x01\x01')), { token: 'a-b_c.d~e+f/g=' });
});

test('malformed messages get a reason', () => {
  for (const bad of ['', 'n,,', 'n,,\x01auth=Bearer abc\x01', 'x,,\x01auth=Bearer abc\x01\x01', 'n,,\x01auth=Basic abc\x01\x01', 'n,,\x01host=x\x01\x01', 'n,,\x01auth=Bearer \x01\x01', 'n,,\x01auth=Bearer a b\x01\x01']) {
    const r = oauthBearerToken(msg(bad));
    assert.ok('error' in r, JSON.stringify(bad));
  }
});

test('no bytes make the reader throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const r = oauthBearerToken(Buffer.from(bytes));
      assert.ok('token' in r || 'error' in r);
    }),
    { numRuns: 2000 },
  );
  const parts = fc.constantFrom('n,,', 'y,,', 'n,a=x,', '\x01', 'auth=Bearer ', 'abc.def', '=', ' ', 'host=h');
  fc.assert(
    fc.property(fc.array(parts, { maxLength: 12 }), (pieces) => {
      const r = oauthBearerToken(msg(pieces.join('')));
      if ('token' in r) assert.match(r.token, /^[A-Za-z0-9\-._~+/]+=*$/);
    }),
    { numRuns: 2000 },
  );
});
