// Goal: the admin commands find a broker configuration the way the guide's hosts have it: --config
// when given, else the guide's /etc/streambus/broker.yaml only when that file exists, else none (then
// they dial 127.0.0.1:8081); TLS flags replace only their part of the configuration's TLS.
// Method: the path choice with a temporary file standing in for the guide's; the TLS merge on values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUIDE_CONFIG_PATH, adminConfigPath, withTlsFlags } from '../../src/cli/broker-http-target.ts';

test('--config wins; the guide path counts only when the file is there', () => {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-guide-path-'));
  try {
    const guide = join(dir, 'broker.yaml');
    assert.equal(adminConfigPath(undefined, guide), undefined);
    assert.equal(adminConfigPath('/somewhere/else.yaml', guide), '/somewhere/else.yaml');
    writeFileSync(guide, 'server:\n  httpPort: 8081\n');
    assert.equal(adminConfigPath(undefined, guide), guide);
    assert.equal(adminConfigPath('/somewhere/else.yaml', guide), '/somewhere/else.yaml');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(GUIDE_CONFIG_PATH, '/etc/streambus/broker.yaml');
});

test('TLS flags lay over the configuration field by field', () => {
  const check = () => undefined;
  const fromConfig = { ca: Buffer.from('config-ca'), cert: Buffer.from('broker-cert'), key: Buffer.from('broker-key'), passphrase: 'secret', checkServerIdentity: check };
  assert.equal(withTlsFlags(undefined, undefined), undefined, 'plain HTTP');
  assert.equal(withTlsFlags(fromConfig, undefined), fromConfig);
  const flaggedOnly = { ca: Buffer.from('flag-ca') };
  assert.equal(withTlsFlags(undefined, flaggedOnly), flaggedOnly);
  // --ca-file alone: the broker's certificate stays the client certificate, the name check stays.
  assert.deepEqual(withTlsFlags(fromConfig, { ca: Buffer.from('flag-ca') }), { ...fromConfig, ca: Buffer.from('flag-ca') });
  // --cert-file and --key-file: the configuration's key and its passphrase go, its CA and name check stay.
  assert.deepEqual(withTlsFlags(fromConfig, { cert: Buffer.from('admin-cert'), key: Buffer.from('admin-key') }), {
    ca: Buffer.from('config-ca'),
    checkServerIdentity: check,
    cert: Buffer.from('admin-cert'),
    key: Buffer.from('admin-key'),
  });
  // --tls alone changes nothing.
  assert.deepEqual(withTlsFlags(fromConfig, {}), fromConfig);
});
