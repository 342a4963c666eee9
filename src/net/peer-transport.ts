/**
 * The inter-broker transport on server.grpcPort: opaque typed messages between the brokers of a
 * cluster, with no knowledge of what they mean. docs/transport.md describes it for operators. The
 * brokers of cluster.nodes are known from the start; brokers added later (outside that list) dial them,
 * and the layer above tells the transport their addresses once they registered (setAddresses).
 *
 * Contract:
 * - One connection per broker pair per lane (handshake.ts says which side dials).
 *   Both directions share it. The dialer reconnects with capped exponential backoff and jitter.
 * - send() encodes the message at once (a body that is not plain data, or too large, throws
 *   SB_ERR_PEER_MESSAGE), queues it per peer and lane, and returns whether it was queued. Everything
 *   queued in one turn of the event loop leaves as few batch frames as the frame size allows, on the next
 *   turn (setImmediate). Messages on one lane arrive in the order sent; the lanes are independent.
 * - Delivery is best effort: a message to a peer whose lane is not connected, or whose queued plus
 *   unsent bytes would pass the lane's cap, is dropped and counted, and the peer is reported down; so are
 *   messages still queued when a connection is lost. The layer above (Raft) retransmits.
 * - A peer is 'up' while both its lanes are connected and neither is congested, else 'down'. Handlers
 *   hear transitions only, never the initial 'down', and nothing after stop(). Handlers run synchronously
 *   inside socket events and send(); they must not throw (that is a programmer error and crashes).
 * - Handshakes are refused, with a refusal frame and a log line naming the reason, from a broker claiming
 *   this broker's id, of another cluster, with an unsupported protocol version, dialing the wrong way, or
 *   duplicating a live connection of the same incarnation (a new incarnation replaces the old
 *   connection: the peer restarted and its old socket is dead). Bad bytes close only their connection.
 * - stop() sends what was queued, closes every connection within limits.closeTimeoutMs, and clears every
 *   timer, so a stopped transport keeps nothing alive. A transport starts once.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as connectTls, createServer as createTlsServer, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { Logger } from '../observability/logger.ts';
import { DEFAULT_RATE_LIMIT, LineRateLimiter, rateLimitedLogger } from '../observability/rate-limited-logger.ts';
import { encodePeerMessage, KEEPALIVE_FRAME, maxMessageBytes } from '../protocol/cluster/batch-frame.ts';
import { CLUSTER_TEXT_MAX, dials, INCARNATION_TEXT_MAX, LANES, PEER_PROTOCOL_VERSION, type Lane } from '../protocol/cluster/handshake.ts';
import { encodeHello, type PeerMessage } from '../protocol/cluster/peer-frames.ts';
import { assert } from '../util/assert.ts';
import { listen } from './listen.ts';
import { PeerConnection, type HelloFrame, type PeerConnectionEvents } from './peer-connection.ts';
import { admitHello, confirmHello, type HandshakeContext } from './peer-handshake.ts';
import { peerLimits, type PeerLimits } from './peer-limits.ts';
import { laneInfo, type PeerInfo, type PeerState, type TransportStats } from './peer-info.ts';
import { PeerLink, type LinkCounters } from './peer-link.ts';
import { reconnectDelayMs } from './reconnect-backoff.ts';

export type { Lane } from '../protocol/cluster/handshake.ts';
export type { PeerMessage } from '../protocol/cluster/peer-frames.ts';
export type { LaneInfo, PeerInfo, PeerState, TransportStats } from './peer-info.ts';

/** A broker as the transport needs it: a cluster.nodes entry, or a registered broker's addresses. */
export interface PeerAddress {
  readonly id: number;
  readonly host: string;
  readonly grpcPort: number;
}

