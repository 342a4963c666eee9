/**
 * loadConfig: the one way the broker and the CLI obtain a configuration.
 *
 * Precedence, lowest first: schema defaults < the YAML file < STREAMBUS_* environment variables <
 * overrides (the CLI flags). Every layer is parsed by the key's own type, all problems of all layers
 * are collected, and any problem throws one ConfigError listing them. Relative paths resolve against
 * the working directory (`cwd`), not against the file's folder, as for any other command-line tool.
 * The result is deep-frozen; where each value came from is kept for inactiveKeysSet and configOrigin.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BrokerConfig, KeyPath } from './broker-config.ts';
import { ConfigError, fileProblem, showGot, unknownKeyProblem, valueProblem, type ConfigProblem, type Origin } from './config-error.ts';
import { crossChecks } from './cross-checks.ts';
import { CLI_FLAGS, Derived, KEY_INFO, KEYS } from './schema.ts';
import { suggest } from './suggest.ts';
import { subKey } from './value-types.ts';
import { readYamlText } from './yaml-file.ts';

export interface LoadOptions {
  /** Path of a broker.yaml; without it only defaults, environment and overrides apply. */
  readonly file?: string;
  /** Defaults to process.env. Only STREAMBUS_* variables named by the schema are read; others are ignored. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Key path -> value (string or typed), e.g. { 'server.port': '19092' }; undefined values are skipped. */
  readonly overrides?: Readonly<Record<string, unknown>>;
  /** Directory relative paths resolve against; defaults to process.cwd(). */
  readonly cwd?: string;
}

interface Entry {
  readonly value: unknown;
  readonly origin: Origin;
}

const DEFAULT: Origin = { kind: 'default' };
const ORIGINS = new WeakMap<BrokerConfig, ReadonlyMap<KeyPath, Origin>>();

/** Throws ConfigError (code SB_ERR_CONFIG) listing every problem; never returns a partly valid config. */
export function loadConfig(options: LoadOptions = {}): BrokerConfig {
  const cwd = options.cwd ?? process.cwd();
  const problems: ConfigProblem[] = [];
  const layers: Map<KeyPath, Entry>[] = [];

  const defaults = new Map<KeyPath, Entry>();
  for (const { key, spec } of KEYS) if (!(spec.default instanceof Derived)) defaults.set(key, { value: spec.default, origin: DEFAULT });
  layers.push(defaults);

  if (options.file !== undefined) {
    const file = new Map<KeyPath, Entry>();
    let text: string | undefined;
    try {
      text = readFileSync(resolve(cwd, options.file), 'utf8');
    } catch (e) {
      const reason = String((e as Error).message).split(',')[0]!;
      problems.push(fileProblem({ kind: 'file', file: options.file }, 'a readable configuration file', JSON.stringify(reason), `cannot read the configuration file (${reason})`));
    }
    if (text !== undefined) {
      const read = readYamlText(options.file, text);
      problems.push(...read.problems);
      for (const v of read.values) file.set(v.key, v);
    }
    layers.push(file);
  }

  const env = new Map<KeyPath, Entry>();
  const environment = options.env ?? process.env;
  for (const { key, spec, env: name } of KEYS) {
    const raw = environment[name];
    if (raw === undefined) continue;
    parseInto(env, key, raw, { kind: 'env', env: name }, spec.secret, problems);
  }
  layers.push(env);

  const overrides = new Map<KeyPath, Entry>();
  for (const [key, raw] of Object.entries(options.overrides ?? {})) {
    if (raw === undefined) continue;
    const flag = CLI_FLAGS.find((f) => f.key === key);
    const origin: Origin = flag ? { kind: 'flag', flag: `--${flag.flag}` } : { kind: 'override' };
    const info = KEY_INFO.get(key);
    if (info === undefined) problems.push(unknownKeyProblem(origin, key, suggest(key, KEY_INFO.keys())));
    else parseInto(overrides, info.key, raw, origin, info.spec.secret, problems);
  }
  layers.push(overrides);

  // metrics.port exists for the guide's template only: it must repeat server.httpPort as the same
  // layer sees it, so overriding --http-port does not turn the file's consistent pair into an error.
  const merged = new Map<KeyPath, Entry>();
  for (const layer of layers) {
    for (const [key, entry] of layer) merged.set(key, entry);
    const metricsPort = layer.get('metrics.port');
    const httpPort = merged.get('server.httpPort')!.value;
    if (metricsPort !== undefined && metricsPort.value !== httpPort) {
      problems.push(valueProblem(metricsPort.origin, 'metrics.port', `${String(httpPort)} (the value of server.httpPort) or no metrics.port at all`,
        String(metricsPort.value), 'metrics are served by the HTTP server on server.httpPort; a separate metrics port is not supported'));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const values = new Map<KeyPath, unknown>();
  const origins = new Map<KeyPath, Origin>();
  for (const [key, entry] of merged) {
    const type = KEY_INFO.get(key)!.spec.type;
    values.set(key, type.resolve ? type.resolve(entry.value, cwd) : entry.value);
    origins.set(key, entry.origin);
  }
  for (const { key, spec } of KEYS) {
    if (!(spec.default instanceof Derived)) continue;
    const derived = (spec.default.compute as (v: unknown) => unknown)(values.get(spec.default.from));
    if (key === 'metrics.port') values.set(key, derived); // always follows server.httpPort (checked above)
    else if (!values.has(key)) values.set(key, derived);
    if (!origins.has(key)) origins.set(key, DEFAULT);
  }

  const crossProblems = crossChecks((k) => values.get(k), (k) => origins.get(k)!);
  if (crossProblems.length > 0) throw new ConfigError(crossProblems);

  const config = deepFreeze(nest(values)) as unknown as BrokerConfig;
  ORIGINS.set(config, origins);
  return config;
}

function parseInto(layer: Map<KeyPath, Entry>, key: KeyPath, raw: unknown, origin: Origin, secret: boolean | undefined, problems: ConfigProblem[]): void {
  const parsed = KEY_INFO.get(key)!.spec.type.parse(raw);
  if (parsed.ok) layer.set(key, { value: parsed.value, origin });
  else for (const f of parsed.fails) problems.push(valueProblem(origin, subKey(key, f.at), f.expected, showGot(f.got, secret)));
}

function nest(values: ReadonlyMap<KeyPath, unknown>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const { key } of KEYS) {
    const parts = key.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = values.get(key);
  }
  return root;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function originsOf(config: BrokerConfig): ReadonlyMap<KeyPath, Origin> {
  const origins = ORIGINS.get(config);
  if (origins === undefined) throw new TypeError('not a configuration returned by loadConfig');
  return origins;
}

/** Where a key's effective value came from (file and line, variable, flag, or default). */
export function configOrigin(config: BrokerConfig, key: KeyPath): Origin {
  return originsOf(config).get(key)!;
}

/**
 * The keys of features that do not exist yet which the user set anyway (in the file, environment or
 * flags), in schema order. The broker logs them once at start-up as "not active yet".
 */
export function inactiveKeysSet(config: BrokerConfig): KeyPath[] {
  const origins = originsOf(config);
  return KEYS.filter((k) => !k.active && origins.get(k.key)!.kind !== 'default').map((k) => k.key);
}

/** The overrides for loadConfig from parsed yargs arguments: each CLI_FLAGS flag given becomes its key. */
export function flagOverrides(argv: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const flag of CLI_FLAGS) if (argv[flag.flag] !== undefined) overrides[flag.key] = argv[flag.flag];
  return overrides;
}
