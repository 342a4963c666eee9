/**
 * Size-prefixed framing: every Kafka request and response is `int32 size` followed by `size` bytes.
 * Incoming frames are split by the protocol-agnostic FrameDecoder (../frame-decoder.ts); this file
 * holds what is Kafka's own: the default maximum and the prefix for outgoing frames.
 */

/** Kafka's default socket.request.max.bytes (100 MiB). */
export const DEFAULT_MAX_FRAME_BYTES = 100 * 1024 * 1024;

/** Prefixes a list of chunks with their total size as int32, for a vectored write. */
export function frameChunks(chunks: readonly Buffer[]): Buffer[] {
  let size = 0;
  for (const c of chunks) size += c.length;
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeInt32BE(size, 0);
  return [prefix, ...chunks];
}
