// Goal: validateFiles (config validate --check-files) reports missing or unusable files and
// directories at the key and line that named them, accepts directories that can still be created,
// and creates nothing. (What makes TLS files usable is test/security/tls-material.test.ts.)
// Method: configurations pointing into a scratch folder with present, absent and wrong-kind entries.
// (Tests may run as root, for whom permission bits do not refuse access, so only kinds are varied.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, validateFiles } from '../../src/config/index.ts';
import { scratchDir, yamlFile } from './helpers.ts';
import { makeTestCerts } from '../helpers/certs.ts';
import { securityProblems } from '../../src/cli/security-checks.ts';

test('present files and creatable directories pass, and nothing is created', () => {
  const root = join(scratchDir(), 'ok');
  const certs = makeTestCerts();
  mkdirSync(root, { recursive: true });
  renameSync(certs.dir, join(root, 'certs'));
  for (const [from, to] of [['broker.crt', 'server.crt'], ['broker.key', 'server.key']]) renameSync(join(root, 'certs', from!), join(root, 'certs', to!));
  const c = loadConfig({
    env: {},
    cwd: root,
    file: yamlFile('files-ok.yaml', [
      'storage:', '  dataDir: data/new/deeper', 'logging:', '  output: logs/broker.log',
      'security:', '  tls:', '    enabled: true', '    certFile: certs/server.crt', '    keyFile: certs/server.key', '    caFile: certs/ca.crt',
    ].join('\n')),
  });
  assert.deepEqual(validateFiles(c), []);
  assert.deepEqual(securityProblems(c, { files: true }), []);
  assert.equal(existsSync(join(root, 'data')), false);
  assert.equal(existsSync(join(root, 'logs')), false);
});

test('missing TLS files and directories blocked by a file are reported with their lines', () => {
  const root = join(scratchDir(), 'bad');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'plain-file'), 'x');
  const file = yamlFile('files-bad.yaml', [
    'storage:', '  dataDir: plain-file/data', '  raftDir: plain-file',
    'logging:', '  output: plain-file/broker.log',
    'security:', '  tls:', '    enabled: true', '    certFile: missing.crt', '    keyFile: .', '    caFile: ""',
  ].join('\n'));
  const config = loadConfig({ env: {}, cwd: root, file });
  const problems = [...validateFiles(config), ...securityProblems(config, { files: true })];
  const by = new Map(problems.map((p) => [p.key, p]));
  assert.deepEqual([...by.keys()], ['storage.dataDir', 'storage.raftDir', 'logging.output', 'security.tls.certFile', 'security.tls.keyFile']);
  assert.match(by.get('storage.dataDir')!.message, new RegExp(`:2: storage\\.dataDir: expected a writable directory, or one that can be created, got ".*plain-file/data" \\(.*plain-file is not a directory\\)$`));
  assert.match(by.get('storage.raftDir')!.message, /:3: storage\.raftDir: .*\(not a directory\)$/);
  assert.match(by.get('logging.output')!.message, /:5: logging\.output: expected a file in a writable directory/);
  assert.match(by.get('security.tls.certFile')!.message, /:9: security\.tls\.certFile: expected a valid PEM certificate \(chain\), got ".*missing\.crt" \(no such file\)$/);
  assert.match(by.get('security.tls.keyFile')!.message, /:10: security\.tls\.keyFile: expected the PEM private key of the certificate, got ".*" \(a directory, not a file\)$/);
});

test('TLS files are not checked while TLS is off; values from the environment name the variable', () => {
  const c = loadConfig({ env: { STREAMBUS_SECURITY_TLS_CERT_FILE: '/nonexistent/x.crt', STREAMBUS_STORAGE_DATA_DIR: '/dev/null/data' } });
  const problems = validateFiles(c);
  assert.deepEqual(problems.map((p) => p.key), ['storage.dataDir', 'storage.raftDir']);
  assert.equal(problems[0]!.env, 'STREAMBUS_STORAGE_DATA_DIR');
  assert.match(problems[0]!.message, /^environment STREAMBUS_STORAGE_DATA_DIR: storage\.dataDir: /);
});
