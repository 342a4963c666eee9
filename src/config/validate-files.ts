/**
 * `config validate --check-files`: the files and directories a configuration names are usable on this
 * machine. Read-only: nothing is created. A directory passes when it exists and is writable, or when
 * it does not exist yet and its nearest existing ancestor is a writable directory (the broker creates
 * it at start-up). Problems carry the file and line where the key was set.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BrokerConfig, KeyPath } from './broker-config.ts';
import { valueProblem, type ConfigProblem } from './config-error.ts';
import { configOrigin } from './load-config.ts';
import { loadTlsMaterial, TlsMaterialError } from '../security/tls-material.ts';

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

  problems.push(...tlsFileProblems(config));
  return problems;
}

/**
 * With security.tls enabled: whatever is wrong with its certificate, key and CA files (tls-material.ts),
 * each naming its key, file and problem. The broker refuses to start on any of them (exit 2).
 */
export function tlsFileProblems(config: BrokerConfig, now?: Date): ConfigProblem[] {
  if (!config.security.tls.enabled) return [];
  try {
    loadTlsMaterial(config.security.tls, now);
    return [];
  } catch (err) {
    if (!(err instanceof TlsMaterialError)) throw err;
    const expected = { 'security.tls.certFile': 'a valid PEM certificate (chain)', 'security.tls.keyFile': 'the PEM private key of the certificate', 'security.tls.caFile': 'the PEM CA bundle that signed the certificate', 'security.tls.keyPassphrase': 'the passphrase of the key' } as const;
    return err.problems.map((p) => valueProblem(configOrigin(config, p.key), p.key, expected[p.key], JSON.stringify(p.file), p.problem));
  }
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
