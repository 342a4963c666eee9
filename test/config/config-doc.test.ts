// Goal: docs/configuration.md lists every key exactly as the schema defines it; editing the schema
// without regenerating the document fails here.
// Method: regenerate the table in memory and compare with the committed file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { KEYS } from '../../src/config/index.ts';
import { DOC_PATH, renderKeyTable, updateConfigDoc } from '../../scripts/gen-config-doc.ts';

test('docs/configuration.md is up to date with the schema', () => {
  const text = readFileSync(DOC_PATH, 'utf8');
  assert.equal(updateConfigDoc(text), text, 'regenerate with: node scripts/build.mjs && node lib/scripts/gen-config-doc.js');
});

test('the table has one row per key with its variable, flag and activity', () => {
  const rows = renderKeyTable().split('\n').slice(2);
  assert.equal(rows.length, KEYS.length);
  const port = rows.find((r) => r.startsWith('| `server.port` |'))!;
  assert.match(port, /\| integer 1\.\.65535 \| `9092` \| `STREAMBUS_SERVER_PORT` \| `--port` \| yes \|/);
  assert.match(rows.find((r) => r.startsWith('| `raft.enabled` |'))!, /\| yes \|/);
  assert.match(rows.find((r) => r.startsWith('| `storage.raftDir` |'))!, /`<storage\.dataDir>\/raft`/);
});
