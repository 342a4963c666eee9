/**
 * ConfigError: every problem found in a configuration, each located (file and line, environment
 * variable, or flag) and saying what was expected and what was found. The CLI prints `message` and
 * exits with code 2.
 */
import { StreamBusError } from '../util/errors.ts';

/** Where a value came from. */
export type Origin =
  | { readonly kind: 'default' }
  | { readonly kind: 'file'; readonly file: string; readonly line?: number }
  | { readonly kind: 'env'; readonly env: string }
  | { readonly kind: 'flag'; readonly flag: string }
  | { readonly kind: 'override' };

export interface ConfigProblem {
  /** Key path, e.g. 'server.port' or 'cluster.nodes[1].port'; '' when no key is concerned (syntax error). */
  readonly key: string;
  /** What a valid value looks like: 'an integer between 1 and 65535'. */
  readonly expected: string;
  /** What was found, ready to print: '"abc"', '70000', 'a mapping'; secrets show as "********". */
  readonly got: string;
  readonly file?: string;
  /** 1-based line in `file`. */
  readonly line?: number;
  /** The environment variable the value came from. */
  readonly env?: string;
  /** The command-line flag the value came from, e.g. '--port'. */
  readonly flag?: string;
  /** For an unknown key: the known key it most likely meant (full path). */
  readonly suggestion?: string;
  /** One line: location, key, and what is wrong. */
  readonly message: string;
}

export class ConfigError extends StreamBusError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super('SB_ERR_CONFIG', problems.map((p) => p.message).join('\n'));
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

/** "file:line: ", "environment STREAMBUS_X: ", "--port: " or "". */
export function describeOrigin(origin: Origin): string {
  switch (origin.kind) {
    case 'file':
      return origin.line === undefined ? origin.file : `${origin.file}:${origin.line}`;
    case 'env':
      return `environment ${origin.env}`;
    case 'flag':
      return origin.flag;
    case 'override':
      return 'override';
    case 'default':
      return 'default';
  }
}

function located(origin: Origin) {
  return {
    ...(origin.kind === 'file' ? { file: origin.file, ...(origin.line === undefined ? {} : { line: origin.line }) } : {}),
    ...(origin.kind === 'env' ? { env: origin.env } : {}),
    ...(origin.kind === 'flag' ? { flag: origin.flag } : {}),
  };
}

function prefix(origin: Origin): string {
  return origin.kind === 'default' ? '' : `${describeOrigin(origin)}: `;
}

/** How a found value is shown in a message. */
export function showGot(raw: unknown, secret = false): string {
  if (raw === null || raw === undefined) return 'nothing';
  if (secret) return '"********"';
  if (typeof raw === 'string') return JSON.stringify(raw);
  if (Array.isArray(raw)) return 'a list';
  if (typeof raw === 'object') return 'a mapping';
  return String(raw);
}

/** A value that is present but wrong. `note` says why, when the expectation alone does not. */
export function valueProblem(origin: Origin, key: string, expected: string, got: string, note?: string): ConfigProblem {
  const message = `${prefix(origin)}${key}: expected ${expected}, got ${got}${note ? ` (${note})` : ''}`;
  return { key, expected, got, ...located(origin), message };
}

export function unknownKeyProblem(origin: Origin, key: string, suggestion: string | undefined): ConfigProblem {
  const message = `${prefix(origin)}${key}: unknown key${suggestion ? ` (did you mean ${suggestion}?)` : ''}`;
  return { key, expected: 'a known key', got: JSON.stringify(key), ...located(origin), ...(suggestion ? { suggestion } : {}), message };
}

/** A problem with the file as a whole: unreadable, or not YAML. */
export function fileProblem(origin: Origin, expected: string, got: string, what: string): ConfigProblem {
  return { key: '', expected, got, ...located(origin), message: `${prefix(origin)}${what}` };
}
