/**
 * The value types of configuration keys. Each type parses both what YAML produces (numbers, booleans,
 * strings, lists, mappings) and what the environment and command-line flags give (strings), so a key
 * means the same wherever it is set. Parsing never throws: it returns the value or the reasons it
 * failed, and the loader turns reasons into located problems.
 */
import { isAbsolute, resolve } from 'node:path';
import type { ClusterNode } from './broker-config.ts';
import { suggest } from './suggest.ts';

/** Why a raw value was refused. `at` points inside a structured value (list index, field name). */
export interface Fail {
  readonly at?: readonly (string | number)[];
  readonly expected: string;
  readonly got: unknown;
  /** For an unknown field: the closest known field name. */
  readonly suggestion?: string;
  readonly unknownKey?: boolean;
}

/** The key path of a failure inside a structured value: subKey('cluster.nodes', [1, 'port']) = 'cluster.nodes[1].port'. */
export function subKey(key: string, at: readonly (string | number)[] = []): string {
  return key + at.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('');
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly fails: readonly Fail[] };

export interface ValueType<T> {
  /** Short form for the documentation table, e.g. "integer 1..65535". */
  readonly doc: string;
  /** What a valid value looks like, completing "expected ...". */
  readonly expected: string;
  parse(raw: unknown): Parsed<T>;
  /** Turns a parsed value into its final form; paths become absolute against `cwd`. */
  resolve?(value: T, cwd: string): T;
  /** Printable form for YAML output and docs (durations and sizes with units). */
  show?(value: T): unknown;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(expected: string, got: unknown): Parsed<T> => ({ ok: false, fails: [{ expected, got }] });

function rangeText(min: number | undefined, max: number | undefined, show: (n: number) => string = String): string {
  if (min !== undefined && max !== undefined) return ` between ${show(min)} and ${show(max)}`;
  if (min !== undefined) return ` of at least ${show(min)}`;
  if (max !== undefined) return ` of at most ${show(max)}`;
  return '';
}

function rangeDoc(min: number | undefined, max: number | undefined, show: (n: number) => string = String): string {
  if (min === undefined && max === undefined) return '';
  return ` ${min === undefined ? '' : show(min)}..${max === undefined ? '' : show(max)}`;
}

function inRange(n: number, min?: number, max?: number): boolean {
  return (min === undefined || n >= min) && (max === undefined || n <= max);
}

export function integer(min?: number, max?: number): ValueType<number> {
  const expected = `an integer${rangeText(min, max)}`;
  return {
    doc: `integer${rangeDoc(min, max)}`,
    expected,
    parse(raw) {
      const n = typeof raw === 'string' && /^[-+]?\d+$/.test(raw.trim()) ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || !inRange(n, min, max)) return fail(expected, raw);
      return ok(n);
    },
  };
}

export const port = (): ValueType<number> => integer(1, 65535);

/** A finite number; `unlimited` also accepts -1, the Kafka convention for "no limit". */
export function number(min?: number, max?: number, options: { unlimited?: boolean } = {}): ValueType<number> {
  const expected = `a number${rangeText(min, max)}${options.unlimited ? ', or -1 for no limit' : ''}`;
  return {
    doc: `number${rangeDoc(min, max)}${options.unlimited ? ' or -1' : ''}`,
    expected,
    parse(raw) {
      const n = typeof raw === 'string' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw.trim()) ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isFinite(n)) return fail(expected, raw);
      if (!(options.unlimited && n === -1) && !inRange(n, min, max)) return fail(expected, raw);
      return ok(n);
    },
  };
}

export function boolean(): ValueType<boolean> {
  const expected = 'true or false';
  return {
    doc: 'boolean',
    expected,
    parse(raw) {
      if (typeof raw === 'boolean') return ok(raw);
      if (typeof raw === 'string' && /^(true|false)$/i.test(raw.trim())) return ok(raw.trim().toLowerCase() === 'true');
      return fail(expected, raw);
    },
  };
}

/** Any string; `nonEmpty` refuses "". */
export function string(options: { nonEmpty?: boolean } = {}): ValueType<string> {
  const expected = options.nonEmpty ? 'a non-empty string' : 'a string';
  return {
    doc: 'string',
    expected,
    parse(raw) {
      if (typeof raw !== 'string' || (options.nonEmpty && raw === '')) return fail(expected, raw);
      return ok(raw);
    },
  };
}