export interface PeerTransportOptions {
  /** This broker (server.brokerId); one of `nodes`, or a broker added to the cluster (then `listenPort` is required). */
  readonly brokerId: number;
  /** Differs on every start of this process (a random UUID, say). */
  readonly incarnationId: string;
  /** The cluster's identity (handshake.ts clusterIdentity): its id once known, else the ids of cluster.nodes. */
  readonly cluster: string;
  /** The brokers of cluster.nodes, equal on every broker. */
  readonly nodes: readonly PeerAddress[];
  /** Address the listener binds to (server.host). */
  readonly listenHost: string;
  /** Port to listen on; this broker's grpcPort in `nodes` when absent. */
  readonly listenPort?: number;
  readonly limits?: Partial<PeerLimits>;
  /** Jitter of the reconnect delays, in [0, 1); Math.random when absent. */
  readonly random?: () => number;
  /**
   * Mutual TLS on every connection (security.tls): this broker's certificate and the CA bundle, read
   * afresh for each new connection (a rotated certificate applies to the next ones). Both sides must
   * present a certificate signed by the bundle; host names are not checked (brokers are dialed at the
   * addresses of cluster.nodes, often IPs): a certificate from the cluster's CA is the proof.
   */
  readonly tls?: { readonly options: () => SecureContextOptions; onChange(listener: () => void): void };
  /**
   * Whether a peer that stays down is worth a `peers still down` line; every known peer when absent.
   * The cluster node leaves out brokers an operator decommissioned (they are meant to go away).
   */
  readonly expectedUp?: (peer: number) => boolean;
}


export type MessageHandler = (from: number, message: PeerMessage) => void;
/** `restarted`: on 'up', the peer is another process than when it was last up (or was never up). */
export type PeerStateHandler = (peer: number, state: PeerState, restarted: boolean) => void;

/** Failed dial attempts in a row between two log lines about the same lane. */
const FAILURES_PER_LINE = 30;
/** The longest gap between two `peers still down` lines. */
const STILL_DOWN_GAP_MAX_MS = 300_000;

/** What one lane to a down peer is doing, in words for the log. */
function laneActivity(link: PeerLink, ours: boolean): string {
  if (link.connection !== null) return link.congested ? 'open, congested' : 'open';
  if (!ours) return 'waiting for the peer to dial';
  if (link.dialing !== null) return 'dialing';
  return link.reconnectTimer !== null ? 'waiting to redial' : 'not dialing';
}

export class PeerTransport {
  /** The largest encoded message send() accepts (type, body and their MessagePack framing). */
  readonly maxMessageBytes: number;
  private readonly limits: PeerLimits;
  private readonly addresses = new Map<number, PeerAddress>();
  /** The ids of cluster.nodes (which side dials depends on them). */
  private readonly listed: ReadonlySet<number>;
  private readonly links = new Map<number, Readonly<Record<Lane, PeerLink>>>();
  private readonly connections = new Set<PeerConnection>();
  /** Our outbound connections, to the link they serve. */
  private readonly dialed = new Map<PeerConnection, PeerLink>();
  private readonly dirty = new Set<PeerLink>();
  private readonly reported = new Map<number, PeerState>();
  /** The incarnation of each peer's process when it was last reported up. */
  private readonly upIncarnation = new Map<number, string>();
  /** Peers down now, with since when; and when the next `peers still down` line is due (its gaps double). */
  private readonly down = new Map<number, number>();
  private stillDownLine: { at: number; gapMs: number } | null = null;
  private lastAcceptedMs: number | null = null;
  private readonly messageHandlers: MessageHandler[] = [];
  private readonly stateHandlers: PeerStateHandler[] = [];
  private readonly counters = { keepalivesSent: 0, handshakesRefused: 0, protocolErrors: 0 };
  private readonly handshake: { -readonly [K in keyof HandshakeContext]: HandshakeContext[K] };
  private readonly events: PeerConnectionEvents;
  private readonly random: () => number;
  private readonly log: Logger;
  private server: Server | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private flushHandle: NodeJS.Immediate | null = null;
  private phase: 'new' | 'running' | 'stopped' = 'new';

  constructor(
    private readonly options: PeerTransportOptions,
    log: Logger,
  ) {
    this.limits = peerLimits(options.limits);
    this.maxMessageBytes = maxMessageBytes(this.limits.maxFrameBytes);
    assert(options.incarnationId.length >= 1 && options.incarnationId.length <= INCARNATION_TEXT_MAX, 'incarnationId must be 1..128 characters');
    assert(options.cluster.length >= 1 && options.cluster.length <= CLUSTER_TEXT_MAX, 'cluster must be 1..256 characters');
    for (const node of options.nodes) {
      assert(!this.addresses.has(node.id), `broker ${node.id} appears twice in the cluster nodes`);
      this.addresses.set(node.id, node);
      if (node.id !== options.brokerId) this.lanes(node.id);
    }
    this.listed = new Set(this.addresses.keys());
    assert(this.addresses.has(options.brokerId) || options.listenPort !== undefined, `broker ${options.brokerId} is not one of the cluster nodes: give its listenPort`);
    this.random = options.random ?? Math.random;
    this.log = rateLimitedLogger(log.child({ broker: options.brokerId }), new LineRateLimiter(DEFAULT_RATE_LIMIT, () => performance.now()));
    this.handshake = {
      brokerId: options.brokerId,
      cluster: options.cluster,
      nodeIds: this.listed,
      hellos: { control: this.helloFrame('control'), data: this.helloFrame('data') },
      log: this.log,
      link: (peer, lane) => this.link(peer, lane),
      detach: (link) => this.detach(link),
      refused: () => this.counters.handshakesRefused++,
    };
    this.events = {
      hello: (connection, frame) => this.onHello(connection, frame),
      refusal: (connection, code, text) => {
        const link = this.dialed.get(connection);
        this.log.warn({ peer: link?.peer, lane: link?.lane, remote: connection.remote, code, reason: text }, 'peer refused our inter-broker handshake');
      },
      batch: (connection, messages, payloadBytes) => this.onBatch(connection, messages, payloadBytes),
      drain: (connection) => {
        const link = this.openLink(connection);
        if (link?.relieve()) this.report(link.peer);
      },
      closed: (connection) => this.onClosed(connection),
    };
  }

