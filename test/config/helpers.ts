// Shared by the config tests: temporary YAML files and catching ConfigError.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { ConfigError, loadConfig, type ConfigProblem, type LoadOptions } from '../../src/config/index.ts';

let dir: string | undefined;
// Registered when the test file imports this module, so it runs once after all of the file's tests.
after(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** A scratch folder removed after the test file ends. */
export function scratchDir(): string {
  dir ??= mkdtempSync(join(tmpdir(), 'streambus-config-'));
  return dir;
}

/** Writes `text` to a file in the scratch folder and returns its path. */
export function yamlFile(name: string, text: string): string {
  const path = join(scratchDir(), name);
  writeFileSync(path, text);
  return path;
}

/** The problems loadConfig reports for these options; fails the test if it does not throw ConfigError. */
export function problemsOf(options: LoadOptions): readonly ConfigProblem[] {
  try {
    loadConfig({ env: {}, ...options });
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('loadConfig accepted a bad configuration');
}

/** The single problem for a YAML text; fails if there is not exactly one. */
export function onlyProblem(text: string, options: LoadOptions = {}): ConfigProblem {
  const problems = problemsOf({ file: yamlFile('broker.yaml', text), ...options });
  assert.equal(problems.length, 1, problems.map((p) => p.message).join('\n'));
  return problems[0]!;
}
