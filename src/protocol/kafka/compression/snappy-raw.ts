/**
 * Raw snappy decoder, written against the snappy format description with a bounds check on every read
 * and write. Why hand-written: the decoders on npm mishandle hostile input. snappyjs reads a 4-byte
 * literal length as a negative number and then walks about 2^31 positions (one 1.5 KB batch took
 * 25 s). The WebAssembly ones leak their heap on every trap. Encoding, which only sees our own data,
 * uses snappyjs.
 *
 * Format: uvarint uncompressed length, then elements whose tag byte's low two bits give the kind:
 * 00 literal (length-1 in the upper six bits, or in the next 1-4 bytes LE when those bits are 60-63);
 * 01 copy, length 4 + bits 2-4, offset bits 5-7 (high) plus one byte; 10 copy, length 1 + upper six
 * bits, 2-byte LE offset; 11 the same with a 4-byte offset. The output must be exactly the declared
 * length, and each copy must reach back within what has already been written.
 */
import { StreamBusError } from '../../../util/errors.ts';

/** Runs shorter than this copy faster in a loop than through a native call. */
const SHORT_COPY = 32;

function invalid(message: string): StreamBusError {
  return new StreamBusError('SB_ERR_INVALID_BATCH', `snappy: ${message}`);
}

/** The declared uncompressed length and where the elements start. */
export function snappyRawHeader(src: Uint8Array): { length: number; start: number } {
  let length = 0;
  for (let i = 0; i < 5 && i < src.length; i++) {
    const b = src[i]!;
    length += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) {
      if (length > 0xffffffff) break;
      return { length, start: i + 1 };
    }
  }
  throw invalid('bad length preamble');
}

/** Decodes a raw snappy block whose declared length the caller has already accepted. */
export function snappyRawDecode(src: Uint8Array): Buffer {
  const { length, start } = snappyRawHeader(src);
  const out = Buffer.allocUnsafe(length);
  const end = src.length;
  let s = start;
  let o = 0;
  while (s < end) {
    const tag = src[s++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let n = tag >>> 2;
      if (n >= 60) {
        const bytes = n - 59;
        if (s + bytes > end) throw invalid('truncated literal length');
        n = 0;
        for (let i = 0; i < bytes; i++) n += src[s + i]! * 2 ** (8 * i);
        s += bytes;
      }
      n += 1;
      if (n > end - s) throw invalid('literal overruns the input');
      if (n > length - o) throw invalid('literal overruns the declared length');
      if (n < SHORT_COPY) for (let i = 0; i < n; i++) out[o++] = src[s + i]!;
      else {
        out.set(src.subarray(s, s + n), o);
        o += n;
      }
      s += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (kind === 1) {
      if (s >= end) throw invalid('truncated copy');
      n = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | src[s++]!;
    } else if (kind === 2) {
      if (s + 2 > end) throw invalid('truncated copy');
      n = 1 + (tag >>> 2);
      offset = src[s]! | (src[s + 1]! << 8);
      s += 2;
    } else {
      if (s + 4 > end) throw invalid('truncated copy');
      n = 1 + (tag >>> 2);
      offset = src[s]! + src[s + 1]! * 0x100 + src[s + 2]! * 0x10000 + src[s + 3]! * 0x1000000;
      s += 4;
    }
    if (offset === 0 || offset > o) throw invalid(`copy offset ${offset} outside the ${o} bytes written`);
    if (n > length - o) throw invalid('copy overruns the declared length');
    let from = o - offset;
    if (offset >= n && n >= SHORT_COPY) {
      out.copyWithin(o, from, from + n);
      o += n;
    } else {
      // Short or overlapping (repeating the last `offset` bytes): byte by byte, in order.
      for (let i = 0; i < n; i++) out[o++] = out[from++]!;
    }
  }
  if (o !== length) throw invalid(`decoded ${o} bytes, declared ${length}`);
  return out;
}
