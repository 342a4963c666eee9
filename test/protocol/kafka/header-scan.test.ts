// Goal: scanHeaderValues finds a header's values in a produced batch exactly as the full record
// decoder would, for uncompressed batches without decompressing and for compressed ones only when
// asked; it honours its record and value limits and never throws on malformed or truncated bytes.
// Method: batches built with buildRecordBatch, compared with readRecords; every truncation of one
// batch and random byte flips are scanned (they must return, not throw).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildRecordBatch } from '../../../src/protocol/kafka/record-batch/builder.ts';
import { readRecords } from '../../../src/protocol/kafka/record-batch/records.ts';
import { scanHeaderValues, type HeaderScan } from '../../../src/protocol/kafka/record-batch/header-scan.ts';
import { Compression } from '../../../src/protocol/kafka/record-batch/header.ts';
import { loadCompressionCodecs } from '../../../src/protocol/kafka/compression/index.ts';

before(async () => {
  await loadCompressionCodecs();
});

const KEY = Buffer.from('traceparent');
const all = (decompress: boolean, maxValues = 100): HeaderScan => ({ key: KEY, maxRecords: Number.MAX_SAFE_INTEGER, maxValues, decompress });
const tp = (i: number) => `00-${String(i).padStart(32, '1')}-${String(i).padStart(16, '2')}-01`;

function batch(compression: number): Buffer {
  return buildRecordBatch(
    [
      { key: Buffer.from('k0'), value: Buffer.from('v0'), headers: [{ key: 'other', value: Buffer.from('x') }, { key: 'traceparent', value: Buffer.from(tp(1)) }] },
      { key: null, value: null, headers: [] },
      { value: Buffer.from('v2'), headers: [{ key: 'traceparen', value: Buffer.from('no') }, { key: 'traceparent', value: null }, { key: 'traceparent', value: Buffer.from(tp(2)) }] },
      { value: Buffer.from('v3'), headers: [{ key: 'traceparent', value: Buffer.from(tp(3)) }] },
    ],
    { compression },
  );
}

function decoded(b: Buffer): string[] {
  return readRecords(b).flatMap((r) => r.headers.filter((h) => h.key === 'traceparent' && h.value !== null).map((h) => h.value!.toString('latin1')));
}

test('uncompressed: every value, in record order, as the full decoder reads them', () => {
  const b = batch(Compression.none);
  const out: string[] = [];
  scanHeaderValues(b, all(false), out);
  assert.deepEqual(out, [tp(1), tp(2), tp(3)]);
  assert.deepEqual(out, decoded(b));
});

test('the first record only, and the value limit', () => {
  const b = batch(Compression.none);
  const first: string[] = [];
  scanHeaderValues(b, { key: KEY, maxRecords: 1, maxValues: 1, decompress: false }, first);
  assert.deepEqual(first, [tp(1)]);
  const two: string[] = [];
  scanHeaderValues(b, all(false, 2), two);
  assert.deepEqual(two, [tp(1), tp(2)]);
});

test('compressed: skipped unless decompression is asked for', () => {
  for (const codec of [Compression.gzip, Compression.snappy, Compression.lz4, Compression.zstd]) {
    const b = batch(codec);
    const skipped: string[] = [];
    scanHeaderValues(b, all(false), skipped);
    assert.deepEqual(skipped, [], `codec ${codec}`);
    const found: string[] = [];
    scanHeaderValues(b, all(true), found);
    assert.deepEqual(found, [tp(1), tp(2), tp(3)], `codec ${codec}`);
  }
});

test('null, empty, truncated and corrupted batches return what they can and never throw', () => {
  scanHeaderValues(null, all(true), []);
  scanHeaderValues(Buffer.alloc(0), all(true), []);
  const b = batch(Compression.none);
  for (let n = 0; n < b.length; n++) scanHeaderValues(b.subarray(0, n), all(true), []);
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(b.length - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }), fc.boolean(), (flips, decompress) => {
      const copy = Buffer.from(b);
      for (const [at, v] of flips) copy[at] = v;
      const out: string[] = [];
      scanHeaderValues(copy, all(decompress), out);
      assert.ok(out.length <= 100);
    }),
    { numRuns: 300 },
  );
});
