/**
 * LZ4 frame decoder (the format Kafka uses for codec 3), written against the LZ4 frame and block format
 * specifications with a bounds check on every read and write.
 *
 * Why hand-written: the decoders on npm either skip bounds checks (garbage in, silent garbage out, and
 * allocations sized by the header) or run as WebAssembly whose traps on corrupt input leak its heap until
 * the module fails for valid input too; a broker decompresses hostile bytes, so neither will do.
 * Encoding, which only sees our own data, uses the lz4js library.
 *
 * Frame: magic 0x184D2204 (LE), FLG (version 01, block checksum bit 4, content size bit 3, content
 * checksum bit 2, dictionary id bit 0), BD (block maximum size in bits 6-4), optional content size (8),
 * optional dictionary id (4), header checksum (1); blocks of `uint32 LE size` (top bit = stored
 * uncompressed) with an optional 4-byte checksum each; a zero size ends the frame, then an optional
 * 4-byte content checksum. Checksums are skipped, not verified: the batch CRC-32C already covers these bytes.
 */
import { StreamBusError } from '../../../util/errors.ts';

const MAGIC = 0x184d2204;
const BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];
const MIN_MATCH = 4;
const SHORT_COPY = 32;

function invalid(message: string): StreamBusError {
  return new StreamBusError('SB_ERR_INVALID_BATCH', `lz4: ${message}`);
}

class Output {
  buf: Buffer;
  pos = 0;
  constructor(initial: number, private readonly maxBytes: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, Math.min(initial, maxBytes)));
  }
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    if (need > this.maxBytes) throw invalid(`output exceeds the ${this.maxBytes} bytes allowed`);
    const next = Buffer.allocUnsafe(Math.min(this.maxBytes, Math.max(need, this.buf.length * 2)));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}

function decodeBlock(src: Buffer, s: number, sEnd: number, out: Output): void {
  while (s < sEnd) {
    const token = src[s++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (s >= sEnd) throw invalid('truncated literal length');
        b = src[s++]!;
        literals += b;
      } while (b === 255);
    }
    if (literals > sEnd - s) throw invalid('literals overrun the block');
    out.ensure(literals);
    // Short runs copy faster in a loop than through a native call.
    if (literals < SHORT_COPY) {
      const buf = out.buf;
      let o = out.pos;
      for (let i = 0; i < literals; i++) buf[o++] = src[s + i]!;
    } else src.copy(out.buf, out.pos, s, s + literals);
    out.pos += literals;
    s += literals;
    if (s === sEnd) return; // the last sequence carries literals only
    if (s + 2 > sEnd) throw invalid('truncated match offset');
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    if (offset === 0 || offset > out.pos) throw invalid(`match offset ${offset} before the start of the output`);
    let length = token & 15;
    if (length === 15) {
      let b: number;
      do {
        if (s >= sEnd) throw invalid('truncated match length');
        b = src[s++]!;
        length += b;
      } while (b === 255);
    }
    length += MIN_MATCH;
    out.ensure(length);
    const buf = out.buf;
    let from = out.pos - offset;
    if (offset >= length && length >= SHORT_COPY) {
      buf.copyWithin(out.pos, from, from + length);
      out.pos += length;
    } else {
      // Short or overlapping (repeating the last `offset` bytes): byte by byte, in order.
      let o = out.pos;
      for (let i = 0; i < length; i++) buf[o++] = buf[from++]!;
      out.pos = o;
    }
  }
}

/** Decodes one or more concatenated LZ4 frames; throws SB_ERR_INVALID_BATCH on any malformation. */
export function lz4FrameDecode(src: Buffer, maxBytes: number): Buffer {
  const out = new Output(src.length * 4, maxBytes);
  let s = 0;
  while (s < src.length) {
    if (s + 7 > src.length) throw invalid('truncated frame header');
    if (src.readUInt32LE(s) !== MAGIC) throw invalid('bad magic number');
    const flg = src[s + 4]!;
    const bd = src[s + 5]!;
    s += 6;
    if (flg >> 6 !== 1) throw invalid(`unsupported frame version ${flg >> 6}`);
    if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) throw invalid('reserved bits set');
    const blockChecksum = (flg & 0x10) !== 0;
    const contentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const dictId = (flg & 0x01) !== 0;
    const blockMax = BLOCK_MAX[(bd >> 4) & 7]!;
    if (blockMax === 0) throw invalid('bad block maximum size');
    if (dictId) throw invalid('dictionaries are not supported');
    if (contentSize) {
      if (s + 8 > src.length) throw invalid('truncated content size');
      const declared = src.readBigUInt64LE(s);
      if (declared > BigInt(maxBytes - out.pos)) throw invalid(`frame declares ${declared} bytes, more than allowed`);
      s += 8;
    }
    s += 1; // header checksum
    for (;;) {
      if (s + 4 > src.length) throw invalid('truncated block size');
      const word = src.readUInt32LE(s);
      s += 4;
      if (word === 0) break;
      const stored = (word & 0x80000000) !== 0;
      const size = word & 0x7fffffff;
      if (size > blockMax) throw invalid(`block of ${size} bytes exceeds the frame's maximum ${blockMax}`);
      if (size > src.length - s) throw invalid('block overruns the input');
      if (stored) {
        out.ensure(size);
        src.copy(out.buf, out.pos, s, s + size);
        out.pos += size;
      } else {
        decodeBlock(src, s, s + size, out);
      }
      s += size;
      if (blockChecksum) s += 4;
    }
    if (contentChecksum) s += 4;
    if (s > src.length) throw invalid('truncated checksum');
  }
  return out.buf.subarray(0, out.pos);
}
