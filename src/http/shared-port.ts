/**
 * One listening port for HTTPS and plain HTTP (security.tls on): the first byte a client sends tells
 * them apart (a TLS handshake record starts with 0x16; an HTTP request starts with a method's letter).
 * TLS connections go to the HTTPS server; plain ones to the plain server, which its owner limits to
 * what needs no credentials (the health probes and the metrics scrape the deployment guide runs over
 * http://). A connection that sends nothing within FIRST_BYTE_TIMEOUT_MS is closed, and one that
 * carries nothing for IDLE_TIMEOUT_MS (see there).
 *
 * How a TLS connection reaches the HTTPS server depends on the runtime; either way the TLS layer
 * runs on the accepted socket itself (its address is the client's) after the first bytes are put back
 * in front of its data. Node and deno: the HTTPS server takes the socket (`emit('connection')`) and
 * verifies client certificates as for one it accepted itself. Bun's HTTPS server cannot take a socket
 * whose first bytes were read, so there a server TLSSocket with the same settings wraps it and the
 * plain server takes that (Bun verifies client certificates on it).
 */
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { createSecureContext, TLSSocket, type TlsOptions } from 'node:tls';

/** A connection must say something within this long (a probe or a handshake's first record). */
export const FIRST_BYTE_TIMEOUT_MS = 10_000;
/** A TLS handshake must be done within this long (the HTTPS server's own default; set by hand on Bun). */
export const HANDSHAKE_TIMEOUT_MS = 120_000;
/**
 * A plain connection, or one Bun's TLS layer wraps, that carries nothing either way for this long is
 * closed whatever the server that took it does (node's HTTPS server times out its own).
 */
export const IDLE_TIMEOUT_MS = 60_000;
const TLS_HANDSHAKE_RECORD = 0x16;

export interface SharedPortOptions {
  readonly https: HttpsServer;
  readonly plain: HttpServer;
  /** The HTTPS settings in force now (read per connection on Bun, where they are applied by hand). */
  readonly tlsOptions: () => TlsOptions;
  /** A TLS handshake that failed on the Bun path (the HTTPS server reports its own as tlsClientError). */
  readonly onTlsError: (remote: string | undefined, error: Error) => void;
  /** Tests shorten the timeouts; the defaults are the constants above. */
  readonly timeouts?: { readonly firstByteMs?: number; readonly idleMs?: number; readonly handshakeMs?: number };
}

const onBun = typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined';

/**
 * A listener that hands each connection to the server its first byte calls for; not yet listening.
 * The two servers are told they listen (their 'listening' event), since node arms its header and
 * request timeouts and closes idle kept-alive connections only for a server that does.
 */
export function sharedPortServer(options: SharedPortOptions): NetServer {
  const { firstByteMs = FIRST_BYTE_TIMEOUT_MS, idleMs = IDLE_TIMEOUT_MS, handshakeMs = HANDSHAKE_TIMEOUT_MS } = options.timeouts ?? {};
  const front = createNetServer((socket) => {
    // Taken now: under Bun a socket that failed its handshake no longer knows its peer.
    const remote = socket.remoteAddress;
    const close = (): void => void socket.destroy();
    socket.setTimeout(firstByteMs);
    socket.on('timeout', close);
    // A reset before the first byte; later errors reach the server that took the socket too.
    socket.on('error', close);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      if (first[0] !== TLS_HANDSHAKE_RECORD) {
        // The plain server reads this socket itself, so its traffic keeps the idle timer fresh.
        socket.setTimeout(idleMs);
        socket.unshift(first);
        options.plain.emit('connection', socket);
        socket.resume();
        return;
      }
      // A TLS layer reads the socket from here on (its own timers apply, not this socket's).
      socket.setTimeout(0);
      socket.unshift(first);
      if (!onBun) {
        // Left paused: the TLS layer reads the put-back bytes and then the socket itself.
        options.https.emit('connection', socket);
        return;
      }
      const settings = options.tlsOptions();
      const tls = new TLSSocket(socket, {
        isServer: true,
        secureContext: createSecureContext(settings),
        requestCert: settings.requestCert === true,
        rejectUnauthorized: settings.rejectUnauthorized === true,
      });
      const handshake = setTimeout(() => tls.destroy(new Error(`no TLS handshake within ${handshakeMs} ms`)), handshakeMs);
      handshake.unref();
      tls.once('secure', () => clearTimeout(handshake));
      tls.setTimeout(idleMs, () => tls.destroy());
      tls.once('close', () => clearTimeout(handshake));
      tls.on('error', (error: Error) => {
        options.onTlsError(remote, error);
        tls.destroy();
      });
      options.plain.emit('connection', tls);
    });
  });
  front.once('listening', () => {
    options.https.emit('listening');
    options.plain.emit('listening');
  });
  return front;
}
