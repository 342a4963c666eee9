/**
 * Bounds-checked reader of Kafka protocol primitives over one Buffer.
 *
 * Contract: every read checks the remaining bytes first and throws StreamBusError SB_ERR_PROTOCOL when
 * the input is short or malformed; no read throws a RangeError or allocates more than the bytes it has
 * seen justify (a length is compared with the remaining bytes before anything is allocated). Byte and
 * records values are views into the underlying buffer (no copy): they share its memory and lifetime.
 */
import { StreamBusError } from '../../util/errors.ts';
import type { TaggedField } from './types.ts';

export function protocolError(message: string): StreamBusError {
  return new StreamBusError('SB_ERR_PROTOCOL', message);
}

function short(need: number, have: number): StreamBusError {
  return protocolError(`truncated input: need ${need} bytes, ${have} left`);
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Formats 16 bytes as a lowercase 8-4-4-4-12 UUID string. */
export function uuidToString(b: Uint8Array, at: number): string {
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[b[at + i]!];
  }
  return s;
}

export class Reader {
  readonly buf: Buffer;
  /** Next byte to read; callers may save and restore it. */
  pos: number;
  /** One past the last readable byte. */
  readonly end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    if (pos < 0 || end > buf.length || pos > end) throw protocolError(`bad reader window [${pos}, ${end}) of ${buf.length}`);
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  /** Throws SB_ERR_PROTOCOL unless `n` more bytes are available. */
  need(n: number): void {
    if (n > this.end - this.pos || n < 0) throw short(n, this.end - this.pos);
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  int8(): number {
    if (this.pos + 1 > this.end) throw short(1, this.end - this.pos);
    return this.buf.readInt8(this.pos++);
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    if (this.pos + 2 > this.end) throw short(2, this.end - this.pos);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  uint16(): number {
    if (this.pos + 2 > this.end) throw short(2, this.end - this.pos);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    if (this.pos + 4 > this.end) throw short(4, this.end - this.pos);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  uint32(): number {
    if (this.pos + 4 > this.end) throw short(4, this.end - this.pos);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): bigint {
    if (this.pos + 8 > this.end) throw short(8, this.end - this.pos);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  float64(): number {
    if (this.pos + 8 > this.end) throw short(8, this.end - this.pos);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  uuid(): string {
    if (this.pos + 16 > this.end) throw short(16, this.end - this.pos);
    const s = uuidToString(this.buf, this.pos);
    this.pos += 16;
    return s;
  }

  /** Unsigned LEB128 of at most 5 bytes (an unsigned 32-bit value), as flexible versions use for lengths. */
  uvarint(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let result = 0;
    // Four 7-bit groups fit a 31-bit int, so bit operations stay exact; the fifth group adds the top bits.
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) throw short(1, 0);
      const b = buf[pos++]!;
      result |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return result;
      }
    }
    if (pos >= end) throw short(1, 0);
    const b = buf[pos++]!;
    if (b > 0x0f) throw protocolError('unsigned varint exceeds 32 bits');
    this.pos = pos;
    return result + b * 0x10000000;
  }

  /** Zigzag-encoded signed 32-bit varint (record fields). */
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Zigzag-encoded signed 64-bit varint, as a bigint. */
  varlong(): bigint {
    const buf = this.buf;
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw short(1, 0);
      const b = buf[this.pos++]!;
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) {
        if (value >= 1n << 64n) throw protocolError('varlong exceeds 64 bits');
        return (value >> 1n) ^ -(value & 1n);
      }
    }
    throw protocolError('varlong longer than 10 bytes');
  }

  /**
   * Zigzag-encoded signed varlong returned as a number; throws SB_ERR_PROTOCOL when the value does not fit
   * a safe integer. Record timestamp deltas use it to stay off bigint on the hot path.
   */
  varlongNumber(): number {
    const buf = this.buf;
    let u = 0;
    for (let shift = 0; shift < 56; shift += 7) {
      if (this.pos >= this.end) throw short(1, 0);
      const b = buf[this.pos++]!;
      u += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (u > Number.MAX_SAFE_INTEGER) throw protocolError('varlong exceeds the safe integer range');
        return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
      }
    }
    throw protocolError('varlong exceeds the safe integer range');
  }

  /** A length prefix: int16 (classic strings), int32 (classic bytes/arrays) or uvarint len+1 (compact); -1 = null. */
  private stringLength(compact: boolean): number {
    return compact ? this.uvarint() - 1 : this.int16();
  }

  private bytesLength(compact: boolean): number {
    return compact ? this.uvarint() - 1 : this.int32();
  }

  private utf8(n: number): string {
    if (n > this.end - this.pos) throw short(n, this.end - this.pos);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  string(compact: boolean): string {
    const n = this.stringLength(compact);
    if (n < 0) throw protocolError('null or negative length for a non-nullable string');
    return this.utf8(n);
  }

  nullableString(compact: boolean): string | null {
    const n = this.stringLength(compact);
    if (n < -1) throw protocolError(`negative string length ${n}`);
    return n === -1 ? null : this.utf8(n);
  }

  /** A view of the next `n` bytes. */
  view(n: number): Buffer {
    if (n > this.end - this.pos || n < 0) throw short(n, this.end - this.pos);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  bytes(compact: boolean): Buffer {
    const n = this.bytesLength(compact);
    if (n < 0) throw protocolError('null or negative length for non-nullable bytes');
    return this.view(n);
  }

  nullableBytes(compact: boolean): Buffer | null {
    const n = this.bytesLength(compact);
    if (n < -1) throw protocolError(`negative bytes length ${n}`);
    return n === -1 ? null : this.view(n);
  }

  /**
   * An array count: -1 for null. Every element takes at least one byte, so a count larger than the bytes
   * left is rejected here, before any array is allocated.
   */
  arrayLength(compact: boolean, nullable: boolean): number {
    const n = compact ? this.uvarint() - 1 : this.int32();
    if (n === -1) {
      if (!nullable) throw protocolError('null array where the field is not nullable');
      return -1;
    }
    if (n < 0) throw protocolError(`negative array length ${n}`);
    if (n > this.end - this.pos) throw protocolError(`array of ${n} elements cannot fit in ${this.end - this.pos} bytes`);
    return n;
  }

  /** The tagged-field section of a flexible struct, all fields kept as unknown (views); undefined when empty. */
  taggedFields(): TaggedField[] | undefined {
    const count = this.uvarint();
    if (count === 0) return undefined;
    if (count > this.end - this.pos) throw protocolError(`${count} tagged fields cannot fit in ${this.end - this.pos} bytes`);
    const out: TaggedField[] = [];
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      const size = this.uvarint();
      out.push({ tag, data: this.view(size) });
    }
    return out;
  }
}
