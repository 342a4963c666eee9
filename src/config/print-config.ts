/**
 * `config print`: the effective configuration as YAML or JSON, keys in schema order, secrets that are
 * set shown as "********". YAML shows durations and sizes with units ("1s", "1GiB"); JSON gives the
 * numbers BrokerConfig holds (milliseconds, bytes). Either output loads back to the same config.
 */
import { stringify } from 'yaml';
import type { BrokerConfig } from './broker-config.ts';
import { KEYS } from './schema.ts';

export const MASK = '********';

export function printConfig(config: BrokerConfig, options: { format: 'yaml' | 'json' } = { format: 'yaml' }): string {
  const root: Record<string, unknown> = {};
  for (const { key, spec } of KEYS) {
    const parts = key.split('.');
    let node = root;
    let value: unknown = config;
    for (const part of parts) value = (value as Record<string, unknown>)[part];
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    if (spec.secret && value !== '') value = MASK;
    else if (options.format === 'yaml' && spec.type.show) value = spec.type.show(value);
    node[parts[parts.length - 1]!] = value;
  }
  return options.format === 'json' ? JSON.stringify(root, null, 2) + '\n' : stringify(root);
}
