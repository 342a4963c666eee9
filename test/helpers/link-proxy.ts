/**
 * A fault-injecting TCP proxy between the brokers of a test cluster, for network splits. There is one
 * listener per directed pair of brokers (`from` dials the proxy, which dials `to`'s inter-broker port),
 * so each broker's cluster.nodes names the proxy as its peers' grpcPort (see startCluster's
 * `peerGrpcPort`). Cutting a link refuses new connections on it (accepted, then destroyed at once) and
 * destroys the open ones; bytes are never altered, only dropped with the whole connection, which is
 * what a broker sees when a network path fails and its TCP connection breaks. Clients' Kafka ports
 * are not proxied: a broker cut from its peers is still reachable by clients.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

interface Link {
  readonly from: number;
  readonly to: number;
  readonly server: Server;
  readonly port: number;
  readonly sockets: Set<Socket>;
}

export class LinkProxy {
  private readonly links = new Map<string, Link>();
  private readonly targets = new Map<number, number>();
  /** Unordered pairs `a-b` (a < b) whose links are cut, in both directions. */
  private readonly cutPairs = new Set<string>();
  /** Connections accepted on a cut link (and destroyed at once), for tests to see the cut was felt. */
  refused = 0;

  private constructor() {}

  /** Listens for every directed pair of `ids` on free loopback ports. */
  static async start(ids: readonly number[]): Promise<LinkProxy> {
    const proxy = new LinkProxy();
    for (const from of ids) {
      for (const to of ids) {
        if (from !== to) await proxy.listen(from, to);
      }
    }
    return proxy;
  }

  /** The port broker `from` dials to reach broker `to`. */
  port(from: number, to: number): number {
    return this.link(from, to).port;
  }

  /** Where broker `id` really accepts inter-broker connections; set before anyone dials it. */
  route(id: number, grpcPort: number): void {
    this.targets.set(id, grpcPort);
  }

  /** Cuts both directions between `a` and `b`: open connections are destroyed, new ones refused. */
  cut(a: number, b: number): void {
    this.cutPairs.add(pairKey(a, b));
    for (const link of [this.link(a, b), this.link(b, a)]) {
      for (const socket of link.sockets) socket.destroy();
      link.sockets.clear();
    }
  }

  /** Cuts `id` from every other broker. */
  isolate(id: number): void {
    for (const link of this.links.values()) {
      if (link.from === id) this.cut(link.from, link.to);
    }
  }

  /** Restores every link; brokers redial on their own backoff. */
  heal(): void {
    this.cutPairs.clear();
  }

  async close(): Promise<void> {
    for (const link of this.links.values()) {
      for (const socket of link.sockets) socket.destroy();
      await new Promise<void>((resolve) => link.server.close(() => resolve()));
    }
    this.links.clear();
  }

  private link(from: number, to: number): Link {
    const link = this.links.get(`${from}>${to}`);
    if (link === undefined) throw new Error(`no link from broker ${from} to broker ${to}`);
    return link;
  }

  private async listen(from: number, to: number): Promise<void> {
    const sockets = new Set<Socket>();
    const server = createServer((inbound) => {
      const target = this.targets.get(to);
      if (this.cutPairs.has(pairKey(from, to)) || target === undefined) {
        this.refused++;
        inbound.destroy();
        return;
      }
      const outbound = connect({ host: '127.0.0.1', port: target });
      inbound.setNoDelay(true);
      outbound.setNoDelay(true);
      const pair = [inbound, outbound];
      for (const socket of pair) {
        sockets.add(socket);
        // Either side failing or closing takes the other down with it, as one broken path would.
        socket.on('error', () => pair.forEach((s) => s.destroy()));
        socket.on('close', () => {
          sockets.delete(socket);
          pair.forEach((s) => s.destroy());
        });
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy listener has no port');
    this.links.set(`${from}>${to}`, { from, to, server, port: address.port, sockets });
  }
}

function pairKey(a: number, b: number): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}
