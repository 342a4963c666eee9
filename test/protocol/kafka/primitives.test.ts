// Goal: the hand-written primitives read what they write, match Kafka's byte layouts, and reject short or
// hostile input with SB_ERR_PROTOCOL (never a RangeError, never a large allocation).
// Method: known byte vectors for each encoding, round trips over boundary values, truncation at every
// byte, and oversized length fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../../src/protocol/kafka/reader.ts';
import { Writer } from '../../../src/protocol/kafka/writer.ts';
import { isStreamBusError } from '../../../src/util/errors.ts';

function protocolErr(e: unknown): boolean {
  return isStreamBusError(e, 'SB_ERR_PROTOCOL');
}

test('unsigned varint layout matches LEB128 and round-trips at the boundaries', () => {
  const cases: [number, string][] = [[0, '00'], [1, '01'], [127, '7f'], [128, '8001'], [300, 'ac02'], [0xffffffff, 'ffffffff0f']];
  for (const [v, hex] of cases) {
    const w = new Writer();
    w.uvarint(v);
    const b = w.toBuffer();
    assert.equal(b.toString('hex'), hex);
    assert.equal(new Reader(b).uvarint(), v);
  }
});

test('zigzag varint and varlong match protobuf sint32/sint64', () => {
  const cases: [number, string][] = [[0, '00'], [-1, '01'], [1, '02'], [-2, '03'], [2147483647, 'feffffff0f'], [-2147483648, 'ffffffff0f']];
  for (const [v, hex] of cases) {
    const w = new Writer();
    w.varint(v);
    assert.equal(w.toBuffer().toString('hex'), hex);
    assert.equal(new Reader(Buffer.from(hex, 'hex')).varint(), v);
  }
  for (const v of [0n, -1n, 1n, 1n << 40n, -(1n << 63n), (1n << 63n) - 1n]) {
    const w = new Writer();
    w.varlong(v);
    assert.equal(new Reader(w.toBuffer()).varlong(), v);
  }
  for (const v of [0, -1, 1, 2 ** 40, -(2 ** 52) + 1, 2 ** 52 - 1]) {
    const w = new Writer();
    w.varlongNumber(v);
    const b = w.toBuffer();
    assert.equal(new Reader(b).varlongNumber(), v);
    assert.equal(new Reader(b).varlong(), BigInt(v));
  }
});

test('fixed-width integers, float64, bool and UUID round-trip', () => {
  const w = new Writer(16);
  w.int8(-128);
  w.int16(-32768);
  w.uint16(65535);
  w.int32(-2147483648);
  w.uint32(4294967295);
  w.int64(-(1n << 63n));
  w.float64(1.5);
  w.bool(true);
  w.uuid('0123456789abcdef0123456789abcdef'.replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-'));
  const r = new Reader(w.toBuffer());
  assert.equal(r.int8(), -128);
  assert.equal(r.int16(), -32768);
  assert.equal(r.uint16(), 65535);
  assert.equal(r.int32(), -2147483648);
  assert.equal(r.uint32(), 4294967295);
  assert.equal(r.int64(), -(1n << 63n));
  assert.equal(r.float64(), 1.5);
  assert.equal(r.bool(), true);
  assert.equal(r.uuid(), '01234567-89ab-cdef-0123-456789abcdef');
  assert.equal(r.remaining(), 0);
});

test('classic and compact strings and bytes, including null', () => {
  const w = new Writer();
  w.string('héllo', false);
  w.nullableString(null, false);
  w.string('héllo', true);
  w.nullableString(null, true);
  w.bytes(Buffer.from([1, 2]), false);
  w.nullableBytes(null, false);
  w.bytes(Buffer.from([1, 2]), true);
  w.nullableBytes(null, true);
  const b = w.toBuffer();
  assert.equal(b.toString('hex'), '000668c3a96c6c6fffff0768c3a96c6c6f00000000020102ffffffff03010200');
  const r = new Reader(b);
  assert.equal(r.string(false), 'héllo');
  assert.equal(r.nullableString(false), null);
  assert.equal(r.string(true), 'héllo');
  assert.equal(r.nullableString(true), null);
  assert.deepEqual([...r.bytes(false)], [1, 2]);
  assert.equal(r.nullableBytes(false), null);
  assert.deepEqual([...r.bytes(true)], [1, 2]);
  assert.equal(r.nullableBytes(true), null);
});

test('bytes are views into the input, not copies', () => {
  const b = Buffer.from('0000000301020304', 'hex');
  const v = new Reader(b).bytes(false);
  assert.equal(v.buffer, b.buffer);
  assert.equal(v.byteOffset, b.byteOffset + 4);
});

test('every truncation of a valid encoding throws SB_ERR_PROTOCOL, never RangeError', () => {
  const w = new Writer();
  w.int64(5n);
  w.string('abc', true);
  w.bytes(Buffer.from('xyz'), false);
  w.uuid('00000000-0000-0000-0000-000000000001');
  w.varlong(-12345678901n);
  const full = w.toBuffer();
  for (let n = 0; n < full.length; n++) {
    const r = new Reader(full.subarray(0, n));
    assert.throws(() => {
      r.int64();
      r.string(true);
      r.bytes(false);
      r.uuid();
      r.varlong();
    }, protocolErr, `cut at ${n}`);
  }
});

test('a 2^31-ish length field fails before allocating, and null where not nullable is rejected', () => {
  assert.throws(() => new Reader(Buffer.from('7fffffff00', 'hex')).bytes(false), protocolErr);
  assert.throws(() => new Reader(Buffer.from('7fffffff00', 'hex')).arrayLength(false, false), protocolErr);
  assert.throws(() => new Reader(Buffer.from('ffffffff0f', 'hex')).arrayLength(true, false), protocolErr);
  assert.throws(() => new Reader(Buffer.from('ffffffff', 'hex')).arrayLength(false, false), protocolErr);
  assert.equal(new Reader(Buffer.from('ffffffff', 'hex')).arrayLength(false, true), -1);
  assert.throws(() => new Reader(Buffer.from('fffe', 'hex')).nullableString(false), protocolErr);
  assert.throws(() => new Reader(Buffer.from('ffffffffff0f', 'hex')).uvarint(), protocolErr);
  assert.throws(() => new Reader(Buffer.from('ffffffffffffffffffff7f', 'hex')).varlong(), protocolErr);
});

test('tagged fields are kept as views and written back sorted by tag', () => {
  const w = new Writer();
  w.taggedFields([{ tag: 5, data: Buffer.from([9]) }, { tag: 1, data: Buffer.from([7, 8]) }]);
  const b = w.toBuffer();
  assert.equal(b.toString('hex'), '0201020708050109');
  const tags = new Reader(b).taggedFields()!;
  assert.deepEqual(tags.map((t) => [t.tag, [...t.data]]), [[1, [7, 8]], [5, [9]]]);
  assert.equal(new Reader(Buffer.from([0])).taggedFields(), undefined);
});

test('the writer keeps large records by reference and patches its first int32', () => {
  const big = Buffer.alloc(4096, 7);
  const w = new Writer(16);
  w.int32(0);
  w.records([big, big], true);
  w.int8(1);
  w.patchFirstInt32(w.length - 4);
  const chunks = w.finish();
  assert.ok(chunks.includes(big), 'record buffer passed through by reference');
  const all = Buffer.concat(chunks);
  assert.equal(all.readInt32BE(0), all.length - 4);
  const r = new Reader(all, 4);
  assert.equal(r.nullableBytes(true)!.length, 8192);
  assert.equal(r.int8(), 1);
});
