/**
 * The Kafka protocol listener on server.port. Accepts connections up to server.maxConnections
 * (beyond that new sockets are closed at once with a log line) and owns their lifecycle.
 * Lines that clients trigger (refused or closed connections) are rate-limited per message, so a
 * client reconnecting in a tight loop cannot fill the log.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { listen } from './listen.ts';
import { Connection, type ConnectionLimits, type FrameHandler } from './connection.ts';
import type { Logger } from '../observability/logger.ts';
import { DEFAULT_RATE_LIMIT, LineRateLimiter, rateLimitedLogger } from '../observability/rate-limited-logger.ts';

export interface ListenerOptions extends ConnectionLimits {
  host: string;
  port: number;
  maxConnections: number;
}

export class KafkaListener {
  private server: Server | null = null;
  private readonly connections = new Set<Connection>();
  private nextId = 1;
  private readonly log: Logger;

  constructor(
    private readonly options: ListenerOptions,
    private readonly handler: FrameHandler,
    log: Logger,
  ) {
    this.log = rateLimitedLogger(log, new LineRateLimiter(DEFAULT_RATE_LIMIT, () => performance.now()));
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Resolves with the bound port once the listener accepts connections. */
  async start(): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return listen(server, this.options.host, this.options.port);
  }

  /** Stops accepting, lets every connection finish the requests it already received, then closes them. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...this.connections].map((c) => c.drain()));
    for (const c of this.connections) c.closeAfterFlush('broker shutting down');
    for (const c of this.connections) c.destroy();
    await closed;
  }

  private accept(socket: Socket): void {
    if (this.connections.size >= this.options.maxConnections) {
      this.log.warn({ remote: socket.remoteAddress, max: this.options.maxConnections }, 'connection limit reached, refusing');
      socket.destroy();
      return;
    }
    const connection = new Connection(this.nextId++, socket, this.handler, this.options, this.log);
    this.connections.add(connection);
    socket.on('close', () => this.connections.delete(connection));
  }
}
