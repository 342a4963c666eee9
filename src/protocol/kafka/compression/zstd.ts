/**
 * Zstandard for record batches. Decoding uses fzstd (pure JS, synchronous, handles frames without a
 * declared content size, as streaming encoders write them). Encoding uses the zstd library compiled to
 * WebAssembly (@hpcc-js/wasm-zstd, embedded in its JS), which must be instantiated once, asynchronously,
 * by loadZstd() before zstdEncode() is called. Node 20's zlib has no zstd.
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

/** The content size a zstd frame header declares, or -1 when absent; checked before decoding. */
function declaredSize(data: Buffer): number {
  if (data.length < 6 || data.readUInt32LE(0) !== MAGIC) return -1;
  const fhd = data[4]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const dictFlag = fhd & 3;
  let pos = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictFlag]!;
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  if (fcsBytes === 0 || pos + fcsBytes > data.length) return -1;
  switch (fcsBytes) {
    case 1:
      return data[pos]!;
    case 2:
      return data.readUInt16LE(pos) + 256;
    case 4:
      return data.readUInt32LE(pos);
    default:
      return Number(data.readBigUInt64LE(pos));
  }
}

export function zstdDecode(data: Buffer, maxBytes: number): Buffer {
  const declared = declaredSize(data);
  if (declared > maxBytes) throw new StreamBusError('SB_ERR_INVALID_BATCH', `zstd: frame declares ${declared} bytes, more than the ${maxBytes} allowed`);
  let out: Uint8Array;
  try {
    out = decompress(data);
  } catch (e) {
    throw new StreamBusError('SB_ERR_INVALID_BATCH', 'zstd: corrupt input', { cause: e });
  }
  if (out.length > maxBytes) throw new StreamBusError('SB_ERR_INVALID_BATCH', `zstd: ${out.length} bytes exceed the ${maxBytes} allowed`);
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}

export function zstdEncode(data: Buffer, level = 3): Buffer {
  assert(encoder !== undefined, 'zstd encoder used before loadCompressionCodecs() resolved');
  const out = encoder.compress(data, level);
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}
