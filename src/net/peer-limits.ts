/**
 * The limits of the inter-broker transport, with their defaults and the relations between them that
 * must hold (checked when a transport is built). docs/transport.md explains each for operators.
 */
import { PEER_FRAME_BYTES_DEFAULT } from '../protocol/cluster/peer-frames.ts';
import { assert } from '../util/assert.ts';

export interface PeerLimits {
  /** Largest frame sent or accepted, prefix excluded. Both sides of a connection must agree. */
  readonly maxFrameBytes: number;
  /** Per peer: bytes queued plus bytes written and not yet taken by the kernel, on the control lane. */
  readonly controlLaneBytesMax: number;
  /** The same cap on the data lane. */
  readonly dataLaneBytesMax: number;
  /** A connection that has not completed its handshake within this time is closed. */
  readonly handshakeTimeoutMs: number;
  /** A connection that has sent nothing for this long sends a keepalive. */
  readonly keepaliveMs: number;
  /** A connection that has received nothing (not even a keepalive) for this long is closed as dead. */
  readonly idleTimeoutMs: number;
  /** Reconnect delays start here and double on each failure up to reconnectMaxMs (with jitter). */
  readonly reconnectBaseMs: number;
  readonly reconnectMaxMs: number;
  /** Inbound connections still in their handshake at once; more are closed on arrival. */
  readonly pendingHandshakesMax: number;
  /** stop() waits this long for connections to send what was queued before it closes them hard. */
  readonly closeTimeoutMs: number;
  /** Known peers down this long get a `peers still down` line with their lanes' state; then again at doubling gaps, up to five minutes. */
  readonly downReportMs: number;
}

export const DEFAULT_PEER_LIMITS: PeerLimits = {
  maxFrameBytes: PEER_FRAME_BYTES_DEFAULT,
  controlLaneBytesMax: PEER_FRAME_BYTES_DEFAULT,
  dataLaneBytesMax: 8 * PEER_FRAME_BYTES_DEFAULT,
  handshakeTimeoutMs: 5_000,
  keepaliveMs: 1_000,
  idleTimeoutMs: 6_000,
  reconnectBaseMs: 50,
  reconnectMaxMs: 1_000,
  pendingHandshakesMax: 64,
  closeTimeoutMs: 1_000,
  downReportMs: 10_000,
};

/** `overrides` over the defaults, checked. */
export function peerLimits(overrides: Partial<PeerLimits> = {}): PeerLimits {
  const limits = { ...DEFAULT_PEER_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) assert(Number.isInteger(value) && value > 0, `peer limit ${name} must be a positive integer`);
  // One message of the largest size must fit under either cap, or it could never be sent.
  assert(limits.controlLaneBytesMax >= limits.maxFrameBytes, 'controlLaneBytesMax must hold one maximum frame');
  assert(limits.dataLaneBytesMax >= limits.maxFrameBytes, 'dataLaneBytesMax must hold one maximum frame');
  // A peer must hear a keepalive well before it gives up on the silence.
  assert(limits.keepaliveMs * 2 <= limits.idleTimeoutMs, 'idleTimeoutMs must be at least twice keepaliveMs');
  assert(limits.reconnectBaseMs <= limits.reconnectMaxMs, 'reconnectBaseMs must not exceed reconnectMaxMs');
  return limits;
}
