/**
 * The inter-broker transport as the multi-raft host sees it. src/net/peer-transport.ts satisfies it
 * structurally; replication may not import net (docs/architecture.md), and tests hand in an
 * in-memory channel instead.
 */

export type PeerLane = 'control' | 'data';
export type PeerLinkState = 'up' | 'down';

/** One transport message: a small type tag (0..255) and a body of plain data (plain-codec.ts). */
export interface ChannelMessage {
  readonly type: number;
  readonly body: unknown;
}

export interface PeerChannel {
  /**
   * Queues `message` for broker `to` on `lane`, best effort. Returns false when it was dropped (lane
   * over its byte cap, peer not connected, channel stopped). Throws StreamBusError SB_ERR_PEER_MESSAGE
   * for a message that cannot be sent at all (larger than maxMessageBytes once encoded). `to` must be
   * another broker the channel knows; anything else is a programmer error. Messages on one lane arrive
   * in the order sent; the lanes are independent.
   */
  send(to: number, lane: PeerLane, message: ChannelMessage): boolean;
  /** Every message received, with the broker it came from. Handlers run synchronously and must not throw. */
  onMessage(handler: (from: number, message: ChannelMessage) => void): void;
  /** Transitions of a peer between reachable and not; never the initial 'down'. */
  /**
   * Transitions of a peer between reachable and not; on 'up', whether it is another process than when
   * last up (unknown counts as restarted).
   */
  onPeerState(handler: (peer: number, state: PeerLinkState, restarted?: boolean) => void): void;
  /** The largest encoded message send() accepts. */
  readonly maxMessageBytes: number;
}
