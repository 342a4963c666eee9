/**
 * Record batch compression codecs (attributes bits 0-2): 0 none, 1 gzip, 2 snappy, 3 lz4 (frame format),
 * 4 zstd. Each decoder refuses to produce more than `maxBytes` (a decompression bomb costs the broker a
 * typed error, SB_ERR_INVALID_BATCH, not its memory); each failure of corrupt input is the same error.
 *
 * Call `await loadCompressionCodecs()` once at startup: the zstd encoder is WebAssembly that must be
 * instantiated asynchronously. Every decoder, and the other encoders, work without it.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import lz4 from 'lz4js';
import { lz4FrameDecode } from './lz4-frame.ts';
import { StreamBusError } from '../../../util/errors.ts';
import { snappyDecode, snappyEncode } from './snappy.ts';
import { loadZstd, zstdDecode, zstdEncode } from './zstd.ts';

export const CompressionCodec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
export type CompressionCodecId = (typeof CompressionCodec)[keyof typeof CompressionCodec];

/** Default cap on one decompressed batch (64 MiB). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export async function loadCompressionCodecs(): Promise<void> {
  await loadZstd();
}

function invalid(codec: string, cause: unknown): StreamBusError {
  return new StreamBusError('SB_ERR_INVALID_BATCH', `${codec}: corrupt input`, { cause });
}

/** The decompressed form of `data` compressed with `codec`. Codec 0 returns `data` itself. */
export function decompress(codec: number, data: Buffer, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  switch (codec) {
    case 0:
      return data;
    case 1:
      try {
        return gunzipSync(data, { maxOutputLength: maxBytes });
      } catch (e) {
        throw invalid('gzip', e);
      }
    case 2:
      return snappyDecode(data, maxBytes);
    case 3:
      return lz4FrameDecode(data, maxBytes);
    case 4:
      return zstdDecode(data, maxBytes);
    default:
      throw new StreamBusError('SB_ERR_INVALID_BATCH', `unknown compression codec ${codec}`);
  }
}

/** `data` compressed with `codec`. zstd needs loadCompressionCodecs() to have resolved. */
export function compress(codec: number, data: Buffer): Buffer {
  switch (codec) {
    case 0:
      return data;
    case 1:
      return gzipSync(data);
    case 2:
      return snappyEncode(data);
    case 3:
      {
        const out = lz4.compress(data);
        return Buffer.from(out.buffer, out.byteOffset, out.length);
      }
    case 4:
      return zstdEncode(data);
    default:
      throw new StreamBusError('SB_ERR_INVALID_BATCH', `unknown compression codec ${codec}`);
  }
}
