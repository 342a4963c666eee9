/**
 * Splits a byte stream into size-prefixed frames: an int32 big-endian size, then that many bytes. It
 * knows nothing of what the frames hold, so the Kafka connections (broker and client side) and any other
 * size-prefixed protocol share it.
 *
 * Contract:
 * - push() keeps a reference to each chunk and never writes into it; the caller must not change or
 *   reuse a chunk after pushing it.
 * - next() hands out frames in order, without their prefix. A frame that lies inside one chunk is a view
 *   of that chunk, not a copy, so what is decoded from it (Produce records) points into the bytes read
 *   from the socket; a frame split across chunks is copied once, into a buffer of exactly its size.
 * - Work is linear in the bytes pushed however they are split: a split prefix is read in place, spent
 *   chunks are dropped by moving an index, and only a frame's own bytes are ever copied.
 * - A size is checked as soon as its four bytes are here, before any of the body is waited for, so a
 *   hostile prefix costs no memory. A size above `maxFrameBytes` throws FrameSizeError with
 *   SB_ERR_FRAME_TOO_LARGE, one below `minFrameBytes` (a negative one included) with SB_ERR_PROTOCOL.
 *   The stream is then out of step for good: the bad prefix stays, every later call throws again, and
 *   the owner closes the connection.
 */
import { assert } from '../util/assert.ts';
import { FrameSizeError } from '../util/errors.ts';

/** Bytes of the size prefix in front of every frame. */
export const FRAME_PREFIX_BYTES = 4;
/** The largest size an int32 prefix can carry. */
const FRAME_BYTES_LIMIT = 0x7fffffff;
/** Spent chunk slots at the front of the list are reclaimed once there are this many (and half the list). */
const SPENT_CHUNKS_MAX = 64;
const EMPTY = Buffer.alloc(0);

export interface FrameDecoderOptions {
  /** Largest frame accepted, without its prefix. */
  maxFrameBytes: number;
  /** Smallest frame accepted, without its prefix. 0 by default: an empty frame is handed out as one. */
  minFrameBytes?: number;
}

export class FrameDecoder {
  readonly maxFrameBytes: number;
  readonly minFrameBytes: number;
  /** Chunks pushed; the slots before `first` are spent. */
  private chunks: Buffer[] = [];
  private first = 0;
  /** Bytes of chunks[first] already handed out; always less than its length. */
  private offset = 0;
  private buffered = 0;

  constructor(options: FrameDecoderOptions) {
    const { maxFrameBytes, minFrameBytes = 0 } = options;
    assert(Number.isInteger(minFrameBytes) && minFrameBytes >= 0, 'minFrameBytes must be a non-negative integer');
    assert(Number.isInteger(maxFrameBytes) && maxFrameBytes > 0 && maxFrameBytes <= FRAME_BYTES_LIMIT, 'maxFrameBytes must be a positive int32');
    assert(minFrameBytes <= maxFrameBytes, 'minFrameBytes must not exceed maxFrameBytes');
    this.maxFrameBytes = maxFrameBytes;
    this.minFrameBytes = minFrameBytes;
  }

  /** Bytes pushed and not yet handed out in a frame (prefixes included). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The size of the next frame once all of it has arrived, else null; the frame stays buffered. Lets
   * an owner decide whether it can take the frame (backpressure) before taking it. Throws FrameSizeError
   * on a size outside the limits.
   */
  nextFrameBytes(): number | null {
    if (this.buffered < FRAME_PREFIX_BYTES) return null;
    const size = this.readPrefix();
    if (size < this.minFrameBytes || size > this.maxFrameBytes) throw new FrameSizeError(size, this.minFrameBytes, this.maxFrameBytes);
    return this.buffered - FRAME_PREFIX_BYTES >= size ? size : null;
  }

  /** Removes and returns the next whole frame, or null when more bytes are needed. Throws as nextFrameBytes(). */
  next(): Buffer | null {
    const size = this.nextFrameBytes();
    if (size === null) return null;
    const bufferedBefore = this.buffered;
    this.consume(FRAME_PREFIX_BYTES, null);
    const frame = this.take(size);
    assert(frame.length === size, 'a frame has the size its prefix announced');
    assert(this.buffered === bufferedBefore - FRAME_PREFIX_BYTES - size, 'the frame and its prefix left the buffer');
    return frame;
  }

  /** Drops everything buffered (the connection is gone). */
  clear(): void {
    this.chunks = [];
    this.first = 0;
    this.offset = 0;
    this.buffered = 0;
  }

  /** The int32 at the front of the buffer (at least four bytes are buffered), read in place even when split. */
  private readPrefix(): number {
    const head = this.chunks[this.first]!;
    if (head.length - this.offset >= FRAME_PREFIX_BYTES) return head.readInt32BE(this.offset);
    let value = 0;
    let index = this.first;
    let at = this.offset;
    for (let i = 0; i < FRAME_PREFIX_BYTES; i++) {
      // Chunks are never empty, so this moves at most one chunk per byte.
      if (at === this.chunks[index]!.length) {
        index++;
        at = 0;
      }
      value = (value << 8) | this.chunks[index]![at++]!;
    }
    return value | 0;
  }

  /** Removes `n` bytes from the front: a view when they lie in one chunk, else one copy. */
  private take(n: number): Buffer {
    const head = this.chunks[this.first];
    if (head !== undefined && head.length - this.offset >= n) {
      const view = head.subarray(this.offset, this.offset + n);
      this.consume(n, null);
      return view;
    }
    const copy = Buffer.allocUnsafe(n);
    this.consume(n, copy);
    return copy;
  }

  /** Removes `n` buffered bytes from the front, copying them into `target` when one is given. */
  private consume(n: number, target: Buffer | null): void {
    assert(n <= this.buffered, 'cannot consume more than is buffered');
    let done = 0;
    while (done < n) {
      const head = this.chunks[this.first]!;
      const step = Math.min(n - done, head.length - this.offset);
      if (target) head.copy(target, done, this.offset, this.offset + step);
      done += step;
      this.offset += step;
      if (this.offset === head.length) this.dropHead();
    }
    this.buffered -= n;
  }

  private dropHead(): void {
    this.chunks[this.first] = EMPTY; // let the spent chunk go, unless a frame still views it
    this.first++;
    this.offset = 0;
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first >= SPENT_CHUNKS_MAX && this.first * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}
