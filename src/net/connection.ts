/**
 * One client connection: splits the byte stream into size-prefixed frames, hands each to the request
 * handler, and writes responses strictly in request order (Kafka semantics; a long-polling Fetch holds
 * back later responses on the same connection, and clients are built for that).
 *
 * Limits (backpressure): at most `maxInFlight` requests are being handled at once and at most
 * `maxBufferedBytes` are held, counting request bytes and the response bytes the socket has not sent
 * yet; beyond either the socket is paused until responses complete or the socket drains, so a slow or
 * hostile client (one that never reads its responses) cannot exhaust memory. A frame larger than
 * `maxFrameBytes` or with a negative size closes the connection with a log line, as Kafka does.
 */
import { clientIp } from '../util/ip-address.ts';
import type { Socket } from 'node:net';
import type { Logger } from '../observability/logger.ts';
import { FrameDecoder } from '../protocol/frame-decoder.ts';
import { assert } from '../util/assert.ts';
import { FrameSizeError } from '../util/errors.ts';

/** Answers one request frame (header + body, without the size prefix). Null means "send no response" (acks=0). */
export interface FrameHandler {
  handle(frame: Buffer, connection: ConnectionInfo): Promise<Buffer[] | null>;
}

export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  /** The client's IP address alone (an IPv4 client on a dual-stack socket as plain IPv4), as ACL hosts name it. */
  readonly remoteHost: string;
  /** Free-form per-connection state owned by the handler layer (SASL state, client id, ...). */
  state: Map<string, unknown>;
  /** Asks the connection to close after the responses queued so far have been written. */
  closeAfterFlush(reason: string): void;
  /**
   * Reads no further request for `ms` (a client over its quota, KIP-219); responses already due still
   * go out. A longer throttle replaces a shorter one in progress.
   */
  throttle(ms: number): void;
  /** Calls `listener` once when the connection has closed (at once if it has already), e.g. to free what it held. */
  onClose(listener: () => void): void;
}

export interface ConnectionLimits {
  maxFrameBytes: number;
  maxInFlight: number;
  maxBufferedBytes: number;
}

interface Pending {
  done: boolean;
  response: Buffer[] | null;
  bytes: number;
}

