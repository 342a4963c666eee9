/**
 * External command-line tools a test needs (kcat, systemd-analyze, ...). When one is missing the test
 * skips with the reason printed, so a plain clone without the tool still runs the rest; with
 * STREAMBUS_REQUIRE_TOOLS=1 (set by .ci/run, which installs them) a missing tool fails the test
 * instead, so CI never skips.
 */
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

const found = new Map<string, boolean>();

/**
 * True if `command` can be started (its exit status is ignored), or with `mustSucceed`, if the probe
 * also exits 0. Cached per command and arguments.
 */
export function toolInstalled(command: string, probeArgs: readonly string[] = ['--version'], mustSucceed = false): boolean {
  const key = JSON.stringify([command, probeArgs, mustSucceed]);
  let ok = found.get(key);
  if (ok === undefined) {
    const probe = spawnSync(command, probeArgs, { stdio: 'ignore', timeout: 10_000 });
    ok = probe.error === undefined && (!mustSucceed || probe.status === 0);
    found.set(key, ok);
  }
  return ok;
}

export interface ToolOptions {
  /** How to install it, printed with the skip reason (default: `apt-get install <command>`). */
  installHint?: string;
  /** Arguments of the probe run (default `--version`). */
  probeArgs?: readonly string[];
  /**
   * The probe must exit 0, not merely start: for a module inside an interpreter that is there anyway
   * (`/usr/bin/python3 -c 'import kafka'`).
   */
  probeMustSucceed?: boolean;
  /** What is missing, named in the skip reason (default: the command). */
  what?: string;
}

/**
 * True when the test may go on. Otherwise the test has been marked skipped with a printed reason, or,
 * under STREAMBUS_REQUIRE_TOOLS=1, it fails here.
 */
export function requireTool(t: TestContext, command: string, options: ToolOptions = {}): boolean {
  if (toolInstalled(command, options.probeArgs, options.probeMustSucceed)) return true;
  return skipOrFail(t, `${options.what ?? command} is not installed (${options.installHint ?? `apt-get install ${command}`})`);
}

/**
 * For a test that cannot run here for `reason` (a tool that is installed but cannot work on this
 * machine): marks it skipped with the reason printed and returns false, or, under
 * STREAMBUS_REQUIRE_TOOLS=1, fails it.
 */
export function skipOrFail(t: TestContext, reason: string): false {
  if (process.env['STREAMBUS_REQUIRE_TOOLS'] === '1') assert.fail(`${reason}; STREAMBUS_REQUIRE_TOOLS=1 requires it`);
  console.log(`# skipped: ${reason}`);
  t.skip(reason);
  return false;
}
