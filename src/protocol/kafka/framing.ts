/**
 * Size-prefixed framing: every Kafka request and response is `int32 size` followed by `size` bytes.
 *
 * FrameDecoder accumulates socket chunks and yields whole frames (without the prefix). A frame that lies
 * inside one chunk is returned as a view of that chunk (no copy); only frames split across chunks are
 * concatenated. The size is checked against `maxFrameBytes` as soon as the prefix arrives, before any
 * buffering, so a hostile prefix cannot make the broker allocate (SB_ERR_FRAME_TOO_LARGE).
 */
import { StreamBusError } from '../../util/errors.ts';
import { assert } from '../../util/assert.ts';

/** Kafka's default socket.request.max.bytes (100 MiB). */
export const DEFAULT_MAX_FRAME_BYTES = 100 * 1024 * 1024;

export class FrameDecoder {
  private readonly maxFrameBytes: number;
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES) {
    assert(Number.isInteger(maxFrameBytes) && maxFrameBytes > 0 && maxFrameBytes <= 0x7fffffff, 'maxFrameBytes out of range');
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held that do not yet form a whole frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds bytes read from the connection. The decoder keeps a reference: the caller must not reuse `chunk`. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next whole frame, or null when more bytes are needed. Throws SB_ERR_FRAME_TOO_LARGE when the
   * prefix exceeds the maximum and SB_ERR_PROTOCOL when it is negative; the connection is then unusable.
   */
  next(): Buffer | null {
    if (this.buffered < 4) return null;
    let head = this.chunks[0]!;
    if (head.length < 4) {
      this.coalesce(4);
      head = this.chunks[0]!;
    }
    const size = head.readInt32BE(0);
    if (size < 0) throw new StreamBusError('SB_ERR_PROTOCOL', `negative frame size ${size}`);
    if (size > this.maxFrameBytes) {
      throw new StreamBusError('SB_ERR_FRAME_TOO_LARGE', `frame of ${size} bytes exceeds the maximum of ${this.maxFrameBytes}`);
    }
    if (this.buffered < 4 + size) return null;
    if (head.length < 4 + size) {
      this.coalesce(4 + size);
      head = this.chunks[0]!;
    }
    const frame = head.subarray(4, 4 + size);
    if (head.length === 4 + size) this.chunks.shift();
    else this.chunks[0] = head.subarray(4 + size);
    this.buffered -= 4 + size;
    return frame;
  }

  /** Merges leading chunks until the first holds at least `n` bytes (n <= buffered). */
  private coalesce(n: number): void {
    let have = 0;
    let count = 0;
    while (have < n) have += this.chunks[count++]!.length;
    const merged = Buffer.concat(this.chunks.slice(0, count), have);
    this.chunks.splice(0, count, merged);
  }
}

/** Prefixes a list of chunks with their total size as int32, for a vectored write. */
export function frameChunks(chunks: readonly Buffer[]): Buffer[] {
  let size = 0;
  for (const c of chunks) size += c.length;
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeInt32BE(size, 0);
  return [prefix, ...chunks];
}
