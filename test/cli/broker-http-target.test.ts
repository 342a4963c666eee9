// Goal: the admin commands find a broker configuration the way the guide's hosts have it: --config
// when given, else the guide's /etc/streambus/broker.yaml only when that file exists, else none (then
// they dial 127.0.0.1:8081). Method: the path choice with a temporary file standing in for the guide's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUIDE_CONFIG_PATH, adminConfigPath } from '../../src/cli/broker-http-target.ts';

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
