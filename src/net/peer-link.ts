/**
 * What this broker sends to one peer on one lane, and the connection that carries it. Messages queue
 * here until the next flush writes them as batch frames, in the order they were sent.
 *
 * Bounded: the bytes queued plus the bytes the socket has not yet handed to the kernel never exceed
 * `bytesMax`. A message that would go beyond is dropped and counted, and the link is congested (its peer
 * reported down) until it drains to half the cap. A link without an open connection drops whatever is
 * sent to it, also counted: the layer above retransmits, so nothing waits for a peer that may not return.
 */
import type { Lane } from '../protocol/cluster/handshake.ts';
import { batchFrames } from '../protocol/cluster/batch-frame.ts';
import type { MessageBytes } from '../protocol/cluster/gathered-pack.ts';
import { assert } from '../util/assert.ts';
import type { PeerConnection } from './peer-connection.ts';

export interface LinkCounters {
  messagesSent: number;
  messagesDropped: number;
  framesSent: number;
  bytesSent: number;
  messagesReceived: number;
  framesReceived: number;
  bytesReceived: number;
}

export class PeerLink {
  /** The open connection (its handshake completed), or null. */
  connection: PeerConnection | null = null;
  /** Our outbound connection still in its handshake (only on links this broker dials). */
  dialing: PeerConnection | null = null;
  /** Dial attempts that failed (never opened) since the last connection opened; sets the reconnect delay. */
  failures = 0;
  reconnectTimer: NodeJS.Timeout | null = null;
  /** When this side last dialed (performance.now()), and why the last failed attempt failed: for `peers still down`. */
  lastDialMs: number | null = null;
  lastFailure: string | null = null;
  congested = false;
  readonly counters: LinkCounters = { messagesSent: 0, messagesDropped: 0, framesSent: 0, bytesSent: 0, messagesReceived: 0, framesReceived: 0, bytesReceived: 0 };
  private queue: MessageBytes[] = [];
  private queuedBytes = 0;

  constructor(
    readonly peer: number,
    readonly lane: Lane,
    readonly bytesMax: number,
  ) {}

  /** Connected and taking messages. */
  get up(): boolean {
    return this.connection !== null && !this.congested;
  }

  /** Queued bytes plus bytes written and not yet taken by the kernel. */
  get pendingBytes(): number {
    return this.queuedBytes + (this.connection?.unsentBytes ?? 0);
  }

  /** Queues an encoded message for the next flush; false when it was dropped (no connection, or over the cap). */
  offer(message: MessageBytes): boolean {
    if (this.connection === null) {
      this.counters.messagesDropped++;
      return false;
    }
    if (this.pendingBytes + message.length > this.bytesMax) {
      this.counters.messagesDropped++;
      this.congested = true;
      return false;
    }
    this.queue.push(message);
    this.queuedBytes += message.length;
    return true;
  }

  /** Writes everything queued as batch frames, in order. */
  flush(maxFrameBytes: number): void {
    if (this.queue.length === 0 || this.connection === null) return;
    const { buffers, frameCount } = batchFrames(this.queue, maxFrameBytes);
    this.connection.write(buffers);
    this.counters.messagesSent += this.queue.length;
    this.counters.framesSent += frameCount;
    this.counters.bytesSent += this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
  }

  /** Ends congestion once pending bytes are down to half the cap; true when that changed the link's state. */
  relieve(): boolean {
    if (!this.congested || this.pendingBytes > this.bytesMax / 2) return false;
    this.congested = false;
    return true;
  }

  attach(connection: PeerConnection): void {
    assert(this.connection === null, 'a link has one open connection at a time');
    assert(this.queue.length === 0, 'nothing is queued on a link without a connection');
    this.connection = connection;
    this.congested = false;
  }

  /** The connection is gone: what was queued for it is dropped and counted. */
  detach(): void {
    this.counters.messagesDropped += this.queue.length;
    this.queue = [];
    this.queuedBytes = 0;
    this.connection = null;
    this.congested = false;
  }
}
