/**
 * Batch frames: many messages to one peer on one lane travel in one frame, so a burst of small messages
 * (heartbeats of many Raft groups, say) costs one write and one frame to parse. Each message is encoded
 * once when it is sent, which tells its exact size for the sender's byte accounting; a batch is then a
 * hand-written MessagePack header followed by the messages' bytes as they are. Small messages are
 * copied together into one buffer; large ones (appends, snapshot chunks) are handed to the socket by
 * reference, never copied, and so are the large binaries inside a message (gathered-pack.ts).
 */
import { assert } from '../../util/assert.ts';
import { StreamBusError } from '../../util/errors.ts';
import { FRAME_PREFIX_BYTES } from '../frame-decoder.ts';
import { GatheredBytes, packGathered, type MessageBytes } from './gathered-pack.ts';
import { FRAME_BATCH, PEER_MESSAGE_TYPE_MAX, type PeerMessage } from './peer-frames.ts';

/** Most messages in one frame, so that the list header is at most array 16 (3 bytes). */
export const BATCH_MESSAGES_MAX = 0xffff;
/** Payload bytes of a batch besides its messages, at most: fixarray(2), the kind, an array 16 header. */
const BATCH_HEADER_BYTES_MAX = 1 + 1 + 3;
/** Messages below this size are copied together with their neighbours rather than written one by one. */
const COPY_BYTES_MAX = 4096;

/** The largest encoded message a frame of `maxFrameBytes` can carry. */
export function maxMessageBytes(maxFrameBytes: number): number {
  return maxFrameBytes - BATCH_HEADER_BYTES_MAX;
}

/**
 * The bytes of `message` as a batch item. Throws StreamBusError SB_ERR_PEER_MESSAGE for a type outside
 * 0..255, a body that is not plain data, or an encoding larger than `maxBytes`.
 */
export function encodePeerMessage(message: PeerMessage, maxBytes: number): MessageBytes {
  const { type } = message;
  if (!Number.isInteger(type) || type < 0 || type > PEER_MESSAGE_TYPE_MAX) {
    throw new StreamBusError('SB_ERR_PEER_MESSAGE', `message type must be an integer 0..${PEER_MESSAGE_TYPE_MAX}, got ${type}`);
  }
  const bytes = packGathered([type, message.body]);
  if (bytes.length > maxBytes) throw new StreamBusError('SB_ERR_PEER_MESSAGE', `message of type ${type} takes ${bytes.length} bytes, more than the ${maxBytes} a frame can carry`);
  return bytes;
}

function header(count: number, messageBytes: number): Buffer {
  const listHeader = count < 16 ? 1 : 3;
  const payloadBytes = 2 + listHeader + messageBytes;
  const out = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + 2 + listHeader);
  out.writeInt32BE(payloadBytes, 0);
  out[4] = 0x92; // fixarray of 2: the kind, the list
  out[5] = FRAME_BATCH;
  if (count < 16) out[6] = 0x90 | count;
  else {
    out[6] = 0xdc; // array 16
    out.writeUInt16BE(count, 7);
  }
  return out;
}

/** A batch of no messages: sent on an idle connection so that the peer knows this side is alive. */
export const KEEPALIVE_FRAME: Buffer = header(0, 0);

export interface BatchFrames {
  /** What to write, in order; frames are whole and each within the limit. */
  readonly buffers: Buffer[];
  readonly frameCount: number;
}

/** Frames carrying `messages` (each from encodePeerMessage with the same limit) in order. */
export function batchFrames(messages: readonly MessageBytes[], maxFrameBytes: number): BatchFrames {
  const buffers: Buffer[] = [];
  let small: Buffer[] = [];
  const flushSmall = (): void => {
    if (small.length > 0) buffers.push(small.length === 1 ? small[0]! : Buffer.concat(small));
    small = [];
  };
  const add = (bytes: Buffer): void => {
    if (bytes.length < COPY_BYTES_MAX) small.push(bytes);
    else {
      flushSmall();
      buffers.push(bytes);
    }
  };
  let frameCount = 0;
  let from = 0;
  while (from < messages.length) {
    let to = from;
    let bytes = 0;
    while (to < messages.length && to - from < BATCH_MESSAGES_MAX && BATCH_HEADER_BYTES_MAX + bytes + messages[to]!.length <= maxFrameBytes) {
      bytes += messages[to]!.length;
      to++;
    }
    assert(to > from, 'every message fits in a frame (encodePeerMessage checked its size)');
    small.push(header(to - from, bytes));
    for (let i = from; i < to; i++) {
      const message = messages[i]!;
      if (message instanceof GatheredBytes) message.parts.forEach(add);
      else add(message);
    }
    frameCount++;
    from = to;
  }
  flushSmall();
  return { buffers, frameCount };
}
