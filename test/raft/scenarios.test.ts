// Goal: each rule of the Raft paper (sections 5.2 to 5.4, membership in 6, snapshots in 7) and
// each extension (pre-vote, check-quorum, leadership transfer, flow control) behaves as written,
// step by step, in a form a reviewer can read.
// Method: run the text scripts in test/raft/testdata/ through the scenario interpreter
// (scenario/env.ts) and compare every command's output with the expected output stored below it.
// REWRITE=1 regenerates the expected outputs in place; review the diff before committing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScenarioEnv } from './scenario/env.ts';
import { parseCommand, parseScript, renderScript } from './scenario/script.ts';

// Tests run from the repository root on the compiled tree; the scripts stay in the source tree.
const DIR = 'test/raft/testdata';
const rewrite = process.env['REWRITE'] === '1';

const files = readdirSync(DIR).filter((name) => name.endsWith('.txt')).sort();

test('there are scenario scripts', () => {
  assert.ok(files.length >= 10, `only ${files.length} scripts in ${DIR}`);
});

for (const name of files) {
  test(`scenario ${name}`, () => {
    const path = join(DIR, name);
    const blocks = parseScript(readFileSync(path, 'utf8'), path);
    const env = new ScenarioEnv();
    const outputs: string[][] = [];
    for (const block of blocks) {
      if (block.command === '') {
        outputs.push([]);
        continue;
      }
      let actual: string[];
      try {
        actual = env.run(parseCommand(block.command));
      } catch (e) {
        actual = [`error: ${e instanceof Error ? e.message : String(e)}`];
      }
      outputs.push(actual);
      if (!rewrite) assert.deepEqual(actual, block.expected, `${path}:${block.line}: ${block.command}`);
    }
    if (rewrite) writeFileSync(path, renderScript(blocks, outputs));
  });
}
