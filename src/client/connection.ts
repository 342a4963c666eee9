/**
 * A client connection to one broker: sends size-prefixed request frames and matches response frames
 * to requests by correlation id. Requests that expect no response (Produce with acks=0) resolve on
 * write. Every request has a timeout; a closed socket fails everything pending.
 */
import { connect, isIP, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { FrameDecoder } from '../protocol/frame-decoder.ts';
import { FrameSizeError, StreamBusError } from '../util/errors.ts';

/** Largest response frame accepted unless the options say otherwise. */
const DEFAULT_MAX_RESPONSE_BYTES = 1 << 30;
/** Every response frame starts with its int32 correlation id. */
const MIN_RESPONSE_BYTES = 4;

export interface ClientConnectionOptions {
  host: string;
  port: number;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  maxFrameBytes?: number;
  /** Speak TLS (Kafka's SSL security protocol) with these settings (CA, client certificate and key). */
  tls?: ConnectionOptions;
}

interface Waiter {
  resolve(frame: Buffer): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

export class ClientConnection {
  private socket: Socket | null = null;
  private readonly pending = new Map<number, Waiter>();
  private nextCorrelationId = 1;
  private readonly frames: FrameDecoder;
  private closedError: Error | null = null;

  constructor(private readonly options: ClientConnectionOptions) {
    this.frames = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_RESPONSE_BYTES, minFrameBytes: MIN_RESPONSE_BYTES });
  }

  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /** True between a successful open() and the first failure or close(). */
  get isOpen(): boolean {
    return this.socket !== null && this.closedError === null;
  }

  async open(): Promise<void> {
    const { host, port } = this.options;
    const tls = this.options.tls;
    // The server's name is checked against its certificate (SNI only for names, not addresses).
    const socket = tls === undefined ? connect({ host, port }) : connectTls({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...tls });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new StreamBusError('SB_ERR_IO', `connect to ${host}:${port} timed out`));
      }, this.options.connectTimeoutMs ?? 10_000);
      socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new StreamBusError('SB_ERR_IO', `cannot connect to ${host}:${port}: ${err.message}`, { cause: err }));
      });
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new StreamBusError('SB_ERR_IO', `connection to ${this.address} failed: ${err.message}`, { cause: err })));
    socket.on('close', () => this.fail(new StreamBusError('SB_ERR_CLOSED', `connection to ${this.address} closed`)));
    this.socket = socket;
  }

  /** Allocates the correlation id the next request must carry. */
  correlationId(): number {
    const id = this.nextCorrelationId;
    this.nextCorrelationId = id >= 0x7fffffff ? 1 : id + 1;
    return id;
  }

  /**
   * Writes one request frame (already size-prefixed, as a list of buffers). With `expectResponse` it
   * resolves with the response frame (without its size prefix), else once the bytes are handed to the OS.
   * `timeoutMs` overrides the connection's request timeout (a long-polling Fetch needs more than its wait).
   */
  send(correlationId: number, frame: readonly Uint8Array[], expectResponse = true, timeoutMs?: number): Promise<Buffer> {
    const socket = this.socket;
    if (!socket || this.closedError) return Promise.reject(this.closedError ?? new StreamBusError('SB_ERR_CLOSED', 'not connected'));
    if (!expectResponse) {
      return new Promise((resolve, reject) => {
        socket.cork();
        for (let i = 0; i < frame.length - 1; i++) socket.write(frame[i]!);
        socket.write(frame[frame.length - 1]!, (err) => (err ? reject(err) : resolve(Buffer.alloc(0))));
        socket.uncork();
      });
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new StreamBusError('SB_ERR_IO', `request ${correlationId} to ${this.address} timed out`));
      }, timeoutMs ?? this.options.requestTimeoutMs ?? 30_000);
      this.pending.set(correlationId, { resolve, reject, timer });
      socket.cork();
      for (const b of frame) socket.write(b);
      socket.uncork();
    });
  }

  close(): void {
    this.socket?.end();
    this.socket?.destroy();
    this.fail(new StreamBusError('SB_ERR_CLOSED', 'connection closed by client'));
  }

  private onData(chunk: Buffer): void {
    this.frames.push(chunk);
    for (let frame = this.nextFrame(); frame !== null; frame = this.nextFrame()) {
      const correlationId = frame.readInt32BE(0);
      const waiter = this.pending.get(correlationId);
      if (!waiter) continue; // a response to a request that already timed out
      this.pending.delete(correlationId);
      clearTimeout(waiter.timer);
      waiter.resolve(frame);
    }
  }

  /** The next whole response frame, or null; a size out of bounds fails the connection. */
  private nextFrame(): Buffer | null {
    try {
      return this.frames.next();
    } catch (err) {
      if (!(err instanceof FrameSizeError)) throw err;
      this.fail(new StreamBusError('SB_ERR_PROTOCOL', `invalid response frame size ${err.size} from ${this.address}`, { cause: err }));
      this.socket?.destroy();
      this.frames.clear();
      return null;
    }
  }

  private fail(err: Error): void {
    if (!this.closedError) this.closedError = err;
    for (const [id, w] of this.pending) {
      clearTimeout(w.timer);
      w.reject(err);
      this.pending.delete(id);
    }
  }
}
