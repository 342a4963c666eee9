/**
 * One listening port for HTTPS and plain HTTP (security.tls on): the first byte a client sends tells
 * them apart (a TLS handshake record starts with 0x16; an HTTP request starts with a method's letter).
 * TLS connections go to the HTTPS server; plain ones to the plain server, which its owner limits to
 * what needs no credentials (the health probes and the metrics scrape the deployment guide runs over
 * http://). A connection that sends nothing within FIRST_BYTE_TIMEOUT_MS is closed.
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
const TLS_HANDSHAKE_RECORD = 0x16;

export interface SharedPortOptions {
  readonly https: HttpsServer;
  readonly plain: HttpServer;
  /** The HTTPS settings in force now (read per connection on Bun, where they are applied by hand). */
  readonly tlsOptions: () => TlsOptions;
  /** A TLS handshake that failed on the Bun path (the HTTPS server reports its own as tlsClientError). */
  readonly onTlsError: (socket: Socket, error: Error) => void;
}

const onBun = typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined';

/** A listener that hands each connection to the server its first byte calls for; not yet listening. */
export function sharedPortServer(options: SharedPortOptions): NetServer {
  return createNetServer((socket) => {
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    // A reset before the first byte; later errors reach the server that took the socket too.
    socket.on('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      if (first[0] !== TLS_HANDSHAKE_RECORD) {
        socket.unshift(first);
        options.plain.emit('connection', socket);
        socket.resume();
        return;
      }
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
      tls.on('error', (error: Error) => {
        options.onTlsError(socket, error);
        tls.destroy();
      });
      options.plain.emit('connection', tls);
    });
  });
}
