/**
 * Zstandard for record batches. Decoding uses fzstd (pure JS, synchronous, handles frames without a
 * declared content size, as streaming encoders write them). Encoding uses the zstd library compiled to
 * WebAssembly (@hpcc-js/wasm-zstd, embedded in its JS), which must be instantiated once, asynchronously,
 * by loadZstd() before zstdEncode() is called. Node 20's zlib has no zstd. Before fzstd sees a frame,
 * zstdDecodedBound checks its headers, because fzstd sizes its buffers from them: a fuzzed 197-byte frame
 * made it allocate and zero for over a second.
 */
import { decompress } from 'fzstd';
import { Zstd } from '@hpcc-js/wasm-zstd';
import { StreamBusError } from '../../../util/errors.ts';
import { assert } from '../../../util/assert.ts';

let encoder: Zstd | undefined;

export async function loadZstd(): Promise<void> {
  encoder ??= await Zstd.load();
}

export function zstdEncoderLoaded(): boolean {
  return encoder !== undefined;
}

const MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_MAX_BYTES = 128 * 1024;
/** Windows up to this size are accepted whatever the output cap (zstd levels 1-19 use at most 8 MiB). */
const WINDOW_ALWAYS_OK_BYTES = 8 * 1024 * 1024;

function invalid(message: string, cause?: unknown): StreamBusError {
  return new StreamBusError('SB_ERR_INVALID_BATCH', `zstd: ${message}`, { cause });
}

/**
 * Walks the frame and block headers (without decoding) and returns an upper bound on the decompressed
 * size: the declared content size where present, else the sum over blocks (raw and RLE blocks state
 * their size, a compressed block regenerates at most min(window, 128 KiB)). Refuses windows and bounds
 * above the cap, so that neither the decoder's window nor its output can be inflated by a header.
 */
export function zstdDecodedBound(data: Buffer, maxBytes: number): number {
  const windowMax = Math.max(maxBytes, WINDOW_ALWAYS_OK_BYTES);
  let total = 0;
  let pos = 0;
  while (pos < data.length) {
    if (pos + 8 > data.length) throw invalid('truncated frame header');
    const magic = data.readUInt32LE(pos);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      pos += 8 + data.readUInt32LE(pos + 4);
      continue;
    }
    if (magic !== MAGIC) throw invalid('bad magic number');
    const fhd = data[pos + 4]!;
    if ((fhd & 0x08) !== 0) throw invalid('reserved frame header bit set');
    const fcsFlag = fhd >> 6;
    const singleSegment = (fhd & 0x20) !== 0;
    const checksum = (fhd & 0x04) !== 0;
    let p = pos + 5;
    let window = 0;
    if (!singleSegment) {
      const wd = data[p++]!;
      const base = 2 ** ((wd >> 3) + 10);
      window = base + (base / 8) * (wd & 7);
    }
    p += [0, 1, 2, 4][fhd & 3]!;
    const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
    if (p + fcsBytes > data.length) throw invalid('truncated frame header');
    let contentSize = -1;
    if (fcsBytes === 1) contentSize = data[p]!;
    else if (fcsBytes === 2) contentSize = data.readUInt16LE(p) + 256;
    else if (fcsBytes === 4) contentSize = data.readUInt32LE(p);
    else if (fcsBytes === 8) contentSize = Number(data.readBigUInt64LE(p));
    p += fcsBytes;
    if (singleSegment) window = contentSize;
    if (window > windowMax) throw invalid(`window of ${window} bytes exceeds ${windowMax}`);
    if (contentSize > maxBytes - total) throw invalid(`frame declares ${contentSize} bytes, more than the ${maxBytes} allowed`);
    const blockMax = Math.min(window, BLOCK_MAX_BYTES);
    let bound = 0;
    for (;;) {
      if (p + 3 > data.length) throw invalid('truncated block header');
      const header = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16);
      p += 3;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 3) throw invalid('reserved block type');
      if (size > blockMax) throw invalid(`block of ${size} bytes exceeds the maximum ${blockMax}`);
      bound += type === 2 ? blockMax : size;
      p += type === 1 ? 1 : size;
      if (p > data.length) throw invalid('block overruns the input');
      if (bound > maxBytes - total) throw invalid(`output could exceed the ${maxBytes} bytes allowed`);
      if (header & 1) break;
    }
    if (checksum) p += 4;
    if (p > data.length) throw invalid('truncated checksum');
    total += contentSize >= 0 ? contentSize : bound;
    pos = p;
  }
  return total;
}

export function zstdDecode(data: Buffer, maxBytes: number): Buffer {
  zstdDecodedBound(data, maxBytes);
  let out: Uint8Array;
  try {
    out = decompress(data);
  } catch (e) {
    throw invalid('corrupt input', e);
  }
  if (out.length > maxBytes) throw invalid(`${out.length} bytes exceed the ${maxBytes} allowed`);
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}

export function zstdEncode(data: Buffer, level = 3): Buffer {
  assert(encoder !== undefined, 'zstd encoder used before loadCompressionCodecs() resolved');
  const out = encoder.compress(data, level);
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}
