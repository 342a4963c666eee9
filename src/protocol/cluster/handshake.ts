/**
 * The inter-broker handshake: what each side of a new connection says about itself, and the rules an
 * acceptor and a dialer apply to what they hear. Pure: the transport supplies the facts (its own id, the
 * cluster's node ids, the lane it dialed) and acts on the refusal.
 *
 * Who dials: for each pair of brokers exactly one side, once per lane. A broker outside cluster.nodes (one
 * added to a running cluster) dials those in it: they learn its address only once it registered, which
 * takes a connection. Otherwise the lower id dials the higher. A fixed rule means each pair has exactly
 * one connection per lane without a tie-break between two connections dialed at the same moment (which
 * closes one of them and can flap); the cost is that a restarted broker waits for its peer to redial,
 * which the reconnect backoff's small cap bounds.
 */

/** The protocol version this build speaks. An acceptor refuses any other. */
export const PEER_PROTOCOL_VERSION = 1;

/**
 * Traffic classes, each with its own connection per broker pair: `control` carries small latency-critical
 * messages (votes, heartbeats), `data` the bulk (appends, snapshot chunks), so bulk never delays an election.
 */
export type Lane = 'control' | 'data';
export const LANES: readonly Lane[] = ['control', 'data'];

export const CLUSTER_TEXT_MAX = 256;
export const INCARNATION_TEXT_MAX = 128;

/** The first frame each side sends. */
export interface Hello {
  readonly version: number;
  /** The cluster's identity (clusterIdentity()); both sides must agree (sameCluster()). */
  readonly cluster: string;
  /** The sender's broker id (server.brokerId). */
  readonly brokerId: number;
  /** Differs on every start of the sender's process, so a restart is told apart from a duplicate. */
  readonly incarnationId: string;
  readonly lane: Lane;
}

export type RefusalCode = 'unsupported-version' | 'wrong-cluster' | 'unknown-broker' | 'wrong-direction' | 'duplicate-connection';

export interface Refusal {
  readonly code: RefusalCode;
  readonly text: string;
}

/**
 * What a broker says its cluster is, before it knows the cluster id: the ids in its cluster.nodes,
 * sorted. Brokers that both start new refuse each other when their lists differ, instead of
 * bootstrapping one controller group out of two clusters' brokers.
 */
export function clusterFingerprint(nodeIds: readonly number[]): string {
  const ids = [...new Set(nodeIds)].sort((a, b) => a - b);
  return `nodes:${ids.join(',')}`;
}

/**
 * What a broker says its cluster is once it knows the cluster id (named by the controller when the
 * cluster was created, committed in the metadata). From then on cluster.nodes may differ between brokers
 * (an operator adding or removing one, broker by broker) without splitting the cluster.
 */
export function clusterIdentity(clusterId: string | null, nodeIds: readonly number[]): string {
  return clusterId === null ? clusterFingerprint(nodeIds) : `id:${clusterId}`;
}

/**
 * Whether two brokers' cluster identities belong together: equal ids, or equal fingerprints when neither
 * knows an id yet. A broker that knows no id while the other does is new to the cluster (added, or back
 * with an empty disk) and learns the id from it, so the pair is admitted.
 */
export function sameCluster(a: string, b: string): boolean {
  const aId = a.startsWith('id:');
  return aId === b.startsWith('id:') ? a === b : true;
}

/**
 * Whether `self` dials `peer` (rather than waiting for `peer` to dial it). `listed` holds the ids of
 * cluster.nodes; brokers whose lists differ (an operator editing them broker by broker) may both wait for the
 * other for a pair whose membership they disagree on, until the lists agree again (docs/operations.md).
 */
export function dials(self: number, peer: number, listed: ReadonlySet<number>): boolean {
  const selfListed = listed.has(self);
  if (selfListed !== listed.has(peer)) return !selfListed;
  return self < peer;
}

/** Why an acceptor refuses a dialer's hello (its version is already known to be supported), or null. */
export function inboundRefusal(hello: Hello, self: { brokerId: number; cluster: string; nodeIds: ReadonlySet<number> }): Refusal | null {
  if (!sameCluster(hello.cluster, self.cluster)) return { code: 'wrong-cluster', text: `cluster ${JSON.stringify(hello.cluster)} is not ours (${JSON.stringify(self.cluster)})` };
  // Any other id is welcome: a broker outside cluster.nodes joins by connecting and registering.
  if (hello.brokerId < 1 || hello.brokerId === self.brokerId) {
    return { code: 'unknown-broker', text: `broker id ${hello.brokerId} cannot be a peer of broker ${self.brokerId} (it is 0 or this broker's own id)` };
  }
  if (!dials(hello.brokerId, self.brokerId, self.nodeIds)) {
    const rule = self.nodeIds.has(hello.brokerId) === self.nodeIds.has(self.brokerId) ? 'the lower id dials' : 'a broker outside cluster.nodes dials those in it';
    return { code: 'wrong-direction', text: `broker ${hello.brokerId} must wait for broker ${self.brokerId} to dial (${rule})` };
  }
  return null;
}

/** What is wrong with the acceptor's reply to our hello (its version is already known to be supported), or null. */
export function replyMismatch(hello: Hello, expected: { brokerId: number; cluster: string; lane: Lane }): string | null {
  if (hello.brokerId !== expected.brokerId) return `reached broker ${hello.brokerId} where broker ${expected.brokerId} was expected (check cluster.nodes)`;
  if (!sameCluster(hello.cluster, expected.cluster)) return `broker ${hello.brokerId} is in cluster ${JSON.stringify(hello.cluster)}, not ${JSON.stringify(expected.cluster)}`;
  if (hello.lane !== expected.lane) return `broker ${hello.brokerId} answered on lane ${hello.lane} to a dial on lane ${expected.lane}`;
  return null;
}
