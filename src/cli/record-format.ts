/**
 * How `consume` prints a record: a --format template (one line per record, '\n' appended) or JSON
 * (one object per line). Templates keep bytes exact: %k and %v copy the key and value bytes as they are.
 *
 * Template tokens: %t topic, %p partition, %o offset, %T timestamp (ms), %k key, %v value, %K key length,
 * %S value length (-1 for null), %h headers as key=value joined by ',', %% a literal %. Escapes: \n, \t,
 * \\. A null key or value prints as nothing.
 *
 * JSON: key, value and header values are strings when they are valid UTF-8, else {"base64": "..."};
 * null stays null.
 */
import type { ConsumedRecord } from '../client/index.ts';
import { UsageError } from './client-command.ts';

type Piece = string | ((r: ConsumedRecord) => Buffer | string);

const TOKENS: Record<string, (r: ConsumedRecord) => Buffer | string> = {
  t: (r) => r.topic,
  p: (r) => String(r.partition),
  o: (r) => String(r.offset),
  T: (r) => String(r.timestamp),
  k: (r) => r.key ?? '',
  v: (r) => r.value ?? '',
  K: (r) => String(r.key === null ? -1 : r.key.length),
  S: (r) => String(r.value === null ? -1 : r.value.length),
  h: (r) => r.headers.map((h) => `${h.key}=${h.value?.toString('utf8') ?? ''}`).join(','),
};

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', '\\': '\\' };

/** Compiles a template; unknown tokens or escapes are usage errors. */
export function compileFormat(format: string): (r: ConsumedRecord) => Buffer[] {
  const pieces: Piece[] = [];
  let literal = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    const next = format[i + 1];
    if (c === '%' || c === '\\') {
      if (next === undefined) throw new UsageError(`--format ends with a lone "${c}"`);
      i++;
      if (c === '%' && next === '%') literal += '%';
      else if (c === '%') {
        const token = TOKENS[next];
        if (!token) throw new UsageError(`--format has an unknown token %${next} (known: %t %p %o %T %k %v %K %S %h %%)`);
        if (literal) pieces.push(literal);
        literal = '';
        pieces.push(token);
      } else {
        const escape = ESCAPES[next];
        if (escape === undefined) throw new UsageError(`--format has an unknown escape \\${next} (known: \\n \\t \\\\)`);
        literal += escape;
      }
    } else {
      literal += c;
    }
  }
  pieces.push(literal + '\n');
  const fixed = pieces.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p));
  return (r) => fixed.map((p) => (Buffer.isBuffer(p) ? p : toBuffer(p(r))));
}

function toBuffer(v: Buffer | string): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

function jsonBytes(b: Buffer | null): string | { base64: string } | null {
  if (b === null) return null;
  const text = b.toString('utf8');
  // Decoding replaces invalid sequences with U+FFFD: a lossless round trip proves the bytes were UTF-8.
  return Buffer.byteLength(text, 'utf8') === b.length && Buffer.from(text, 'utf8').equals(b) ? text : { base64: b.toString('base64') };
}

export function recordJson(r: ConsumedRecord): string {
  return (
    JSON.stringify({
      topic: r.topic,
      partition: r.partition,
      offset: Number(r.offset),
      timestamp: r.timestamp,
      key: jsonBytes(r.key),
      value: jsonBytes(r.value),
      headers: r.headers.map((h) => ({ key: h.key, value: jsonBytes(h.value) })),
    }) + '\n'
  );
}
