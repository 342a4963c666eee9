/**
 * Writer of Kafka protocol primitives that produces a list of buffers.
 *
 * Small values are copied into a growing scratch buffer; large byte values handed to `ref` (records) are
 * kept by reference and emitted as their own chunk, so a Fetch response carrying megabytes of stored
 * batches is never concatenated: `finish()` returns the chunks for a vectored write. The scratch never
 * moves: when full, the written part becomes a chunk and a fresh, larger scratch begins. That is why the
 * first four bytes can be patched at the end (the size prefix of a frame).
 *
 * Ownership: buffers passed to `ref` must stay unchanged until the chunks are written out.
 */
import { StreamBusError } from '../../util/errors.ts';
import { assert } from '../../util/assert.ts';
import type { RecordsInput, TaggedField } from './types.ts';

/** Byte values at least this long are kept by reference rather than copied. */
const REF_MIN_BYTES = 512;

function encodeError(message: string): StreamBusError {
  return new StreamBusError('SB_ERR_PROTOCOL', message);
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class Writer {
  private buf: Buffer;
  private readonly first: Buffer;
  private pos = 0;
  private segStart = 0;
  private readonly chunks: Buffer[] = [];
  /** Bytes already moved into `chunks`. */
  private flushed = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initialBytes));
    this.first = this.buf;
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.flushed + this.pos - this.segStart;
  }

  private flushSegment(): void {
    if (this.pos > this.segStart) {
      this.chunks.push(this.buf.subarray(this.segStart, this.pos));
      this.flushed += this.pos - this.segStart;
    }
    this.segStart = this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flushSegment();
    this.buf = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2));
    this.pos = 0;
    this.segStart = 0;
  }

  int8(v: number): void {
    this.ensure(1);
    this.buf.writeInt8(v, this.pos);
    this.pos += 1;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  int16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  uint16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  int32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  uint32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  int64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
  }

  float64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  uuid(v: string): void {
    if (!UUID_RE.test(v)) throw encodeError(`not a UUID: ${v}`);
    this.ensure(16);
    this.buf.write(v.replace(/-/g, ''), this.pos, 16, 'hex');
    this.pos += 16;
  }

  /** Unsigned LEB128 of a 32-bit unsigned value. */
  uvarint(v: number): void {
    assert(v >= 0 && v <= 0xffffffff && Number.isInteger(v), `uvarint out of range: ${v}`);
    this.ensure(5);
    const buf = this.buf;
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[this.pos++] = v;
  }

  /** Zigzag signed 32-bit varint. */
  varint(v: number): void {
    assert(v >= -0x80000000 && v <= 0x7fffffff && Number.isInteger(v), `varint out of range: ${v}`);
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** Zigzag signed varlong from an integer of magnitude below 2^52 (so that its zigzag form stays exact). */
  varlongNumber(v: number): void {
    assert(Number.isInteger(v) && Math.abs(v) < 2 ** 52, `varlong out of the exact range: ${v}`);
    let u = v >= 0 ? v * 2 : -v * 2 - 1;
    this.ensure(10);
    const buf = this.buf;
    while (u >= 0x80) {
      buf[this.pos++] = (u % 128) | 0x80;
      u = Math.floor(u / 128);
    }
    buf[this.pos++] = u;
  }

  /** Zigzag signed 64-bit varlong. */
  varlong(v: bigint): void {
    let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
    this.ensure(10);
    const buf = this.buf;
    while (u >= 0x80n) {
      buf[this.pos++] = Number(u & 0x7fn) | 0x80;
      u >>= 7n;
    }
    buf[this.pos++] = Number(u);
  }

  /** Length prefix of a string: int16 or compact uvarint len+1; -1 = null. */
  private stringLength(n: number, compact: boolean): void {
    if (compact) this.uvarint(n + 1);
    else {
      if (n > 0x7fff) throw encodeError(`string of ${n} bytes exceeds the int16 length`);
      this.int16(n);
    }
  }

  private bytesLength(n: number, compact: boolean): void {
    if (compact) this.uvarint(n + 1);
    else this.int32(n);
  }

  string(v: string, compact: boolean): void {
    const n = Buffer.byteLength(v, 'utf8');
    this.stringLength(n, compact);
    this.ensure(n);
    this.buf.write(v, this.pos, n, 'utf8');
    this.pos += n;
  }

  nullableString(v: string | null, compact: boolean): void {
    if (v === null) this.stringLength(-1, compact);
    else this.string(v, compact);
  }

  /** Copies raw bytes (no length prefix). */
  raw(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** Emits raw bytes by reference when large (no length prefix); small ones are copied. */
  ref(v: Uint8Array): void {
    if (v.length < REF_MIN_BYTES) {
      this.raw(v);
      return;
    }
    this.flushSegment();
    this.chunks.push(Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.length));
    this.flushed += v.length;
  }

  bytes(v: Uint8Array, compact: boolean): void {
    this.bytesLength(v.length, compact);
    this.ref(v);
  }

  nullableBytes(v: Uint8Array | null, compact: boolean): void {
    if (v === null) this.bytesLength(-1, compact);
    else this.bytes(v, compact);
  }

  /** A records field: nullable bytes whose value may be a list of buffers, each passed through by reference. */
  records(v: RecordsInput, compact: boolean): void {
    if (v === null) {
      this.bytesLength(-1, compact);
      return;
    }
    if (v instanceof Uint8Array) {
      this.bytes(v, compact);
      return;
    }
    let total = 0;
    for (const b of v) total += b.length;
    this.bytesLength(total, compact);
    for (const b of v) this.ref(b);
  }

  /** An array count; -1 = null. */
  arrayLength(n: number, compact: boolean): void {
    if (compact) this.uvarint(n + 1);
    else this.int32(n);
  }

  /** A tagged-field section; fields are written in ascending tag order as the protocol requires. */
  taggedFields(fields: readonly TaggedField[] | undefined): void {
    if (fields === undefined || fields.length === 0) {
      this.ensure(1);
      this.buf[this.pos++] = 0;
      return;
    }
    const sorted = fields.length > 1 ? [...fields].sort((a, b) => a.tag - b.tag) : fields;
    this.uvarint(sorted.length);
    for (const f of sorted) {
      this.uvarint(f.tag);
      this.uvarint(f.data.length);
      this.raw(f.data);
    }
  }

  /** Overwrites the first four bytes written (reserved with int32 first) with `v`. */
  patchFirstInt32(v: number): void {
    assert(this.length >= 4, 'patchFirstInt32 needs four bytes written');
    this.first.writeInt32BE(v, 0);
  }

  /** The written bytes as chunks (views and referenced buffers). The writer must not be used afterwards. */
  finish(): Buffer[] {
    this.flushSegment();
    return this.chunks;
  }

  /** The written bytes as one buffer (copies when there is more than one chunk). */
  toBuffer(): Buffer {
    const chunks = this.finish();
    if (chunks.length === 1) return chunks[0]!;
    return Buffer.concat(chunks, this.flushed);
  }
}
