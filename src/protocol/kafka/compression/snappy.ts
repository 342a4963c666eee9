/**
 * Snappy for record batches. Kafka's Java client writes the xerial framing (snappy-java's stream format:
 * a 16-byte header, then blocks of int32 length + raw snappy); librdkafka writes raw snappy. We decode
 * both and encode the xerial framing, which every client reads. Blocks decode with our own bounds-checked
 * decoder (snappy-raw.ts, which says why) and encode with snappyjs.
 *
 * xerial header: 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00, int32 version, int32 compatible version.
 */
import snappy from 'snappyjs';
import { snappyRawDecode, snappyRawHeader } from './snappy-raw.ts';
import { StreamBusError } from '../../../util/errors.ts';

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
/** snappy-java's default block size. */
const BLOCK_BYTES = 32 * 1024;
const MAX_EXPANSION = 24;

function invalid(message: string, cause?: unknown): StreamBusError {
  return new StreamBusError('SB_ERR_INVALID_BATCH', `snappy: ${message}`, { cause });
}

function rawDecompress(block: Buffer, budget: number): Buffer {
  const n = snappyRawHeader(block).length;
  if (n > budget) throw invalid(`block declares ${n} bytes, more than the ${budget} allowed`);
  // No snappy element expands more than about 21x (a 3-byte copy yields at most 64 bytes), so a larger
  // declared length is a lie; refusing it early spares the output allocation.
  if (n > block.length * MAX_EXPANSION + 64) throw invalid(`block of ${block.length} bytes cannot expand to ${n}`);
  return snappyRawDecode(block);
}

export function snappyDecode(data: Buffer, maxBytes: number): Buffer {
  if (data.length < XERIAL_HEADER_BYTES || !data.subarray(0, 8).equals(XERIAL_MAGIC)) return rawDecompress(data, maxBytes);
  const parts: Buffer[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_BYTES;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw invalid('truncated block length');
    const size = data.readInt32BE(pos);
    pos += 4;
    if (size < 0 || size > data.length - pos) throw invalid(`block of ${size} bytes overruns the input`);
    const out = rawDecompress(data.subarray(pos, pos + size), maxBytes - total);
    parts.push(out);
    total += out.length;
    pos += size;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

export function snappyEncode(data: Buffer): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  const parts: Buffer[] = [header];
  for (let pos = 0; pos < data.length; pos += BLOCK_BYTES) {
    const raw = snappy.compress(data.subarray(pos, Math.min(data.length, pos + BLOCK_BYTES)));
    const block = Buffer.from(raw.buffer, raw.byteOffset, raw.length);
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}
