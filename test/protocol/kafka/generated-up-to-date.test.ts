// Goal: the committed src/protocol/kafka/generated/ is exactly what scripts/gen-protocol.ts produces from
// Kafka's message definitions, so nobody edits generated code by hand and the generator never drifts.
// Method: regenerate into a temporary folder and compare every file byte for byte, in both directions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '../../../scripts/gen-protocol.ts';
import { MESSAGES_DIR, needMessages } from './schema-source.ts';

const COMMITTED = 'src/protocol/kafka/generated';

test('regenerating the codecs gives the committed files', (t) => {
  if (!needMessages(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'streambus-gen-'));
  try {
    generate(MESSAGES_DIR, dir);
    const fresh = readdirSync(dir).sort();
    const committed = readdirSync(COMMITTED).sort();
    assert.deepEqual(committed, fresh, 'same file list');
    const differing = fresh.filter((n) => !readFileSync(join(dir, n)).equals(readFileSync(join(COMMITTED, n))));
    assert.deepEqual(differing, [], 'files differ from a fresh run; run `npm run gen:protocol`');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
