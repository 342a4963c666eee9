/**
 * `config validate --check-files`: the files and directories a configuration names are usable on this
 * machine. Read-only: nothing is created. A directory passes when it exists and is writable, or when
 * it does not exist yet and its nearest existing ancestor is a writable directory (the broker creates
 * it at start-up). Problems carry the file and line where the key was set. The TLS files get deeper
 * checks (certificate, key, CA) in cli/security-checks.ts.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BrokerConfig, KeyPath } from './broker-config.ts';
import { valueProblem, type ConfigProblem } from './config-error.ts';
import { configOrigin } from './load-config.ts';

export function validateFiles(config: BrokerConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const report = (key: KeyPath, expected: string, path: string, reason: string) =>
    problems.push(valueProblem(configOrigin(config, key), key, expected, `${JSON.stringify(path)} (${reason})`));

  const dir = (key: KeyPath, path: string, expected = 'a writable directory, or one that can be created') => {
    const reason = usableDirectory(path);
    if (reason) report(key, expected, path, reason);
  };

  dir('storage.dataDir', config.storage.dataDir);
  dir('storage.raftDir', config.storage.raftDir);

  const output = config.logging.output;
  if (output !== 'stdout' && output !== 'stderr') {
    const folder = usableDirectory(dirname(output));
    if (folder) report('logging.output', 'a file in a writable directory', output, `its directory: ${folder}`);
    else {
      const existing = writableFileIfExists(output);
      if (existing) report('logging.output', 'a writable file', output, existing);
    }
  }

  return problems;
}

function errorText(e: unknown): string {
  return String((e as Error).message).split(',')[0]!;
}

function writableFileIfExists(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'not a regular file';
    accessSync(path, constants.W_OK);
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : errorText(e);
  }
}

function usableDirectory(path: string): string | undefined {
  let current = path;
  for (;;) {
    try {
      if (!statSync(current).isDirectory()) return current === path ? 'not a directory' : `${current} is not a directory`;
      accessSync(current, constants.W_OK | constants.X_OK);
      return undefined;
    } catch (e) {
      // ENOTDIR: a file sits where a folder should; the walk up names it.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return current === path ? errorText(e) : `cannot create it in ${current}: ${errorText(e)}`;
      const parent = dirname(current);
      if (parent === current) return errorText(e);
      current = parent;
    }
  }
}
