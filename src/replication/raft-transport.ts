/**
 * How a Raft group's driver reaches its peers. One transport serves one group (a multi-raft broker
 * tags the group on the way out and routes it on the way in; heartbeats of many groups between the
 * same two brokers can be coalesced behind this interface).
 */
import type { Message, NodeId } from '../raft/index.ts';

export interface RaftTransport {
  /**
   * Sends `messages`, in order, to peer `to`. Best effort and non-blocking: the network may lose,
   * duplicate, delay or reorder them, and Raft tolerates all of it, so a failure is never thrown
   * back. A transport that knows the peer is unreachable tells the driver (reportUnreachable); one
   * that sent or gave up on a `snapshot` message says so (reportSnapshot). The driver hands out
   * immutable messages it never touches again; the transport must not mutate them either.
   */
  send(to: NodeId, messages: readonly Message[]): void;
  /**
   * Tells peer `to` that this node, leader of the group in `term` with everything up to `commit`
   * committed and replicated everywhere, stops ticking (raft-driver.ts, "Quiescence"). Best effort
   * like send(), and ordered after what send() was given before it on the same peer's control path.
   * Needed only by a driver with the `quiesce` option.
   */
  quiesce?(to: NodeId, term: number, commit: number): void;
  /**
   * Whether peer `to` is known to be down (its link is down). A quiescing leader does not wait for
   * such a member to catch up; the transport wakes the group when the peer comes back. Without it,
   * every peer counts as up.
   */
  peerDown?(to: NodeId): boolean;
}
