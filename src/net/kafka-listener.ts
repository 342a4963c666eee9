/**
 * The Kafka protocol listener on server.port. Accepts connections up to server.maxConnections
 * (beyond that new sockets are closed at once with a log line) and owns their lifecycle.
 * Lines that clients trigger (refused or closed connections) are rate-limited per message, so a
 * client reconnecting in a tight loop cannot fill the log.
 *
 * With TLS (security.tls) the listener speaks only TLS (Kafka's SSL security protocol): a handshake
 * that fails (plaintext bytes, no or a bad client certificate when one is required, an old protocol)
 * closes that connection with a log line; a rotated certificate applies to new connections.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { ServerTls } from '../security/server-tls.ts';
import { CERTIFICATE_SUBJECT_STATE, certificateSubject, PRINCIPAL_STATE } from '../security/principal.ts';
import { listen } from './listen.ts';
import { Connection, type ConnectionLimits, type FrameHandler } from './connection.ts';
import type { Logger } from '../observability/logger.ts';
import { DEFAULT_RATE_LIMIT, LineRateLimiter, rateLimitedLogger } from '../observability/rate-limited-logger.ts';

export interface ListenerOptions extends ConnectionLimits {
  host: string;
  port: number;
  maxConnections: number;
  /** Serve TLS with these settings; plaintext when absent. */
  tls?: ServerTls;
}

/** A TLS handshake not finished in this long closes its connection. */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

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
    const tls = this.options.tls;
    let server: Server;
    if (tls === undefined) {
      server = createServer((socket) => this.accept(socket));
    } else {
      const tlsServer = createTlsServer({ ...tls.serverOptions(), handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, (socket) => this.accept(socket));
      tlsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
        this.log.warn({ remote: socket.remoteAddress, code: err.code, reason: err.message }, 'TLS handshake with a client failed, connection closed');
      });
      tls.onChange(() => tlsServer.setSecureContext(tls.serverOptions()));
      server = tlsServer;
    }
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
    if (this.options.tls !== undefined) {
      connection.state.set(PRINCIPAL_STATE, this.options.tls.principalOf(socket as TLSSocket));
      // Kept for multi-tenancy, which may name the tenant from a field of the subject (multiTenancy.certificateField).
      const subject = certificateSubject(socket as TLSSocket);
      if (subject !== null) connection.state.set(CERTIFICATE_SUBJECT_STATE, subject);
    }
    this.connections.add(connection);
    socket.on('close', () => this.connections.delete(connection));
  }
}
