// Goal: logging writes JSON lines at the configured level to a file, rotates it by size keeping at
// most maxBackups copies, prunes copies older than maxAge days, and renders the pretty format.
// Method: a real logger on a temporary folder with a tiny maxSize; file times set by hand for age.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, pruneOldBackups } from '../../src/observability/logger.ts';
import { formatPrettyLine } from '../../src/observability/pretty-format.ts';

test('file output: JSON lines at the level, rotated by size with bounded backups', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-log-'));
  const file = join(dir, 'broker.log');
  const { logger, close } = createLogger({ level: 'info', format: 'json', output: file, maxSizeBytes: 2048, maxBackups: 2, maxAgeDays: 30 });
  for (let i = 0; i < 200; i++) {
    logger.info({ i, pad: 'x'.repeat(64) }, 'line');
    logger.debug('hidden');
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  await close();
  const names = readdirSync(dir).sort();
  assert.ok(names.includes('broker.log'));
  const rotated = names.filter((n) => /^broker\.log\.\d+$/.test(n));
  assert.ok(rotated.length >= 1, `expected rotated files, got ${names.join(',')}`);
  assert.ok(rotated.length <= 2, `at most maxBackups copies, got ${rotated.join(',')}`);
  const lines = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
  for (const line of lines) {
    const entry = JSON.parse(line);
    assert.equal(entry.level, 'info');
    assert.equal(entry.msg, 'line');
  }
});

test('backups older than maxAge days are pruned; the live file and young backups stay', () => {
  const dir = mkdtempSync(join(tmpdir(), 'streambus-log-'));
  for (const n of ['broker.log', 'broker.log.1', 'broker.log.2', 'other.log.1']) writeFileSync(join(dir, n), 'x');
  const old = (Date.now() - 10 * 86_400_000) / 1000;
  utimesSync(join(dir, 'broker.log.2'), old, old);
  utimesSync(join(dir, 'other.log.1'), old, old);
  const removed = pruneOldBackups(dir, 'broker.log', 7);
  assert.deepEqual(removed, [join(dir, 'broker.log.2')]);
  assert.deepEqual(readdirSync(dir).sort(), ['broker.log', 'broker.log.1', 'other.log.1']);
  assert.deepEqual(pruneOldBackups(dir, 'broker.log', 0), [], 'maxAge 0 keeps everything');
});

test('pretty format renders time, level, message and fields', () => {
  const line = JSON.stringify({ level: 'warn', time: '2026-01-02T03:04:05.678Z', pid: 1, msg: 'disk low', freeBytes: 10 });
  assert.equal(formatPrettyLine(line), '03:04:05.678 WARN  disk low freeBytes=10');
  assert.equal(formatPrettyLine('not json'), 'not json');
});
