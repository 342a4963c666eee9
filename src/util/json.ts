/**
 * JSON for people and scripts: Kafka offsets are bigint in memory and numbers in JSON (exact below
 * 2^53, which offsets reach only after 285 years at a million records a second), so the CLI's --json
 * output and the admin API's answers carry the same shapes.
 */
export function bigintAsNumber(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? Number(value) : value;
}
