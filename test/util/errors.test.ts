// Goal: every operating-error code is unique and documented in docs/errors.md.
// Method: read the code table and the doc, compare.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES, StreamBusError, IoError } from '../../src/util/errors.ts';

test('every error code is documented in docs/errors.md', () => {
  const doc = readFileSync('docs/errors.md', 'utf8');
  for (const code of Object.keys(ERROR_CODES)) assert.ok(doc.includes(code), `${code} missing from docs/errors.md`);
});

test('IoError maps ENOSPC to SB_ERR_DISK_FULL and keeps errno and path', () => {
  const e = new IoError('ENOSPC', '/data/x.log', 'append failed');
  assert.equal(e.code, 'SB_ERR_DISK_FULL');
  assert.equal(e.errno, 'ENOSPC');
  assert.equal(e.path, '/data/x.log');
  assert.ok(e instanceof StreamBusError);
  assert.equal(new IoError('EIO', '/d', 'sync').code, 'SB_ERR_IO');
});