/** Distinct values of `values`, from a YAML list or a comma-separated string (case-insensitive). */
export function setOf<const T extends string>(values: readonly T[]): ValueType<readonly T[]> {
  const expected = `a list of ${values.join(', ')} (each at most once)`;
  return {
    doc: `list of ${values.join(' | ')}`,
    expected,
    parse(raw) {
      const items = typeof raw === 'string' ? raw.split(',').map((x) => x.trim()).filter((x) => x !== '') : raw;
      if (!Array.isArray(items)) return fail(expected, raw);
      const out: T[] = [];
      for (const item of items) {
        const found = typeof item === 'string' ? values.find((v) => v.toLowerCase() === item.trim().toLowerCase()) : undefined;
        if (found === undefined || out.includes(found)) return fail(expected, raw);
        out.push(found);
      }
      return ok(out);
    },
    show: (value) => [...value],
  };
}

/** A host name or IP address, without scheme, port or spaces. */
export function host(): ValueType<string> {
  const expected = 'a host name or IP address';
  return {
    doc: 'host',
    expected,
    parse(raw) {
      if (typeof raw !== 'string' || raw === '' || /[\s/]/.test(raw)) return fail(expected, raw);
      return ok(raw);
    },
  };
}

/** A file or directory path. Relative paths resolve against the working directory. */
export function path(): ValueType<string> {
  const expected = 'a file system path';
  return {
    doc: 'path',
    expected,
    parse(raw) {
      if (typeof raw !== 'string' || raw.trim() === '') return fail(expected, raw);
      return ok(raw);
    },
    resolve: (value, cwd) => resolve(cwd, value),
  };
}

/** Like path(), but "" means "not set" and stays "". */
export function optionalPath(): ValueType<string> {
  const expected = 'a file system path, or "" for none';
  return {
    doc: 'path',
    expected,
    parse(raw) {
      if (typeof raw !== 'string') return fail(expected, raw);
      return ok(raw.trim() === '' ? '' : raw);
    },
    resolve: (value, cwd) => (value === '' ? '' : resolve(cwd, value)),
  };
}

/** 'stdout', 'stderr' or a file path (resolved like path()). */
export function logOutput(): ValueType<string> {
  const expected = 'stdout, stderr or a file path';
  return {
    doc: 'stdout | stderr | path',
    expected,
    parse(raw) {
      if (typeof raw !== 'string' || raw.trim() === '') return fail(expected, raw);
      return ok(raw);
    },
    resolve: (value, cwd) => (value === 'stdout' || value === 'stderr' || isAbsolute(value) ? value : resolve(cwd, value)),
  };
}

