/**
 * Frames between brokers on server.grpcPort. Byte layout:
 *
 *   frame   := size (int32 big-endian) payload        size = payload bytes, 1 .. maxFrameBytes
 *   payload := one MessagePack array of plain data (plain-msgpack.ts) whose first item is the kind:
 *     [1, version, cluster, brokerId, incarnationId, lane]   hello: the first frame from each side
 *     [1, version, ...]                                     a hello of another version: only its version is read
 *     [2, code, text]                                       refusal: the acceptor's answer instead of a hello
 *     [3, [[type, body], ...]]                              batch: messages in send order; empty = keepalive
 *
 * decodePeerFrame checks every field's type and range and throws StreamBusError SB_ERR_PEER_PROTOCOL
 * with a message naming what was wrong; message bodies are opaque plain data.
 */
import { FRAME_PREFIX_BYTES } from '../frame-decoder.ts';
import { StreamBusError } from '../../util/errors.ts';
import { packPlain, unpackPlain } from './plain-codec.ts';
import { CLUSTER_TEXT_MAX, INCARNATION_TEXT_MAX, LANES, PEER_PROTOCOL_VERSION, type Hello, type Lane, type Refusal } from './handshake.ts';

export const FRAME_HELLO = 1;
export const FRAME_REFUSAL = 2;
export const FRAME_BATCH = 3;

/** The default largest frame, prefix excluded; both sides of a connection must use the same. */
export const PEER_FRAME_BYTES_DEFAULT = 8 * 1024 * 1024;
/** Message types are small tags, 0..255, chosen by the layer above. */
export const PEER_MESSAGE_TYPE_MAX = 255;
const REFUSAL_CODE_MAX = 64;
const REFUSAL_TEXT_MAX = 1024;
const VERSION_MAX = 0xffff;
const BROKER_ID_MAX = 0x7fffffff;

/** One message between brokers: a small type tag and an opaque body of plain data. */
export interface PeerMessage {
  readonly type: number;
  readonly body: unknown;
}

export type PeerFrame =
  | { readonly kind: 'hello'; readonly hello: Hello }
  | { readonly kind: 'unsupported-hello'; readonly version: number }
  | { readonly kind: 'refusal'; readonly refusal: { readonly code: string; readonly text: string } }
  | { readonly kind: 'batch'; readonly messages: readonly PeerMessage[] };

/** `payload` with its int32 size prefix. */
export function prefixed(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + payload.length);
  frame.writeInt32BE(payload.length, 0);
  payload.copy(frame, FRAME_PREFIX_BYTES);
  return frame;
}

export function encodeHello(hello: Hello): Buffer {
  return prefixed(packPlain([FRAME_HELLO, hello.version, hello.cluster, hello.brokerId, hello.incarnationId, hello.lane]));
}

export function encodeRefusal(refusal: Refusal): Buffer {
  return prefixed(packPlain([FRAME_REFUSAL, refusal.code, refusal.text.slice(0, REFUSAL_TEXT_MAX)]));
}

function fail(what: string): never {
  throw new StreamBusError('SB_ERR_PEER_PROTOCOL', what);
}

function show(value: unknown): string {
  const text = typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

function integer(value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(`${what} must be an integer ${min}..${max}, got ${show(value)}`);
  return value;
}

function text(value: unknown, minLength: number, maxLength: number, what: string): string {
  if (typeof value !== 'string' || value.length < minLength || value.length > maxLength) fail(`${what} must be a string of ${minLength}..${maxLength} characters, got ${show(value)}`);
  return value;
}

function items(value: unknown, count: number, what: string): unknown[] {
  if (!Array.isArray(value) || value.length !== count) fail(`${what} must be an array of ${count} items, got ${show(value)}`);
  return value;
}

/** The frame in `payload` (a frame without its prefix), checked field by field. */
export function decodePeerFrame(payload: Buffer): PeerFrame {
  const value = unpackPlain(payload);
  if (!Array.isArray(value) || value.length === 0) fail(`frame must be a non-empty array, got ${show(value)}`);
  const kind = value[0];
  if (kind === FRAME_HELLO) {
    const version = integer(value[1], 0, VERSION_MAX, 'hello version');
    if (version !== PEER_PROTOCOL_VERSION) return { kind: 'unsupported-hello', version };
    const [, , cluster, brokerId, incarnationId, lane] = items(value, 6, 'hello');
    if (!LANES.includes(lane as Lane)) fail(`hello lane must be one of ${LANES.join(', ')}, got ${show(lane)}`);
    return {
      kind: 'hello',
      hello: {
        version,
        cluster: text(cluster, 1, CLUSTER_TEXT_MAX, 'hello cluster'),
        brokerId: integer(brokerId, 0, BROKER_ID_MAX, 'hello brokerId'),
        incarnationId: text(incarnationId, 1, INCARNATION_TEXT_MAX, 'hello incarnationId'),
        lane: lane as Lane,
      },
    };
  }
  if (kind === FRAME_REFUSAL) {
    const [, code, reason] = items(value, 3, 'refusal');
    return { kind: 'refusal', refusal: { code: text(code, 1, REFUSAL_CODE_MAX, 'refusal code'), text: text(reason, 0, REFUSAL_TEXT_MAX, 'refusal text') } };
  }
  if (kind === FRAME_BATCH) {
    const [, list] = items(value, 2, 'batch');
    if (!Array.isArray(list)) fail(`batch messages must be an array, got ${show(list)}`);
    const messages: PeerMessage[] = new Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const [type, body] = items(list[i], 2, `batch message ${i}`);
      messages[i] = { type: integer(type, 0, PEER_MESSAGE_TYPE_MAX, `batch message ${i} type`), body };
    }
    return { kind: 'batch', messages };
  }
  return fail(`unknown frame kind ${show(kind)}`);
}
