/**
 * The big-endian structs of Kafka's internal-topic records (`__consumer_offsets`,
 * `__transaction_state`): every key and value starts with an int16 schema version; `string` = int16
 * length + UTF-8 (-1 = null where nullable), `bytes` = int32 length + bytes, arrays = int32 count +
 * elements. Reading fails with SB_ERR_CORRUPT naming the record, never with a RangeError.
 */
import { StreamBusError } from '../../util/errors.ts';
import { assert } from '../../util/assert.ts';

/** A `string` field holds at most this many UTF-8 bytes (int16 length). */
export const RECORD_STRING_BYTES_MAX = 0x7fff;

export class StructWriter {
  private readonly parts: Buffer[] = [];
  private size = 0;

  int8(v: number): this {
    assert(Number.isInteger(v) && v >= -0x80 && v <= 0x7f, `int8 out of range: ${v}`);
    const b = Buffer.allocUnsafe(1);
    b.writeInt8(v, 0);
    return this.push(b);
  }

  int16(v: number): this {
    assert(Number.isInteger(v) && v >= -0x8000 && v <= 0x7fff, `int16 out of range: ${v}`);
    const b = Buffer.allocUnsafe(2);
    b.writeInt16BE(v, 0);
    return this.push(b);
  }

  int32(v: number): this {
    assert(Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff, `int32 out of range: ${v}`);
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(v, 0);
    return this.push(b);
  }

  int64(v: bigint | number): this {
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64BE(typeof v === 'bigint' ? v : BigInt(v), 0);
    return this.push(b);
  }

  string(v: string | null): this {
    if (v === null) return this.int16(-1);
    const bytes = Buffer.from(v, 'utf8');
    assert(bytes.length <= RECORD_STRING_BYTES_MAX, 'string longer than 32767 bytes');
    this.int16(bytes.length);
    return this.push(bytes);
  }

  bytes(v: Uint8Array): this {
    this.int32(v.length);
    return this.push(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  }

  finish(): Buffer {
    const out = Buffer.concat(this.parts, this.size);
    assert(out.length === this.size, 'struct size mismatch');
    return out;
  }

  private push(b: Buffer): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }
}

export class StructReader {
  private position = 0;
  /** `what` names the record in errors, for example `__consumer_offsets key`. */
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  int8(): number {
    this.need(1);
    const v = this.buf.readInt8(this.position);
    this.position += 1;
    return v;
  }

  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.position);
    this.position += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.position);
    this.position += 4;
    return v;
  }

  /** An int64 that holds a millisecond timestamp: must fit a safe integer. */
  timestamp(): number {
    const v = this.int64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) this.fail(`timestamp ${v} out of range`);
    return Number(v);
  }

  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.position);
    this.position += 8;
    return v;
  }

  string(): string {
    const s = this.nullableString();
    if (s === null) this.fail('null in a non-nullable string');
    return s;
  }

  nullableString(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    if (length < 0) this.fail(`bad string length ${length}`);
    this.need(length);
    const s = this.buf.toString('utf8', this.position, this.position + length);
    this.position += length;
    return s;
  }

  bytes(): Buffer {
    const length = this.int32();
    if (length < 0) this.fail(`bad bytes length ${length}`);
    this.need(length);
    // Copy: the record buffer may be a view into a larger read buffer that gets reused.
    const b = Buffer.from(this.buf.subarray(this.position, this.position + length));
    this.position += length;
    return b;
  }

  count(): number {
    const n = this.int32();
    if (n < 0) this.fail(`bad array length ${n}`);
    // Each element takes at least one byte, so a count above the bytes left is corrupt (and would
    // otherwise make us allocate for a huge bogus count).
    if (n > this.buf.length - this.position) this.fail(`array length ${n} exceeds the record`);
    return n;
  }

  end(): void {
    if (this.position !== this.buf.length) this.fail(`${this.buf.length - this.position} trailing bytes`);
  }

  fail(reason: string): never {
    throw new StreamBusError('SB_ERR_CORRUPT', `${this.what}: ${reason}`);
  }

  private need(n: number): void {
    if (this.position + n > this.buf.length) this.fail(`truncated (need ${n} bytes at ${this.position} of ${this.buf.length})`);
  }
}
