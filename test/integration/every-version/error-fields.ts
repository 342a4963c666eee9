/**
 * Every error code in a decoded response body, by field path without array indexes
 * (`responses.partitions.errorCode`), so a check can hold each one against what it expects.
 * Fields named `errorCode` or ending in `ErrorCode` count (PartitionErrorCode, TopicConfigErrorCode).
 */
const MAX_DEPTH = 16;

export function errorFields(body: unknown): Map<string, number[]> {
  const out = new Map<string, number[]>();
  walk(body, '', 0, out);
  return out;
}

function walk(value: unknown, path: string, depth: number, out: Map<string, number[]>): void {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return;
  if (Array.isArray(value)) {
    for (const item of value) walk(item, path, depth + 1, out);
    return;
  }
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    const at = path ? `${path}.${key}` : key;
    if (typeof field === 'number' && /(^e|E)rrorCode$/.test(key)) {
      const list = out.get(at) ?? [];
      list.push(field);
      out.set(at, list);
    } else {
      walk(field, at, depth + 1, out);
    }
  }
}
