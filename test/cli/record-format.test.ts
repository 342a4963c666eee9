// Goal: consume's --format templates print exactly the bytes of keys and values with every token and
// escape, reject unknown ones as usage errors, and --json keeps binary data lossless (UTF-8 text as
// strings, anything else as base64). Method: records built by hand, rendered and compared byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFormat, recordJson } from '../../src/cli/record-format.ts';
import { UsageError } from '../../src/cli/client-command.ts';
import type { ConsumedRecord } from '../../src/client/index.ts';

const record = (key: Buffer | null, value: Buffer | null): ConsumedRecord => ({
  topic: 'orders',
  partition: 3,
  offset: 42n,
  timestamp: 1700000000123,
  key,
  value,
  headers: [
    { key: 'a', value: Buffer.from('1') },
    { key: 'b', value: null },
  ],
});

const render = (format: string, r: ConsumedRecord) => Buffer.concat(compileFormat(format)(r));

test('every token, escapes and a literal percent; a newline ends each record', () => {
  const r = record(Buffer.from('k'), Buffer.from('value'));
  assert.equal(render('%t %p %o %T %k %v %K %S %h 100%%\\t|\\\\', r).toString(), 'orders 3 42 1700000000123 k value 1 5 a=1,b= 100%\t|\\\n');
  assert.equal(render('%v', r).toString(), 'value\n');
});

test('key and value bytes are copied as they are; nulls print as nothing with length -1', () => {
  const binary = Buffer.from([0xff, 0x00, 0x0a, 0xc3]);
  assert.deepEqual(render('%k:%v', record(binary, binary)), Buffer.concat([binary, Buffer.from(':'), binary, Buffer.from('\n')]));
  assert.equal(render('[%k][%v] %K %S', record(null, null)).toString(), '[][] -1 -1\n');
});

test('unknown tokens, unknown escapes and a trailing % are usage errors', () => {
  for (const bad of ['%q', 'x\\q', 'abc%', 'abc\\']) assert.throws(() => compileFormat(bad), UsageError, bad);
});

test('JSON: UTF-8 as strings, other bytes as base64, nulls as null; one object per line', () => {
  const line = recordJson(record(Buffer.from('clé ✓'), Buffer.from([0xff, 0xfe])));
  assert.ok(line.endsWith('\n'));
  const parsed = JSON.parse(line);
  assert.deepEqual(parsed, {
    topic: 'orders',
    partition: 3,
    offset: 42,
    timestamp: 1700000000123,
    key: 'clé ✓',
    value: { base64: Buffer.from([0xff, 0xfe]).toString('base64') },
    headers: [
      { key: 'a', value: '1' },
      { key: 'b', value: null },
    ],
  });
  assert.equal(JSON.parse(recordJson(record(null, Buffer.alloc(0)))).key, null);
  assert.equal(JSON.parse(recordJson(record(null, Buffer.alloc(0)))).value, '');
});
