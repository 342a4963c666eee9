/** What the inter-broker transport reports about its peers: state, bytes pending and counters. */
import type { Lane } from '../protocol/cluster/handshake.ts';
import type { LinkCounters, PeerLink } from './peer-link.ts';

export type PeerState = 'up' | 'down';

export interface LaneInfo extends Readonly<LinkCounters> {
  readonly connected: boolean;
  readonly congested: boolean;
  /** Queued bytes plus bytes written and not yet taken by the kernel; at most bytesMax. */
  readonly bytesPending: number;
  readonly bytesMax: number;
  /** The peer's incarnation on this lane's open connection. */
  readonly incarnationId: string | null;
}

export interface PeerInfo {
  readonly id: number;
  readonly state: PeerState;
  readonly lanes: Readonly<Record<Lane, LaneInfo>>;
}

/** Totals over every peer and lane, plus what belongs to no peer. */
export interface TransportStats {
  /** Batch frames carrying at least one message (keepalives are counted apart). */
  readonly framesSent: number;
  readonly framesReceived: number;
  readonly messagesSent: number;
  readonly messagesReceived: number;
  readonly messagesDropped: number;
  readonly keepalivesSent: number;
  /** Inbound handshakes this broker refused. */
  readonly handshakesRefused: number;
  /** Connections closed because the peer broke the protocol. */
  readonly protocolErrors: number;
}

export function laneInfo(link: PeerLink): LaneInfo {
  return {
    ...link.counters,
    connected: link.connection !== null,
    congested: link.congested,
    bytesPending: link.pendingBytes,
    bytesMax: link.bytesMax,
    incarnationId: link.connection?.peer?.incarnationId ?? null,
  };
}
