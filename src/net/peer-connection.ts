/**
 * One socket to another broker, from either end: splits the byte stream with the shared FrameDecoder,
 * decodes and checks each frame, and keeps the conversation in order (a hello, or a refusal from the
 * acceptor, comes first; then only batches). Whatever a peer sends that breaks the protocol (a frame
 * size out of bounds, a malformed frame, a frame out of turn) closes this connection with a log line
 * naming the peer and the reason; it is never thrown to the caller, so a peer cannot crash the broker.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../observability/logger.ts';
import { FrameDecoder } from '../protocol/frame-decoder.ts';
import type { Hello } from '../protocol/cluster/handshake.ts';
import { decodePeerFrame, type PeerFrame, type PeerMessage } from '../protocol/cluster/peer-frames.ts';
import { assert } from '../util/assert.ts';
import { isStreamBusError } from '../util/errors.ts';

export type ConnectionPhase = 'handshake' | 'open' | 'closed';

export type HelloFrame = Extract<PeerFrame, { kind: 'hello' | 'unsupported-hello' }>;

/** What a connection reports to its owner. Each is called synchronously from socket events. */
export interface PeerConnectionEvents {
  /** The peer's hello arrived (the owner answers it, or checks it against what it dialed). */
  hello(connection: PeerConnection, frame: HelloFrame): void;
  /** The acceptor refused our hello; the connection closes next. */
  refusal(connection: PeerConnection, code: string, text: string): void;
  batch(connection: PeerConnection, messages: readonly PeerMessage[], payloadBytes: number): void;
  /** The socket took all written bytes. */
  drain(connection: PeerConnection): void;
  /** The connection is done: destroyed by this side, or its socket closed. Called once, at the first of these. */
  closed(connection: PeerConnection): void;
}

export class PeerConnection {
  phase: ConnectionPhase = 'handshake';
  /** The peer's hello, once the handshake completed. */
  peer: Hello | null = null;
  readonly startedMs: number;
  lastReceivedMs: number;
  lastSentMs: number;
  /** The last socket error (a refused or reset connection), for log lines. */
  lastError: Error | null = null;
  /** Set when this side closed the connection because the peer broke the protocol. */
  brokeProtocol = false;
  /** Resolves once the socket is gone (a little after the `closed` event when this side destroyed it). */
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private ending = false;
  private readonly frames: FrameDecoder;

  constructor(
    private readonly socket: Socket,
    /** Accepted by our listener (true) or dialed by us (false). */
    readonly inbound: boolean,
    /** host:port, for log lines. */
    readonly remote: string,
    maxFrameBytes: number,
    private readonly events: PeerConnectionEvents,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    this.frames = new FrameDecoder({ maxFrameBytes, minFrameBytes: 1 });
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.startedMs = this.lastReceivedMs = this.lastSentMs = now();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.events.drain(this));
    socket.on('error', (err) => {
      this.lastError = err;
      this.log.debug({ err, remote: this.remote }, 'peer connection error');
    });
    socket.on('close', () => this.onClose());
  }

  /** Bytes written and not yet taken by the kernel. */
  get unsentBytes(): number {
    return this.socket.writableLength;
  }

  /** The handshake completed with `hello` from the peer; batches may flow both ways now. */
  open(hello: Hello): void {
    assert(this.phase === 'handshake', 'a connection opens once, from its handshake');
    this.phase = 'open';
    this.peer = hello;
  }

  /** Writes whole frames in one go (one writev when there are several buffers). */
  write(buffers: readonly Buffer[]): void {
    if (this.phase === 'closed' || this.ending) return;
    this.socket.cork();
    for (const buffer of buffers) this.socket.write(buffer);
    this.socket.uncork();
    this.lastSentMs = this.now();
  }

  /**
   * Closes after what was written has been sent. What arrives meanwhile is read and ignored: the socket
   * must keep reading to see the peer's end of the stream, which is what closes it.
   */
  end(): void {
    if (this.phase === 'closed') return;
    this.ending = true;
    this.socket.end();
  }

  /** Closes at once, dropping unsent bytes; `reason` goes to the debug log. */
  destroy(reason: string): void {
    if (this.phase === 'closed') return;
    this.log.debug({ remote: this.remote, peer: this.peer?.brokerId, reason }, 'closing peer connection');
    this.socket.destroy();
    this.finish();
  }

  private onData(chunk: Buffer): void {
    if (this.phase === 'closed' || this.ending) return;
    this.lastReceivedMs = this.now();
    this.frames.push(chunk);
    // The handlers called from dispatch may close this connection; then the rest of the bytes are left.
    while (this.isOpenOrOpening()) {
      let frame: PeerFrame;
      let payloadBytes: number;
      try {
        const payload = this.frames.next();
        if (payload === null) return;
        payloadBytes = payload.length;
        frame = decodePeerFrame(payload);
      } catch (err) {
        if (!isStreamBusError(err)) throw err;
        return this.violation(err.message, err.code);
      }
      this.dispatch(frame, payloadBytes);
    }
  }

  private isOpenOrOpening(): boolean {
    return this.phase !== 'closed';
  }

  private dispatch(frame: PeerFrame, payloadBytes: number): void {
    if (this.phase === 'handshake') {
      if (frame.kind === 'hello' || frame.kind === 'unsupported-hello') return this.events.hello(this, frame);
      if (frame.kind === 'refusal' && !this.inbound) {
        this.events.refusal(this, frame.refusal.code, frame.refusal.text);
        return this.destroy(`refused: ${frame.refusal.code}`);
      }
      return this.violation(`${frame.kind} frame before the handshake completed`, 'SB_ERR_PEER_PROTOCOL');
    }
    if (frame.kind === 'batch') return this.events.batch(this, frame.messages, payloadBytes);
    this.violation(`${frame.kind} frame after the handshake completed`, 'SB_ERR_PEER_PROTOCOL');
  }

  private violation(reason: string, code: string): void {
    this.brokeProtocol = true;
    this.log.warn({ remote: this.remote, peer: this.peer?.brokerId, lane: this.peer?.lane, code, reason }, 'peer broke the inter-broker protocol, closing connection');
    this.destroy(reason);
  }

  private onClose(): void {
    this.resolveClosed();
    this.finish();
  }

  /** Reports the end once, as soon as it is known, so the owner stops using the connection at once. */
  private finish(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.frames.clear();
    this.events.closed(this);
  }
}
