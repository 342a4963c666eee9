/**
 * MessagePack for a peer message that carries large binaries (Raft entries holding record batches,
 * snapshot chunks), written as a list of buffers: the binaries themselves are referenced, not copied.
 * msgpackr copies every binary into its output buffer, and grows that buffer to four times a large
 * message, so each 100 KiB batch a leader replicated cost two copies and about half a megabyte of
 * short-lived buffers per follower pair, which drove the garbage collector's full collections.
 *
 * The bytes are ordinary MessagePack, the same values the receiver decodes with plain-codec.ts (which
 * is unchanged): arrays and small integers are written here, every other value (strings, maps, floats,
 * large integers, small binaries) by msgpackr through packPlain, so its checks still apply.
 */
import { packPlain } from './plain-codec.ts';

/** Binaries at least this large travel by reference; smaller ones are copied with their neighbours. */
export const GATHER_BINARY_MIN_BYTES = 4096;
/** Deepest array nesting walked; deeper values are left to msgpackr whole. */
const DEPTH_MAX = 16;

/** A message's MessagePack bytes in several buffers, written one after another. `length` is the total. */
export class GatheredBytes {
  constructor(
    readonly parts: readonly Buffer[],
    readonly length: number,
  ) {}
}

/** A peer message's bytes: one buffer, or several. Both have `length` in bytes. */
export type MessageBytes = Buffer | GatheredBytes;

/** The bytes of `value`: gathered when it holds a large binary inside arrays, else msgpackr's one buffer. */
export function packGathered(value: unknown): MessageBytes {
  if (!holdsLargeBinary(value, 0)) return packPlain(value);
  const writer = new GatherWriter();
  writer.write(value, 0);
  return writer.finish();
}

function holdsLargeBinary(value: unknown, depth: number): boolean {
  if (value instanceof Uint8Array) return value.byteLength >= GATHER_BINARY_MIN_BYTES;
  if (!Array.isArray(value) || depth >= DEPTH_MAX) return false;
  for (let i = 0; i < value.length; i++) if (holdsLargeBinary(value[i], depth + 1)) return true;
  return false;
}

class GatherWriter {
  private readonly parts: Buffer[] = [];
  private total = 0;
  /** Small bytes not yet cut into a part. */
  private scratch = Buffer.allocUnsafe(256);
  private used = 0;

  write(value: unknown, depth: number): void {
    if (Array.isArray(value) && depth < DEPTH_MAX) {
      this.arrayHeader(value.length);
      for (let i = 0; i < value.length; i++) this.write(value[i], depth + 1);
    } else if (value instanceof Uint8Array && value.byteLength >= GATHER_BINARY_MIN_BYTES) {
      this.binaryHeader(value.byteLength);
      this.cut();
      this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    } else if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff) {
      this.unsigned(value);
    } else if (value === null) {
      this.byte(0xc0);
    } else if (value === false || value === true) {
      this.byte(value ? 0xc3 : 0xc2);
    } else {
      this.copy(packPlain(value));
    }
  }

  finish(): GatheredBytes {
    this.cut();
    return new GatheredBytes(this.parts, this.total);
  }

  private arrayHeader(count: number): void {
    if (count < 16) this.byte(0x90 | count);
    else if (count <= 0xffff) this.tagged(0xdc, count, 2); // array 16
    else this.tagged(0xdd, count, 4); // array 32
  }

  /** Only large binaries come here: bin 16 or bin 32. */
  private binaryHeader(bytes: number): void {
    if (bytes <= 0xffff) this.tagged(0xc5, bytes, 2);
    else this.tagged(0xc6, bytes, 4);
  }

  private unsigned(n: number): void {
    if (n < 0x80) this.byte(n); // positive fixint
    else if (n < 0x100) this.tagged(0xcc, n, 1);
    else if (n < 0x10000) this.tagged(0xcd, n, 2);
    else this.tagged(0xce, n, 4);
  }

  /** A one-byte tag and an unsigned big-endian value of `size` bytes. */
  private tagged(tag: number, value: number, size: 1 | 2 | 4): void {
    this.room(1 + size);
    this.scratch[this.used] = tag;
    this.scratch.writeUIntBE(value, this.used + 1, size);
    this.used += 1 + size;
  }

  private byte(b: number): void {
    this.room(1);
    this.scratch[this.used++] = b;
  }

  private copy(bytes: Buffer): void {
    this.room(bytes.length);
    bytes.copy(this.scratch, this.used);
    this.used += bytes.length;
  }

  private room(bytes: number): void {
    if (this.used + bytes <= this.scratch.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.used + bytes));
    this.scratch.copy(grown, 0, 0, this.used);
    this.scratch = grown;
  }

  /** Ends the current part of small bytes; the scratch buffer is never written again after. */
  private cut(): void {
    if (this.used === 0) return;
    this.push(this.scratch.subarray(0, this.used));
    this.scratch = this.scratch.subarray(this.used);
    this.used = 0;
  }

  private push(part: Buffer): void {
    this.parts.push(part);
    this.total += part.length;
  }
}
