// Goal: produce input is cut into lines at '\n' only, byte-exact, whatever the chunk boundaries: '\r',
// empty lines and multi-byte characters split across chunks survive, a last line without '\n' counts,
// and a trailing '\n' adds no empty message. Method: the same input fed in every possible two-way split
// and in one-byte chunks, compared with a plain split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitLines } from '../../src/cli/line-splitter.ts';

async function lines(chunks: Buffer[]): Promise<string[]> {
  const out: string[] = [];
  async function* source() {
    for (const c of chunks) yield c;
  }
  for await (const batch of splitLines(source())) for (const l of batch) out.push(l.toString('latin1'));
  return out;
}

test('chunk boundaries never change the lines', async () => {
  const input = Buffer.from('a:1\r\n\nclé✓:x\nlast', 'utf8');
  const expected = ['a:1\r', '', 'clé✓:x', 'last'].map((s) => Buffer.from(s, 'utf8').toString('latin1'));
  for (let cut = 0; cut <= input.length; cut++) {
    assert.deepEqual(await lines([input.subarray(0, cut), input.subarray(cut)]), expected, `cut at ${cut}`);
  }
  assert.deepEqual(await lines([...input].map((b) => Buffer.from([b]))), expected);
});

test('a trailing newline adds no empty line; empty input gives none; string chunks work', async () => {
  assert.deepEqual(await lines([Buffer.from('x\ny\n')]), ['x', 'y']);
  assert.deepEqual(await lines([]), []);
  assert.deepEqual(await lines([Buffer.from('\n')]), ['']);
  const out: string[] = [];
  async function* strings() {
    yield 'p\nq';
    yield 'r\n';
  }
  for await (const batch of splitLines(strings())) for (const l of batch) out.push(l.toString());
  assert.deepEqual(out, ['p', 'qr']);
});
