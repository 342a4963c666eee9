/**
 * The two ends of an inter-broker handshake. The acceptor checks the dialer's hello (handshake.ts rules,
 * plus one open connection per broker pair and lane) and answers with its own hello or a refusal; the
 * dialer checks that the answer comes from the broker and lane it dialed. Every refusal and mismatch is
 * a log line naming the peer and the reason.
 */
import type { Logger } from '../observability/logger.ts';
import { inboundRefusal, PEER_PROTOCOL_VERSION, replyMismatch, type Hello, type Lane, type Refusal } from '../protocol/cluster/handshake.ts';
import { encodeRefusal } from '../protocol/cluster/peer-frames.ts';
import type { HelloFrame, PeerConnection } from './peer-connection.ts';
import type { PeerLink } from './peer-link.ts';

/** What the handshake needs from its transport. */
export interface HandshakeContext {
  readonly brokerId: number;
  readonly cluster: string;
  readonly nodeIds: ReadonlySet<number>;
  /** Our hello on each lane, encoded once. */
  readonly hellos: Readonly<Record<Lane, Buffer>>;
  readonly log: Logger;
  link(peer: number, lane: Lane): PeerLink;
  /** Drops a link's open connection (its peer restarted). */
  detach(link: PeerLink): void;
  refused(): void;
}

/**
 * Answers a dialer's hello. Returns the link the connection now serves (the caller attaches it), or null
 * when the hello was refused: the refusal is sent and the connection closes once it is written.
 */
export function admitHello(context: HandshakeContext, connection: PeerConnection, frame: HelloFrame): PeerLink | null {
  if (frame.kind === 'unsupported-hello') {
    const text = `protocol version ${frame.version} is not supported; this broker speaks version ${PEER_PROTOCOL_VERSION}`;
    return refuse(context, connection, { code: 'unsupported-version', text }, null);
  }
  const { hello } = frame;
  const refusal = inboundRefusal(hello, context) ?? duplicate(context.link(hello.brokerId, hello.lane), hello);
  if (refusal !== null) return refuse(context, connection, refusal, hello);
  const link = context.link(hello.brokerId, hello.lane);
  const previous = link.connection;
  if (previous !== null) {
    // Same broker, new incarnation: the process restarted, and its old socket is dead even if ours has
    // not noticed yet (no FIN after a power loss). Waiting for the idle timeout would delay its return.
    context.log.info({ peer: hello.brokerId, lane: hello.lane, remote: connection.remote, incarnation: hello.incarnationId, previous: previous.peer?.incarnationId }, 'peer restarted, replacing its old connection');
    context.detach(link);
    previous.destroy('replaced by a new incarnation of the peer');
  }
  connection.open(hello);
  connection.write([context.hellos[hello.lane]]);
  return link;
}

/** Checks the acceptor's answer to our hello on `link`; true when the connection opened (the caller attaches it). */
export function confirmHello(context: HandshakeContext, link: PeerLink, connection: PeerConnection, frame: HelloFrame): boolean {
  const where = { peer: link.peer, lane: link.lane, remote: connection.remote };
  if (frame.kind === 'unsupported-hello') {
    context.log.warn({ ...where, version: frame.version }, 'peer answered with an unsupported protocol version, closing connection');
    connection.destroy('unsupported protocol version');
    return false;
  }
  const mismatch = replyMismatch(frame.hello, { brokerId: link.peer, cluster: context.cluster, lane: link.lane });
  if (mismatch !== null) {
    context.log.warn({ ...where, reason: mismatch }, 'peer answered our handshake wrongly, closing connection');
    connection.destroy(mismatch);
    return false;
  }
  connection.open(frame.hello);
  return true;
}

/** A second connection from the same incarnation while its first is open: refused, the first stays. */
function duplicate(link: PeerLink, hello: Hello): Refusal | null {
  if (link.connection?.peer?.incarnationId !== hello.incarnationId) return null;
  return { code: 'duplicate-connection', text: `broker ${hello.brokerId} already has an open ${hello.lane} connection from this incarnation` };
}

function refuse(context: HandshakeContext, connection: PeerConnection, refusal: Refusal, hello: Hello | null): null {
  context.refused();
  context.log.warn({ remote: connection.remote, peer: hello?.brokerId, lane: hello?.lane, code: refusal.code, reason: refusal.text }, 'refused inter-broker handshake');
  connection.write([encodeRefusal(refusal)]);
  connection.end();
  return null;
}
