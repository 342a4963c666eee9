/**
 * Free loopback ports for tests. A port is taken below the kernel's ephemeral range (read from
 * /proc/sys/net/ipv4/ip_local_port_range, 32768 by default), at random, and checked by binding it: the
 * kernel hands ephemeral ports to every outgoing connection of every process, so a port from that
 * range, released between the check and the broker's own bind, can be taken by some client's
 * connection meanwhile (EADDRINUSE). Outside it only another test's pick can collide, which the random
 * choice and a per-process record make unlikely. Falls back to port 0 when no such port binds.
 */
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';

const LOW = 10_000;
const given = new Set<number>();
/** Ports the Fetch standard blocks (fetch() refuses them, so a readiness poll never connects): the ones in range. */
const FETCH_BLOCKED = new Set([10080]);

function ephemeralStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > LOW + 1000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

const HIGH = ephemeralStart();

function bind(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (given.has(port) || FETCH_BLOCKED.has(port)) continue;
    if ((await bind(port)) === port) {
      given.add(port);
      return port;
    }
  }
  const port = await bind(0);
  if (port === null) throw new Error('no free loopback port');
  return port;
}
