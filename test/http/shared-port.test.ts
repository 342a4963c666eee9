// Goal: one port serves HTTPS and plain HTTP by the first byte, keeps the client's address on both,
// and lets no client hold a connection by saying too little: nothing at all, one byte, part of a TLS
// handshake, or request headers trickled a byte at a time are all cut (the servers behind the port
// never listen themselves, so their own timeouts must still be armed).
// Method: sharedPortServer in this process with shortened timeouts, node's HTTP and HTTPS servers
// behind it, raw sockets and https requests from this process; each case bounded by a few seconds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { connect, type AddressInfo, type Server as NetServer } from 'node:net';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { sharedPortServer } from '../../src/http/shared-port.ts';
import { makeTestCerts, type TestCerts } from '../helpers/certs.ts';

let certs: TestCerts;
let front: NetServer;
let port: number;

const answer = (req: IncomingMessage, res: ServerResponse): void => {
  res.end(`${(req.socket as Partial<TLSSocket>).encrypted === true ? 'tls' : 'plain'} ${req.socket.remoteAddress}`);
};

before(async () => {
  certs = makeTestCerts();
  const https = createHttpsServer({ key: readFileSync(certs.brokerKey), cert: readFileSync(certs.brokerCert), handshakeTimeout: 300 }, answer);
  const plain = createServer({ connectionsCheckingInterval: 100, headersTimeout: 500, requestTimeout: 1_000 }, answer);
  front = sharedPortServer({ https, plain, tlsOptions: () => ({}), onTlsError: () => undefined, timeouts: { firstByteMs: 300, idleMs: 600, handshakeMs: 300 } });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  port = (front.address() as AddressInfo).port;
});

after(async () => {
  await new Promise((resolve) => front.close(resolve));
  certs.remove();
});

test('plain HTTP and HTTPS on one port, each with the client address', async () => {
  const plain = await (await fetch(`http://127.0.0.1:${port}/x`)).text();
  assert.equal(plain, 'plain 127.0.0.1');
  const secure = await new Promise<string>((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/y', ca: readFileSync(certs.ca), agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(secure, 'tls 127.0.0.1');
});

/** Connects, writes each of `chunks` `everyMs` apart, and resolves with how long the server kept the connection. */
function heldFor(chunks: readonly (string | Buffer)[], everyMs = 100): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < chunks.length && !socket.destroyed) socket.write(chunks[sent++]!);
    }, everyMs);
    const limit = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after 8 s (${sent} chunk(s) sent)`));
    }, 8_000);
    socket.on('error', () => undefined);
    socket.resume();
    socket.once('close', () => {
      clearInterval(timer);
      clearTimeout(limit);
      resolve(Date.now() - started);
    });
  });
}

test('a connection that says nothing, one byte, or part of a TLS handshake is closed', async () => {
  assert.ok((await heldFor([])) >= 250, 'not closed before the first-byte timeout');
  await heldFor(['G']);
  await heldFor([Buffer.from([0x16, 0x03, 0x01, 0x00])]);
});

test('request headers trickled a byte at a time are cut by the plain server’s header timeout', async () => {
  const slow = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '.split('').concat(Array(200).fill('a'));
  const held = await heldFor(slow, 100);
  // Each byte keeps the idle timer fresh; only the armed header timeout (500 ms) ends it.
  assert.ok(held < 5_000, `held ${held} ms`);
});