  /** Listens on the inter-broker port and starts dialing the peers this broker dials; resolves with the bound port. */
  async start(): Promise<number> {
    assert(this.phase === 'new', 'a transport starts once');
    this.phase = 'running';
    const tls = this.options.tls;
    let server: Server;
    if (tls === undefined) server = createServer((socket) => this.accept(socket));
    else {
      const tlsServer = createTlsServer({ ...tls.options(), requestCert: true, rejectUnauthorized: true, handshakeTimeout: this.limits.handshakeTimeoutMs }, (socket) => this.accept(socket));
      tlsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
        this.counters.handshakesRefused++;
        this.log.warn({ remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, code: err.code, reason: err.message }, 'refused inter-broker TLS handshake');
      });
      tls.onChange(() => tlsServer.setSecureContext({ ...tls.options() }));
      server = tlsServer;
    }
    let port: number;
    try {
      port = await listen(server, this.options.listenHost, this.options.listenPort ?? this.addresses.get(this.options.brokerId)!.grpcPort);
    } catch (err) {
      this.phase = 'stopped';
      throw err;
    }
    this.server = server;
    if (this.phase !== 'running') {
      // stop() was called while the port was being bound.
      server.close();
      return port;
    }
    server.on('error', (err) => this.log.error({ err }, 'inter-broker listener error'));
    const { keepaliveMs, handshakeTimeoutMs } = this.limits;
    this.sweepTimer = setInterval(() => this.sweep(), Math.max(5, Math.min(keepaliveMs, handshakeTimeoutMs) / 4));
    for (const peer of this.links.keys()) this.dialIfOurs(peer);
    this.log.info({ host: this.options.listenHost, port, peers: [...this.links.keys()] }, 'inter-broker transport listening');
    return port;
  }

  /** Queues `message` for `to` on `lane`; false when it was dropped. Throws SB_ERR_PEER_MESSAGE for a message that cannot be sent. */
  send(to: number, lane: Lane, message: PeerMessage): boolean {
    const link = this.link(to, lane);
    const bytes = encodePeerMessage(message, this.maxMessageBytes);
    if (this.phase !== 'running') {
      link.counters.messagesDropped++;
      return false;
    }
    if (!link.offer(bytes)) {
      this.report(to);
      return false;
    }
    this.dirty.add(link);
    this.flushHandle ??= setImmediate(() => this.flush());
    return true;
  }

  /**
   * The addresses of brokers outside cluster.nodes, as they registered: this broker dials the ones it
   * should (handshake.ts) at their latest address. Entries of cluster.nodes and this broker are ignored.
   */
  setAddresses(brokers: readonly PeerAddress[]): void {
    for (const broker of brokers) {
      if (broker.id === this.options.brokerId || this.listed.has(broker.id)) continue;
      const known = this.addresses.get(broker.id);
      if (known?.host === broker.host && known.grpcPort === broker.grpcPort) continue;
      this.addresses.set(broker.id, { id: broker.id, host: broker.host, grpcPort: broker.grpcPort });
      this.lanes(broker.id);
      if (this.phase === 'running') this.dialIfOurs(broker.id);
    }
  }

  onMessage(handler: MessageHandler): void {
    this.messageHandlers.push(handler);
  }

  onPeerState(handler: PeerStateHandler): void {
    this.stateHandlers.push(handler);
  }

  peers(): PeerInfo[] {
    return [...this.links.keys()].sort((a, b) => a - b).map((id) => {
      const lanes = this.links.get(id)!;
      return { id, state: this.stateOf(id), lanes: { control: laneInfo(lanes.control), data: laneInfo(lanes.data) } };
    });
  }

  stats(): TransportStats {
    const sum = (key: keyof LinkCounters): number => {
      let total = 0;
      for (const lanes of this.links.values()) for (const lane of LANES) total += lanes[lane].counters[key];
      return total;
    };
    return {
      framesSent: sum('framesSent'),
      framesReceived: sum('framesReceived'),
      messagesSent: sum('messagesSent'),
      messagesReceived: sum('messagesReceived'),
      messagesDropped: sum('messagesDropped'),
      ...this.counters,
    };
  }

  /** Sends what was queued, closes every connection (hard after limits.closeTimeoutMs) and clears every timer. */
  async stop(): Promise<void> {
    if (this.phase !== 'running' || this.server === null) {
      this.phase = 'stopped';
      return;
    }
    this.flush();
    this.phase = 'stopped';
    clearInterval(this.sweepTimer!);
    for (const lanes of this.links.values()) for (const lane of LANES) clearTimeout(lanes[lane].reconnectTimer ?? undefined);
    const server = this.server!;
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    const connections = [...this.connections];
    for (const connection of connections) {
      if (connection.phase === 'open') connection.end();
      else connection.destroy('transport stopping');
    }
    const allClosed = Promise.all(connections.map((c) => c.closed));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.limits.closeTimeoutMs)));
    await Promise.race([allClosed, timedOut]);
    clearTimeout(timer);
    for (const connection of connections) connection.destroy('transport stopped');
    await Promise.all([allClosed, serverClosed]);
    this.log.info('inter-broker transport stopped');
  }

  /**
   * The cluster identity new connections present from now on (this broker learned the cluster id);
   * connections already open stay.
   */
  setCluster(cluster: string): void {
    assert(cluster.length >= 1 && cluster.length <= CLUSTER_TEXT_MAX, 'cluster must be 1..256 characters');
    if (cluster === this.handshake.cluster) return;
    this.handshake.cluster = cluster;
    this.handshake.hellos = { control: this.helloFrame('control'), data: this.helloFrame('data') };
    this.log.info({ cluster }, 'inter-broker handshakes present the cluster id from now on');
  }

  private helloFrame(lane: Lane): Buffer {
    const { brokerId, incarnationId } = this.options;
    const cluster = this.handshake?.cluster ?? this.options.cluster;
    return encodeHello({ version: PEER_PROTOCOL_VERSION, cluster, brokerId, incarnationId, lane });
  }

  private link(peer: number, lane: Lane): PeerLink {
    return this.lanes(peer)[lane];
  }

  /** The links to `peer`, made on first use: a broker added to the cluster may be heard of before it connects. */
  private lanes(peer: number): Readonly<Record<Lane, PeerLink>> {
    let lanes = this.links.get(peer);
    if (lanes === undefined) {
      assert(Number.isInteger(peer) && peer >= 1 && peer !== this.options.brokerId, `broker ${peer} cannot be a peer of broker ${this.options.brokerId}`);
      const { controlLaneBytesMax, dataLaneBytesMax } = this.limits;
      lanes = { control: new PeerLink(peer, 'control', controlLaneBytesMax), data: new PeerLink(peer, 'data', dataLaneBytesMax) };
      this.links.set(peer, lanes);
      this.reported.set(peer, 'down');
      this.markDown(peer);
    }
    return lanes;
  }

  /** Starts dialing `peer` on both lanes when this side dials it and its address is known. */
  private dialIfOurs(peer: number): void {
    if (!this.addresses.has(peer) || !dials(this.options.brokerId, peer, this.listed)) return;
    const lanes = this.lanes(peer);
    for (const lane of LANES) this.dial(lanes[lane]);
  }

  /** The link `connection` is the open connection of, if any. */
  private openLink(connection: PeerConnection): PeerLink | null {
    const hello = connection.peer;
    if (hello === null) return null;
    const link = this.link(hello.brokerId, hello.lane);
    return link.connection === connection ? link : null;
  }

  private stateOf(peer: number): PeerState {
    const lanes = this.links.get(peer)!;
    return LANES.every((lane) => lanes[lane].up) ? 'up' : 'down';
  }

  /** Tells the handlers when `peer` changed state. */
  private report(peer: number): void {
    const state = this.stateOf(peer);
    if (this.reported.get(peer) === state || this.phase !== 'running') return;
    this.reported.set(peer, state);
    let restarted = false;
    if (state === 'up') {
      const incarnation = this.links.get(peer)!.control.connection?.peer?.incarnationId ?? '';
      restarted = this.upIncarnation.get(peer) !== incarnation;
      this.upIncarnation.set(peer, incarnation);
    }
    if (state === 'up') {
      this.down.delete(peer);
      if (this.down.size === 0) this.stillDownLine = null;
    } else {
      this.markDown(peer);
    }
    this.log.info({ peer, state, ...(state === 'up' ? { restarted } : {}) }, state === 'up' ? 'peer up' : 'peer down');
    for (const handler of this.stateHandlers) handler(peer, state, restarted);
  }

  private flush(): void {
    if (this.flushHandle !== null) clearImmediate(this.flushHandle);
    this.flushHandle = null;
    for (const link of this.dirty) link.flush(this.limits.maxFrameBytes);
    this.dirty.clear();
  }

  private accept(socket: Socket): void {
    this.lastAcceptedMs = performance.now();
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    let pending = 0;
    for (const c of this.connections) if (c.inbound && c.phase === 'handshake') pending++;
    if (pending >= this.limits.pendingHandshakesMax) {
      this.log.warn({ remote, pending }, 'too many inter-broker handshakes in progress, refusing connection');
      socket.destroy();
      return;
    }
    this.connections.add(new PeerConnection(socket, true, remote, this.limits.maxFrameBytes, this.events, this.log, () => performance.now()));
  }

  private dial(link: PeerLink): void {
    // Called by the timer, or at once for a new address (setAddresses), when a timer may be armed.
    if (link.reconnectTimer !== null) clearTimeout(link.reconnectTimer);
    link.reconnectTimer = null;
    const address = this.addresses.get(link.peer);
    if (this.phase !== 'running' || link.dialing !== null || link.connection !== null || address === undefined) return;
    const { host, grpcPort } = address;
    const tls = this.options.tls;
    const socket = tls === undefined ? connect({ host, port: grpcPort }) : connectTls({ host, port: grpcPort, ...tls.options(), checkServerIdentity: () => undefined });
    const connection = new PeerConnection(socket, false, `${host}:${grpcPort}`, this.limits.maxFrameBytes, this.events, this.log, () => performance.now());
    this.connections.add(connection);
    this.dialed.set(connection, link);
    link.dialing = connection;
    link.lastDialMs = performance.now();
    // Node and Bun keep writes made before the socket connects and send them once it does.
    connection.write([this.handshake.hellos[link.lane]]);
  }

  private redial(link: PeerLink): void {
    if (this.phase !== 'running' || link.reconnectTimer !== null || link.dialing !== null || link.connection !== null) return;
    const delay = reconnectDelayMs(link.failures, this.limits.reconnectBaseMs, this.limits.reconnectMaxMs, this.random);
    link.reconnectTimer = setTimeout(() => this.dial(link), delay);
  }

  private onHello(connection: PeerConnection, frame: HelloFrame): void {
    if (connection.inbound) {
      const link = admitHello(this.handshake, connection, frame);
      if (link !== null) this.attach(link, connection);
      return;
    }
    const link = this.dialed.get(connection)!;
    if (!confirmHello(this.handshake, link, connection, frame)) return;
    link.dialing = null;
    link.failures = 0;
    link.lastFailure = null;
    this.attach(link, connection);
  }

  private attach(link: PeerLink, connection: PeerConnection): void {
    link.attach(connection);
    this.log.debug({ peer: link.peer, lane: link.lane, remote: connection.remote, incarnation: connection.peer?.incarnationId }, 'peer connection open');
    this.report(link.peer);
  }

  private detach(link: PeerLink): void {
    link.detach();
    this.dirty.delete(link);
    this.report(link.peer);
  }

  private onBatch(connection: PeerConnection, messages: readonly PeerMessage[], payloadBytes: number): void {
    const link = this.openLink(connection);
    assert(link !== null, 'batches arrive only on open connections');
    link.counters.bytesReceived += payloadBytes;
    if (messages.length === 0) return; // a keepalive
    link.counters.framesReceived++;
    for (const message of messages) {
      if (this.phase !== 'running') return;
      link.counters.messagesReceived++;
      for (const handler of this.messageHandlers) handler(link.peer, message);
    }
  }

  private onClosed(connection: PeerConnection): void {
    this.connections.delete(connection);
    if (connection.brokeProtocol) this.counters.protocolErrors++;
    const open = this.openLink(connection);
    if (open !== null) this.detach(open);
    const dialedLink = this.dialed.get(connection);
    this.dialed.delete(connection);
    if (dialedLink === undefined) return;
    if (dialedLink.dialing === connection) {
      // An attempt that never opened. The first in a row is worth a line, then one per
      // FAILURES_PER_LINE retries (about half a minute at the backoff's cap), so a peer that stays
      // unreachable says why while it does.
      dialedLink.dialing = null;
      dialedLink.failures++;
      dialedLink.lastFailure = connection.lastError?.message ?? 'closed before the handshake completed';
      const { failures, peer, lane } = dialedLink;
      if ((failures === 1 || failures % FAILURES_PER_LINE === 0) && this.phase === 'running') {
        const fields = { peer, lane, remote: connection.remote, error: connection.lastError?.message ?? null, attempts: failures };
        this.log.warn(fields, failures === 1 ? 'cannot reach peer, retrying with backoff' : 'still cannot reach peer, retrying with backoff');
      }
    }
    this.redial(dialedLink);
  }

  /** A peer went down: the next `peers still down` line comes downReportMs from now, whatever was due. */
  private markDown(peer: number): void {
    const now = performance.now();
    this.down.set(peer, now);
    this.stillDownLine = { at: now + this.limits.downReportMs, gapMs: this.limits.downReportMs };
  }

  /**
   * One `peers still down` line for every known peer down at least downReportMs (all of them in one
   * line, so the log's rate limit cannot hide some), with what each lane does: a dialer dialing,
   * waiting to redial or (a defect) doing neither; the other side waiting to be dialed; and when this
   * broker last accepted any connection. Enough to tell a peer that refuses from one never dialed.
   */
  private reportStillDown(now: number): void {
    const line = this.stillDownLine;
    if (line === null || now < line.at) return;
    line.gapMs = Math.min(line.gapMs * 2, STILL_DOWN_GAP_MAX_MS);
    line.at = now + line.gapMs;
    const peers = [];
    for (const [peer, since] of this.down) {
      if (now - since < this.limits.downReportMs || !this.addresses.has(peer) || this.options.expectedUp?.(peer) === false) continue;
      const ours = dials(this.options.brokerId, peer, this.listed);
      const lanes = this.links.get(peer)!;
      const lane = (link: PeerLink) => ({
        state: laneActivity(link, ours),
        failures: link.failures,
        lastFailure: link.lastFailure,
        lastDialAgoMs: link.lastDialMs === null ? null : Math.round(now - link.lastDialMs),
      });
      peers.push({ peer, downForMs: Math.round(now - since), dialer: ours ? 'this broker' : 'the peer', control: lane(lanes.control), data: lane(lanes.data) });
    }
    if (peers.length === 0) return;
    this.log.warn({ peers, lastAcceptedAgoMs: this.lastAcceptedMs === null ? null : Math.round(now - this.lastAcceptedMs) }, 'peers still down');
  }

  /** Closes connections that stalled in their handshake or went silent, and keeps idle ones alive. */
  private sweep(): void {
    const now = performance.now();
    this.reportStillDown(now);
    const { handshakeTimeoutMs, idleTimeoutMs, keepaliveMs } = this.limits;
    for (const connection of this.connections) {
      if (connection.phase === 'handshake' && now - connection.startedMs > handshakeTimeoutMs) {
        this.log.warn({ remote: connection.remote, inbound: connection.inbound, timeoutMs: handshakeTimeoutMs }, 'inter-broker handshake timed out, closing connection');
        connection.destroy('handshake timed out');
      } else if (connection.phase === 'open' && now - connection.lastReceivedMs > idleTimeoutMs) {
        this.log.warn({ peer: connection.peer?.brokerId, lane: connection.peer?.lane, silentMs: Math.round(now - connection.lastReceivedMs) }, 'peer went silent, closing connection');
        connection.destroy('peer silent');
      } else if (connection.phase === 'open' && now - connection.lastSentMs >= keepaliveMs && connection.unsentBytes === 0) {
        // Only when everything sent has left: a keepalive behind unsent bytes tells the peer nothing.
        connection.write([KEEPALIVE_FRAME]);
        this.counters.keepalivesSent++;
      }
    }
    for (const lanes of this.links.values()) for (const lane of LANES) if (lanes[lane].relieve()) this.report(lanes[lane].peer);
  }
}