/** The path part of an HTTP URL: starts with "/", no spaces, query or fragment. */
export function urlPath(): ValueType<string> {
  const expected = 'an HTTP path starting with "/"';
  return {
    doc: 'HTTP path',
    expected,
    parse(raw) {
      if (typeof raw !== 'string' || !/^\/[^\s?#]*$/.test(raw)) return fail(expected, raw);
      return ok(raw);
    },
  };
}

/** One of a fixed set of words; matched without regard to case, returned as listed. */
export function oneOf<const T extends string>(values: readonly T[]): ValueType<T> {
  const expected = `one of ${values.join(', ')}`;
  return {
    doc: values.join(' | '),
    expected,
    parse(raw) {
      const found = typeof raw === 'string' ? values.find((v) => v.toLowerCase() === raw.trim().toLowerCase()) : undefined;
      return found === undefined ? fail(expected, raw) : ok(found);
    },
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's']) {
    const size = DURATION_UNITS[unit]!;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A duration: "500ms", "1s", "5m", "1h", "7d", or a plain number of milliseconds. Parsed to ms. */
export function duration(min = 0, max?: number): ValueType<number> {
  const expected = `a duration such as 500ms, 1s, 5m, 1h or 7d (a plain number is milliseconds)${rangeText(min === 0 ? undefined : min, max, formatDuration)}`;
  return {
    doc: `duration${min === 0 && max === undefined ? '' : rangeDoc(min, max, formatDuration)}`,
    expected,
    parse(raw) {
      let ms: number | undefined;
      if (typeof raw === 'number') ms = raw;
      else if (typeof raw === 'string') {
        const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(raw.trim());
        if (m) ms = Number(m[1]) * DURATION_UNITS[(m[2] ?? 'ms').toLowerCase()]!;
      }
      // Sub-millisecond remainders are refused rather than silently rounded; the tolerance only absorbs
      // binary floating point noise (1.1 * 1000 = 1100.0000000000002).
      if (ms === undefined || !Number.isFinite(ms) || Math.abs(ms - Math.round(ms)) > 1e-6) return fail(expected, raw);
      ms = Math.round(ms);
      if (!Number.isSafeInteger(ms) || !inRange(ms, min, max)) return fail(expected, raw);
      return ok(ms);
    },
    show: formatDuration,
  };
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};
const SIZE_NAMES: [string, number][] = [
  ['TiB', 2 ** 40], ['TB', 1e12], ['GiB', 2 ** 30], ['GB', 1e9], ['MiB', 2 ** 20], ['MB', 1e6], ['KiB', 2 ** 10], ['KB', 1e3],
];

/** Bytes in the largest unit that divides them exactly ("1GiB", "100MB"), else the plain number. */
export function formatSize(bytes: number): string | number {
  for (const [name, size] of SIZE_NAMES) if (bytes >= size && bytes % size === 0) return `${bytes / size}${name}`;
  return bytes;
}

/**
 * A size: "100MB" (SI: 1000-based), "1GiB" (binary: 1024-based), or a plain number of bytes.
 * `unlimited` also accepts -1, the Kafka convention for "no limit".
 */
export function size(min = 0, max?: number, options: { unlimited?: boolean } = {}): ValueType<number> {
  const showSize = (n: number) => String(formatSize(n));
  const expected =
    `a size such as 512KiB, 100MB or 1GiB (a plain number is bytes)${rangeText(min === 0 ? undefined : min, max, showSize)}` +
    (options.unlimited ? ', or -1 for no limit' : '');
  return {
    doc: `size${min === 0 && max === undefined ? '' : rangeDoc(min, max, showSize)}${options.unlimited ? ' or -1' : ''}`,
    expected,
    parse(raw) {
      let bytes: number | undefined;
      if (typeof raw === 'number') bytes = raw;
      else if (typeof raw === 'string') {
        const text = raw.trim();
        const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?$/i.exec(text);
        if (m) bytes = Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!;
        else if (text === '-1') bytes = -1;
      }
      if (bytes === undefined || !Number.isSafeInteger(bytes)) return fail(expected, raw);
      if (options.unlimited && bytes === -1) return ok(bytes);
      if (!inRange(bytes, min, max)) return fail(expected, raw);
      return ok(bytes);
    },
    show: formatSize,
  };
}

const NODE_FIELDS = ['id', 'host', 'port', 'grpcPort'] as const;
/** The inter-broker port of a node entry that names none (the guide's 9093). */
export const DEFAULT_GRPC_PORT = 9093;

/**
 * The cluster's voters: a list of {id, host, port} mappings in YAML, or "1@host:9092,2@host:9092" in
 * the environment and on the command line. Ids must be unique.
 */
export function nodeList(): ValueType<readonly ClusterNode[]> {
  const idType = integer(0, 2 ** 31 - 1);
  const hostType = host();
  const portType = port();
  const expected = 'a list of {id, host, port, grpcPort?} entries (or "id@host:port[:grpcPort],..." from the environment)';
  return {
    doc: 'list of {id, host, port, grpcPort?}',
    expected,
    parse(raw) {
      let items: unknown[];
      if (typeof raw === 'string') {
        const text = raw.trim();
        if (text === '') return ok([]);
        const parsed = text.split(',').map((part) => /^\s*([^@\s]+)@([^:\s]+):([^:\s]+)(?::([^:\s]+))?\s*$/.exec(part));
        if (parsed.some((m) => m === null)) return fail(expected, raw);
        items = parsed.map((m) => ({ id: m![1], host: m![2], port: m![3], ...(m![4] !== undefined ? { grpcPort: m![4] } : {}) }));
      } else if (Array.isArray(raw)) {
        items = raw;
      } else {
        return fail(expected, raw);
      }
      const fails: Fail[] = [];
      const nodes: ClusterNode[] = [];
      const seen = new Set<number>();
      items.forEach((item, i) => {
        if (item === null || typeof item !== 'object' || Array.isArray(item)) {
          fails.push({ at: [i], expected: 'a mapping with id, host and port', got: item });
          return;
        }
        const record = item as Record<string, unknown>;
        for (const name of Object.keys(record)) {
          if (!(NODE_FIELDS as readonly string[]).includes(name)) {
            fails.push({ at: [i, name], expected: 'id, host, port or grpcPort', got: name, unknownKey: true, suggestion: suggest(name, NODE_FIELDS) });
          }
        }
        const fields = { id: idType, host: hostType, port: portType, grpcPort: portType };
        const node: Record<string, unknown> = {};
        for (const name of NODE_FIELDS) {
          if (name === 'grpcPort' && record[name] === undefined) {
            node[name] = DEFAULT_GRPC_PORT;
            continue;
          }
          const r = (fields[name] as ValueType<unknown>).parse(record[name]);
          if (r.ok) node[name] = r.value;
          else fails.push({ at: [i, name], expected: fields[name].expected, got: record[name] });
        }
        if (typeof node.id === 'number') {
          if (seen.has(node.id)) fails.push({ at: [i, 'id'], expected: 'an id not used by another node', got: node.id });
          seen.add(node.id);
        }
        nodes.push(node as unknown as ClusterNode);
      });
      return fails.length > 0 ? { ok: false, fails } : ok(nodes);
    },
  };
}
