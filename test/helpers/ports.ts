/**
 * Free loopback ports for tests. A port is taken below the kernel's ephemeral range (read from
 * /proc/sys/net/ipv4/ip_local_port_range, 32768 by default), at random, and checked by binding it: the
 * kernel hands ephemeral ports to every outgoing connection of every process, so a port from that
 * range, released between the check and the broker's own bind, can be taken by some client's
 * connection meanwhile (EADDRINUSE). Outside it only another test's pick can collide: test files run in
 * parallel processes, and a broker killed by one test leaves its ports unbound until the test restarts
 * it on them. So every port handed out is also reserved across processes for as long as the process
 * that took it lives (a file per port under the temp folder, created exclusively, naming the owner's
 * pid; a file whose owner is gone is taken over). A port is also given only when a connection to it
 * reaches the probe's own listener (no NAT rule carries it away). Falls back to port 0 when no such
 * port binds.
 */
import { connect, createServer, type Socket } from 'node:net';
import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/**
 * Binds `port` on 127.0.0.1 and checks that a connection to it arrives there: a NAT rule for the
 * port (a container's published port, say: podman publishes with iptables DNAT, which no bind sees)
 * would carry every client elsewhere, so a broker listening on it would never be reached. The port,
 * or null when it cannot be bound or is intercepted.
 */
function bind(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    let settled = false;
    const done = (result: number | null) => {
      if (settled) return;
      settled = true;
      client?.destroy();
      server.close(() => resolve(result));
    };
    let client: Socket | null = null;
    server.once('error', () => {
      settled = true;
      resolve(null);
    });
    server.on('connection', (socket) => {
      socket.destroy();
      const address = server.address();
      done(typeof address === 'object' && address ? address.port : null);
    });
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      client = connect({ host: '127.0.0.1', port: bound });
      // Refused, reset, or connected to something else: not this server.
      client.once('error', () => done(null));
      const timer = setTimeout(() => done(null), INTERCEPTION_WAIT_MS);
      server.once('close', () => clearTimeout(timer));
    });
  });
}

/** How long a probe connection may take to arrive at the probing server. */
const INTERCEPTION_WAIT_MS = 2_000;

const RESERVATIONS = join(tmpdir(), 'streambus-test-ports');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims `port` for this process unless a live process holds it; false when taken. */
function reserve(port: number): boolean {
  const file = join(RESERVATIONS, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner = NaN;
      try {
        owner = Number(readFileSync(file, 'utf8'));
      } catch {
        continue; // released meanwhile: try again
      }
      // An empty file is one its creator is writing right now.
      if (!Number.isInteger(owner) || owner <= 0 || alive(owner)) return false;
      try {
        unlinkSync(file);
      } catch {
        // another process took it over first
      }
    }
  }
  return false;
}

function release(port: number): void {
  try {
    unlinkSync(join(RESERVATIONS, String(port)));
  } catch {
    // already gone
  }
}

let releaseAtExit = false;

export async function freePort(): Promise<number> {
  mkdirSync(RESERVATIONS, { recursive: true });
  if (!releaseAtExit) {
    releaseAtExit = true;
    process.once('exit', () => given.forEach(release));
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (given.has(port) || FETCH_BLOCKED.has(port)) continue;
    if (!reserve(port)) continue;
    if ((await bind(port)) === port) {
      given.add(port);
      return port;
    }
    release(port);
  }
  const port = await bind(0);
  if (port === null) throw new Error('no free loopback port');
  return port;
}
