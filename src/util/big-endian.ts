/**
 * Big-endian integers read and written as plain numbers on any Uint8Array (Buffer included), for the
 * fixed-layout headers and index files read on hot paths. int64 values become doubles without a
 * bigint: offsets and millisecond timestamps stay far inside the safe integer range, so they are exact.
 */

const TWO_32 = 0x1_0000_0000;

export function readInt32(b: Uint8Array, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}

export function readUint32(b: Uint8Array, at: number): number {
  return readInt32(b, at) >>> 0;
}

export function readInt16(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16)) >> 16;
}

export function writeInt32(b: Uint8Array, at: number, value: number): void {
  b[at] = value >>> 24;
  b[at + 1] = value >>> 16;
  b[at + 2] = value >>> 8;
  b[at + 3] = value;
}

export function writeInt16(b: Uint8Array, at: number, value: number): void {
  b[at] = value >>> 8;
  b[at + 1] = value;
}

/** Reads an int64 that fits a double exactly (|value| < 2^53). */
export function readInt64(b: Uint8Array, at: number): number {
  return readInt32(b, at) * TWO_32 + readUint32(b, at + 4);
}

/** Writes an integer with |value| < 2^53 as an int64 (two's complement for negatives). */
export function writeInt64(b: Uint8Array, at: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  writeInt32(b, at, hi | 0);
  writeInt32(b, at + 4, (value - hi * TWO_32) >>> 0);
}
