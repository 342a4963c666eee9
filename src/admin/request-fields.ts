/**
 * Reading the admin API's JSON bodies and query parameters: each helper returns the typed value or
 * throws an AdminError (SB_ERR_INVALID_REQUEST, HTTP 400) naming the field and what it expected.
 */
import { AdminError } from './admin-error.ts';

type Fields = Readonly<Record<string, unknown>>;

const invalid = (message: string) => new AdminError('SB_ERR_INVALID_REQUEST', 'INVALID_FIELD', message);

/** The body as an object of fields (an absent body is an empty object when `optional`). */
export function objectBody(body: unknown, optional = false): Fields {
  if (body === undefined && optional) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the request body must be a JSON object');
  return body as Fields;
}

/** Refuses fields the route does not know, so a misspelt one is not silently ignored. */
export function onlyFields(fields: Fields, known: readonly string[]): void {
  const unknown = Object.keys(fields).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw invalid(`unknown field${unknown.length === 1 ? '' : 's'} ${unknown.map((k) => `"${k}"`).join(', ')}; expected ${known.join(', ')}`);
}

export function requiredString(fields: Fields, key: string): string {
  const v = fields[key];
  if (typeof v !== 'string' || v === '') throw invalid(`"${key}" must be a non-empty string`);
  return v;
}

export function optionalInteger(fields: Fields, key: string, min: number): number | undefined {
  const v = fields[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw invalid(`"${key}" must be an integer >= ${min}`);
  return v;
}

export function optionalBoolean(fields: Fields, key: string): boolean | undefined {
  const v = fields[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalid(`"${key}" must be true or false`);
  return v;
}

/** An object of string values (`{"retention.ms": "3600000"}`); numbers are taken as their decimal text. */
export function optionalStringMap(fields: Fields, key: string): Record<string, string> {
  const v = fields[key];
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`"${key}" must be an object of names to string values`);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(v)) {
    if (typeof value !== 'string' && typeof value !== 'number') throw invalid(`"${key}.${name}" must be a string`);
    out[name] = String(value);
  }
  return out;
}

export function optionalStringArray(fields: Fields, key: string): string[] {
  const v = fields[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x !== '')) throw invalid(`"${key}" must be an array of non-empty strings`);
  return v as string[];
}

export function optionalIntegerArray(fields: Fields, key: string, min: number): number[] | undefined {
  const v = fields[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= min)) throw invalid(`"${key}" must be an array of integers >= ${min}`);
  return v as number[];
}

/** A boolean query parameter: absent is false; `true`/`1` and `false`/`0` are taken. */
export function queryFlag(query: URLSearchParams, key: string): boolean {
  const v = query.get(key);
  if (v === null) return false;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw invalid(`query parameter ${key} must be true or false`);
}