export class Connection implements ConnectionInfo {
  readonly state = new Map<string, unknown>();
  readonly remoteAddress: string;
  readonly remoteHost: string;
  private readonly frames: FrameDecoder;
  private queue: Pending[] = [];
  private inFlightBytes = 0;
  private paused = false;
  /** Throttled (a quota): no request is read until `mutedUntil` (performance.now()). */
  private muted = false;
  private mutedUntil = 0;
  private muteTimer: NodeJS.Timeout | null = null;
  private closing = false;
  private closed = false;
  private drainWaiters: (() => void)[] = [];
  private closeListeners: (() => void)[] = [];

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly handler: FrameHandler,
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
  ) {
    assert(limits.maxInFlight >= 1, 'maxInFlight must be at least 1');
    assert(limits.maxBufferedBytes >= limits.maxFrameBytes, 'maxBufferedBytes must hold one maximum frame');
    this.frames = new FrameDecoder({ maxFrameBytes: limits.maxFrameBytes });
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.remoteHost = clientIp(socket.remoteAddress);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // Responses the client has not read yet count against maxBufferedBytes: go on reading once they left.
    socket.on('drain', () => {
      if (this.paused && !this.closing) this.resume();
    });
    socket.on('error', (err) => this.log.debug({ err, conn: this.id }, 'connection error'));
    socket.on('close', () => this.socketClosed());
  }

  get idle(): boolean {
    return this.queue.length === 0;
  }

  /** Stops reading new requests; resolves once every request already received has been answered. */
  async drain(): Promise<void> {
    this.closing = true;
    this.socket.pause();
    if (this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  closeAfterFlush(reason: string): void {
    this.log.info({ conn: this.id, remote: this.remoteAddress, reason }, 'closing connection');
    this.closing = true;
    this.socket.pause();
    if (this.queue.length === 0) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  throttle(ms: number): void {
    if (!(ms > 0) || this.closing || this.closed) return;
    const until = performance.now() + ms;
    if (until <= this.mutedUntil) return;
    this.mutedUntil = until;
    this.muted = true;
    this.socket.pause();
    if (this.muteTimer !== null) clearTimeout(this.muteTimer);
    this.muteTimer = setTimeout(() => {
      this.muteTimer = null;
      this.muted = false;
      if (!this.paused && !this.closing && !this.closed) {
        this.socket.resume();
        this.extractFrames();
      }
    }, ms);
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }
  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.frames.push(chunk);
    this.extractFrames();
  }

  private extractFrames(): void {
    while (!this.closing && !this.muted) {
      const size = this.nextFrameBytes();
      if (size === null) return;
      if (this.queue.length >= this.limits.maxInFlight || this.inFlightBytes + this.unsentBytes() + size > this.limits.maxBufferedBytes) {
        this.pause();
        return;
      }
      this.dispatch(this.frames.next()!);
    }
  }

  /** The size of the next whole frame, or null; a size out of bounds closes the connection. */
  private nextFrameBytes(): number | null {
    try {
      return this.frames.nextFrameBytes();
    } catch (err) {
      if (!(err instanceof FrameSizeError)) throw err;
      // A TLS ClientHello starts 0x16 0x03: a client configured for SSL reached a plaintext listener.
      if (err.size >>> 24 === 0x16 && ((err.size >>> 16) & 0xff) === 0x03) {
        this.log.warn({ conn: this.id, remote: this.remoteAddress }, 'a TLS handshake reached this plaintext listener (the client uses SSL; security.tls.enabled is false here), closing connection');
      } else {
        this.log.warn({ conn: this.id, remote: this.remoteAddress, size: err.size, max: err.maxFrameBytes }, 'invalid frame size, closing connection');
      }
      this.closing = true;
      this.socket.destroy();
      return null;
    }
  }

  /**
   * Response bytes written to the socket but not yet taken by the kernel. Counted only while the socket
   * waits for 'drain' (a write returned false): that event is what resumes reading, so a pause is
   * never left without a wake-up.
   */
  private unsentBytes(): number {
    return this.socket.writableNeedDrain ? this.socket.writableLength : 0;
  }

  private dispatch(frame: Buffer): void {
    const pending: Pending = { done: false, response: null, bytes: frame.length };
    this.queue.push(pending);
    this.inFlightBytes += frame.length;
    let result: Promise<Buffer[] | null>;
    try {
      result = this.handler.handle(frame, this);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (response) => this.complete(pending, response),
      (err: unknown) => {
        // The handler layer turns every expected failure into a Kafka error response; reaching here
        // means a malformed request it could not answer. Kafka closes the connection in that case.
        this.log.warn({ err, conn: this.id, remote: this.remoteAddress }, 'request failed, closing connection');
        this.complete(pending, null);
        this.closeAfterFlush('request could not be answered');
      },
    );
  }

  private complete(pending: Pending, response: Buffer[] | null): void {
    pending.done = true;
    pending.response = response;
    if (this.queue[0] !== pending) return;
    // Write every consecutive finished response at the head of the queue, in one writev.
    this.socket.cork();
    while (this.queue.length > 0 && this.queue[0]!.done) {
      const head = this.queue.shift()!;
      this.inFlightBytes -= head.bytes;
      if (head.response && !this.closed) for (const b of head.response) this.socket.write(b);
    }
    this.socket.uncork();
    if (this.queue.length === 0) {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
      if (this.closing && !this.closed) this.socket.end();
    }
    if (this.paused && !this.closing) this.resume();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private resume(): void {
    this.paused = false;
    if (this.muted) return;
    this.socket.resume();
    this.extractFrames();
  }

  private socketClosed(): void {
    this.closed = true;
    if (this.muteTimer !== null) clearTimeout(this.muteTimer);
    this.frames.clear();
    // In-flight handlers finish on their own; their responses are dropped.
    if (this.queue.every((p) => p.done)) for (const resolve of this.drainWaiters.splice(0)) resolve();
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
